"""Customer e-mails: the billing run e-mails each invoice of a contract in
invoice mode as PDF, in the customer's language, through a real SMTP server
(aiosmtpd on a free local port); payment notices carry a secure link whose
token the database only knows hashed; a mail server that is down loses
neither the invoice nor the e-mail.

E-mails are sent by queue tasks after the billing run commits; the tests run
them with env.run_tasks() as a worker would.
"""
import datetime
import email
import hashlib
import logging
import os
import re
import socket
from decimal import Decimal
from email import policy
from unittest.mock import patch

import pytest
from aiosmtpd.controller import Controller

import trytond.config as config
from trytond.exceptions import UserError
from trytond.transaction import Transaction

from demo.company import create_customer
from demo.payment import add_card, create_card_journal
from tests.helpers import confirm, make_catalogue, make_sale, monthly_plan

JAN = datetime.date(2024, 1, 1)
FEB = datetime.date(2024, 2, 1)
MODULE = 'sale_subscription_contract'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class MailServer:
    "A real SMTP server on a free port that keeps what it receives"

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return '250 Message accepted for delivery'

    def forget_attempt(self):
        "The test restarts (see conftest): what it sent was rolled back"
        self.messages.clear()

    def start(self):
        self.controller = Controller(self, hostname='127.0.0.1',
            port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    "Tryton's [email] uri pointed at a running local SMTP server"
    server = MailServer()
    server.start()
    saved = {o: config.get('email', o) for o in ['uri', 'from']}
    config.set('email', 'uri', 'smtp://127.0.0.1:%s' % server.port)
    config.set('email', 'from', 'rechnung@cloudwerk.example')
    try:
        yield server
    finally:
        server.stop()
        for option, value in saved.items():
            config.set('email', option, value)


def german(env):
    "The company has German activated, with this module's translations"
    import trytond.modules.account_invoice as account_invoice
    import trytond.modules.sale_subscription_contract as module
    Lang = env.get('ir.lang')
    Translation = env.get('ir.translation')
    de, = Lang.search([('code', '=', 'de')])
    Lang.write([de], {'translatable': True})
    for name, package in [
            ('account_invoice', account_invoice), (MODULE, module)]:
        Translation.translation_import('de', name, [os.path.join(
                    os.path.dirname(package.__file__), 'locale', 'de.po')])


def customer_with_email(env, name, address, lang_code='de'):
    ContactMechanism = env.get('party.contact_mechanism')
    party = create_customer(name, lang_code=lang_code)
    if address:
        ContactMechanism(party=party, type='email', value=address).save()
    return party


def contract_of(env, party, plan=None, date=JAN):
    "The customer confirms two seats at 29.90 a month"
    Contract = env.get('sale.subscription')
    catalogue = make_catalogue(env)
    plan = plan or monthly_plan(env)
    with env.on(date):
        sale = confirm(env, make_sale(
                env, party, plan, [(catalogue['seat'], 2)], sale_date=date))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


def run_billing(env, date):
    "The billing run of the day, as the cron and the CLI run it"
    Contract = env.get('sale.subscription')
    with env.on(date):
        invoices, errors = Contract.bill(
            Contract.claim(Contract.due_contract_ids(date), date), date)
    assert not errors
    return invoices


def text_of(message):
    "The text part, on one line (html2text, when installed, wraps lines)"
    return ' '.join(
        message.get_body(preferencelist=('plain',)).get_content().split())


def pdfs_of(message):
    return [(part.get_filename(), part.get_content())
        for part in message.iter_attachments()]


def test_german_customer_gets_the_invoice_in_german_as_pdf(env, smtp):
    german(env)
    Email = env.get('ir.email')
    party = customer_with_email(env, "Müller GmbH", 'einkauf@mueller.example')
    contract = contract_of(env, party)

    invoice, = run_billing(env, JAN)
    # nothing leaves before the billing run has committed
    assert smtp.messages == []
    outbox, = contract.customer_emails
    assert (outbox.kind, outbox.state) == ('invoice', 'pending')

    env.run_tasks()
    (recipients, message), = smtp.messages
    assert recipients == ['einkauf@mueller.example']
    assert message['Subject'] == (
        "Rechnung %s zu Ihrem Abonnement %s"
        % (invoice.number, contract.number))
    text = text_of(message)
    assert "Guten Tag Müller GmbH" in text
    assert "vom 01.01.2024" in text
    assert invoice.total_amount == Decimal('71.16')  # 2 × 29.90 + 19 %
    assert "Betrag: 71,16 €" in text
    (filename, pdf), = pdfs_of(message)
    assert filename == 'Rechnung-%s.pdf' % invoice.number
    assert pdf.startswith(b'%PDF')

    outbox, = env.get('sale.subscription')(contract.id).customer_emails
    assert (outbox.state, outbox.language.code) == ('sent', 'de')
    log, = Email.search([('resource', '=', str(invoice))])
    assert outbox.email == log
    assert log.subject == message['Subject']
    assert log.recipients == 'Müller GmbH <einkauf@mueller.example>'
    attachment, = env.get('ir.attachment').search(
        [('resource', '=', str(log))])
    assert (attachment.name, attachment.data) == (filename, pdf)
    assert env.get('account.invoice')(invoice.id).state == 'posted'


def test_invoice_printed_first_in_the_back_office_is_still_sent_as_pdf(
        env, smtp):
    "The ERP keeps an invoice's first print; the e-mail converts that copy"
    ModelData = env.get('ir.model.data')
    InvoiceReport = env.get('account.invoice', type='report')
    party = customer_with_email(env, "Weber AG", 'rechnung@weber.example')
    contract_of(env, party)
    invoice, = run_billing(env, JAN)
    back_office = ModelData.get_id('account_invoice', 'report_invoice')
    ext, odt, _, _ = InvoiceReport.execute(
        [invoice.id], {'action_id': back_office})
    assert ext == 'odt'

    env.run_tasks()
    (_, message), = smtp.messages
    (filename, pdf), = pdfs_of(message)
    assert filename.endswith('-%s.pdf' % invoice.number)
    assert pdf.startswith(b'%PDF')
    # the kept print is unchanged: the back office still gets its ODT
    ext, again, _, _ = InvoiceReport.execute(
        [invoice.id], {'action_id': back_office})
    assert (ext, bytes(again)) == ('odt', bytes(odt))


def test_english_customer_gets_english_and_charge_mode_gets_none(env, smtp):
    german(env)
    english = customer_with_email(
        env, "Smith Ltd", 'accounts@smith.example', lang_code='en')
    contract = contract_of(env, english)
    charged = contract_of(env, customer_with_email(
            env, "Schulz KG", 'buchhaltung@schulz.example'),
        plan=monthly_plan(env, invoicing_mode='charge'))
    # with a card: charged, not e-mailed (without one the invoice is sent)
    charged.payment_method = add_card(
        create_card_journal(env.company), charged.party)
    charged.save()

    invoices = run_billing(env, JAN)
    assert len(invoices) == 2
    env.run_tasks()

    # the contract whose card is charged gets no invoice e-mail here
    assert env.get('sale.subscription')(charged.id).customer_emails == ()
    (recipients, message), = smtp.messages
    invoice, = [i for i in invoices if i.party == english]
    assert recipients == ['accounts@smith.example']
    assert message['Subject'] == (
        "Invoice %s for your subscription %s"
        % (invoice.number, contract.number))
    text = text_of(message)
    assert "Dear Smith Ltd" in text
    assert "71.16" in text
    (filename, pdf), = pdfs_of(message)
    assert filename == 'Invoice-%s.pdf' % invoice.number
    assert pdf.startswith(b'%PDF')


def test_hard_decline_sends_a_link_stored_only_hashed(env, smtp):
    german(env)
    Contract = env.get('sale.subscription')
    AccessToken = env.get('sale.subscription.access_token')
    Email = env.get('ir.email')
    party = customer_with_email(env, "Müller GmbH", 'einkauf@mueller.example')
    contract = contract_of(env, party)
    invoice, = run_billing(env, JAN)
    env.run_tasks()
    smtp.messages.clear()

    # the payments module reports a hard decline of the stored card
    contract.notify_customer(
        'payment_failed', invoice=invoice, payment=None, hard=True)
    env.run_tasks()

    (recipients, message), = smtp.messages
    assert message['Subject'] == (
        "Zahlung für Rechnung %s fehlgeschlagen" % invoice.number)
    text = text_of(message)
    assert "Bitte hinterlegen Sie eine neue Zahlungsmethode" in text
    assert "71,16 €" in text
    assert "Der Link ist 14 Tage gültig" in text
    link, token = re.search(
        r'(\S+/portal/payment_method/([A-Za-z0-9_-]{43}))', text).groups()
    (filename, pdf), = pdfs_of(message)
    assert pdf.startswith(b'%PDF')

    stored, = AccessToken.search([('subscription', '=', contract.id)])
    assert stored.purpose == 'payment_method'
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # neither the token table nor the e-mail log holds the token in clear
    cursor = Transaction().connection.cursor()
    for table in ['sale_subscription_access_token', 'ir_email']:
        cursor.execute('SELECT * FROM "%s"' % table)
        assert token not in repr(cursor.fetchall())
    log, = Email.search([('subject', '=', message['Subject'])])
    assert '/portal/payment_method/***' in log.body

    now = datetime.datetime.now()
    assert (datetime.timedelta(days=13, hours=23)
        < stored.expires_at - now <= datetime.timedelta(days=14))
    assert AccessToken.check(token, 'payment_method') == contract
    # the link is for the payment method, not for anything else
    with pytest.raises(UserError, match="This link is not valid"):
        AccessToken.check(token, 'pay')
    # 15 days later it no longer opens
    later = now + datetime.timedelta(days=15)
    with patch.object(AccessToken, '_now', return_value=later):
        with pytest.raises(UserError) as error:
            AccessToken.check(token, 'payment_method')
    assert contract.number in error.value.message
    assert "expired" in error.value.message

    # a soft decline asks for nothing but offers to pay now
    smtp.messages.clear()
    Contract(contract.id).notify_customer(
        'payment_failed', invoice=invoice, payment=None, hard=False)
    env.run_tasks()
    (_, message), = smtp.messages
    text = text_of(message)
    assert "Wir versuchen es in einigen Tagen erneut" in text
    assert re.search(r'/portal/pay/[A-Za-z0-9_-]{43}', text)


def test_mail_server_down_keeps_the_invoice_and_retries(env, smtp, caplog):
    CustomerEmail = env.get('sale.subscription.customer_email')
    Email = env.get('ir.email')
    party = customer_with_email(env, "Müller GmbH", 'einkauf@mueller.example')
    contract = contract_of(env, party)
    smtp.stop()

    invoice, = run_billing(env, JAN)
    with caplog.at_level(logging.WARNING):
        env.run_tasks()

    invoice = env.get('account.invoice')(invoice.id)
    assert invoice.state == 'posted'
    assert invoice.total_amount == Decimal('71.16')
    outbox, = CustomerEmail.search([('subscription', '=', contract.id)])
    assert (outbox.state, outbox.attempts) == ('failed', 1)
    assert 'Connection refused' in outbox.error
    assert any('customer e-mail' in r.getMessage() and 'failed' in
        r.getMessage() for r in caplog.records)
    assert Email.search([('resource', '=', str(invoice))]) == []
    # the next billing run finds nothing left to bill
    assert env.get('sale.subscription').due_contract_ids(JAN) == []

    # the server is back: the hourly cron sends what failed
    smtp.start()
    CustomerEmail.retry_failed()
    env.run_tasks()
    (recipients, message), = smtp.messages
    assert recipients == ['einkauf@mueller.example']
    assert invoice.number in message['Subject']
    outbox = CustomerEmail(outbox.id)
    assert (outbox.state, outbox.attempts) == ('sent', 1)
    assert outbox.email.subject == message['Subject']


def test_customer_without_address_is_reported_and_retried_later(env, smtp):
    CustomerEmail = env.get('sale.subscription.customer_email')
    ContactMechanism = env.get('party.contact_mechanism')
    party = customer_with_email(env, "Ohne Adresse AG", None)
    contract = contract_of(env, party)

    run_billing(env, JAN)
    env.run_tasks()
    outbox, = CustomerEmail.search([('subscription', '=', contract.id)])
    assert outbox.state == 'failed'
    assert contract.rec_name in outbox.error
    assert "has no e-mail address. Add one to the customer" in outbox.error
    assert smtp.messages == []

    ContactMechanism(party=party, type='email',
        value='info@ohne-adresse.example').save()
    CustomerEmail.retry([outbox])
    env.run_tasks()
    assert CustomerEmail(outbox.id).state == 'sent'
    (recipients, _), = smtp.messages
    assert recipients == ['info@ohne-adresse.example']


def test_unknown_notice_is_refused(env, smtp):
    party = customer_with_email(env, "Müller GmbH", 'einkauf@mueller.example')
    contract = contract_of(env, party)
    with pytest.raises(ValueError):
        contract.notify_customer('birthday', invoice=None)
    assert env.get('sale.subscription')(contract.id).customer_emails == ()


def test_cron_sends_what_no_worker_ran(env, smtp):
    "Without a worker, e-mails queued by the CLI wait for the hourly cron"
    CustomerEmail = env.get('sale.subscription.customer_email')
    party = customer_with_email(env, "Müller GmbH", 'einkauf@mueller.example')
    contract = contract_of(env, party)
    run_billing(env, JAN)
    Transaction().tasks.clear()  # nobody runs the queue
    outbox, = CustomerEmail.search([('subscription', '=', contract.id)])

    CustomerEmail.retry_failed()  # too early: its task may still run
    assert Transaction().tasks == []
    table = CustomerEmail.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.update([table.create_date],
            [datetime.datetime.now() - datetime.timedelta(minutes=20)],
            where=table.id == outbox.id))
    CustomerEmail.retry_failed()
    env.run_tasks()
    assert CustomerEmail(outbox.id).state == 'sent'
    (recipients, _), = smtp.messages
    assert recipients == ['einkauf@mueller.example']
