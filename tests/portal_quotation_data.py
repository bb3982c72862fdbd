"""The database of the quotation page tests (test_portal_quotation.py):
a German company, a salesperson with a user, and quotations sent by the
back office's Send by E-mail to a real SMTP server (aiosmtpd), whose
e-mailed links the tests open. Run in its own process (see rpc_server.build):

    python tests/portal_quotation_data.py build PASSWORD OUT
    python tests/portal_quotation_data.py first_invoice SALE_ID OUT

`first_invoice` runs, on the database the server uses, the billing of the
contract the accepted sale made and writes its first invoice's total.
"""
import datetime
import io
import json
import os
import re
import sys
import zipfile
from decimal import Decimal

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(TESTS), TESTS]

import trytond.config as config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, USER, activate_module)
from trytond.transaction import Transaction  # noqa: E402

from conftest import EXTRAS, MODULE, Env  # noqa: E402
from demo.company import (  # noqa: E402
    create_chart, create_company, create_customer, create_fiscalyears,
    create_plan, create_taxes)
from demo.payment import create_card_journal  # noqa: E402
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)
from helpers import bill, make_catalogue, make_sale  # noqa: E402
from test_email import MailServer  # noqa: E402

LINK = re.compile(r'/quotation/([A-Za-z0-9_-]{43})')


def setup(password, fill=None):
    "The company, its salesperson and fill's quotations (default: ours)"
    fill = fill or globals()['fill']
    pool = Pool()
    User = pool.get('res.user')
    User.write([User(USER)], {
            'password_hash': User.hash_password(password),
            'email': 'admin@example.com'})
    # German for the module's texts (the portal's, the e-mail's), as
    # trytond-admin -l de loads it, without updating the modules again
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    Lang.write(Lang.search([('code', '=', 'de')]), {'translatable': True})
    Translation.translation_import('de', MODULE, os.path.join(
            os.path.dirname(TESTS), MODULE, 'locale', 'de.po'))
    # no "Module Configuration" wizard when sao logs in
    Item = pool.get('ir.module.config_wizard.item')
    Item.write(Item.search([]), {'state': 'done'})
    company = create_company()
    with Transaction().set_context(company=company.id,
            companies=[company.id]):
        # the company's day (its time zone), as the server's pages show it
        today = pool.get('ir.date').today()
        create_chart(company)
        create_fiscalyears(company, today.year - 1, today.year + 2)
        create_taxes(company)
        return fill(Env(company), today, password)


def salesperson(company, password):
    "An employee with a user of the back office: the quotations' contact"
    pool = Pool()
    Party = pool.get('party.party')
    Employee = pool.get('company.employee')
    User = pool.get('res.user')
    party = Party(name="Vera Verkauf")
    party.save()
    employee = Employee(party=party, company=company)
    employee.save()
    ModelData = pool.get('ir.model.data')
    user = User(login='verkauf', name="Vera Verkauf",
        companies=[company], company=company,
        employees=[employee], employee=employee,
        groups=[ModelData.get_id('sale', 'group_sale')])
    user.save()
    User.write([user], {'password_hash': User.hash_password(password)})
    return employee, user


def fill(env, today, password):
    pool = Pool()
    Sale = pool.get('sale.sale')
    Option = pool.get('sale.sale.option')
    company = env.company
    products = make_catalogue(env)
    plan = create_plan(company, "Monatlich", 'monthly')
    card_plan = create_plan(company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge')
    create_card_journal(company)
    employee, user = salesperson(company, password)

    def quotation(name, lines, confirmation='signature', options=True,
            email=True, lang='de', plan=plan):
        party = create_customer(name, lang_code=lang,
            email=('einkauf@%s.example' % name.split()[0].lower())
            if email else None)
        sale = make_sale(env, party, plan, lines, sale_date=today,
            start_date=today)
        sale.quotation_validity = datetime.timedelta(days=30)
        sale.online_confirmation = confirmation
        sale.salesperson = employee
        sale.comment = "Laufzeit monatlich, kündbar zum Periodenende."
        if options:
            sale.options = [Option(product=products['backup'], quantity=1,
                    unit_price=Decimal('9.99'))]
        sale.save()
        return sale

    seats = [(products['seat'], 2)]
    sales = {
        # the browser's: recurring only, its first invoice is the
        # contract's first one
        'browser': quotation("Browser Kunde GmbH", seats),
        'http': quotation("Anfrage AG", seats + [(products['setup'], 1)],
            lang='en'),
        'other': quotation("Andere KG", seats),
        'race': quotation("Doppelklick GmbH", seats),
        'decline': quotation("Absage OHG", seats),
        # a one-time line too: the card pays it with the first period
        'payment': quotation("Zahlung GmbH", seats + [(products['setup'], 1)],
            confirmation='payment', plan=card_plan),
        'expired': quotation("Abgelaufen e.K.", seats),
        'cancelled': quotation("Storniert GmbH", seats),
        }
    # left in draft: sao's Send by E-mail is clicked on it
    draft = quotation("Entwurf GmbH", seats)
    # the back office's button: quotes them and e-mails the links (the
    # others only get their links: a PDF costs seconds)
    Sale.send_quotation([sales['browser'], sales['http']])
    linked = [k for k in sales if k not in {'browser', 'http'}]
    Sale.quote([sales[k] for k in linked])
    tokens = {k: Sale(sales[k].id).quotation_link().rsplit('/', 1)[1]
        for k in linked}
    sales = {k: Sale(s.id) for k, s in sales.items()}
    Sale.cancel([sales['cancelled']])
    # sent 40 days ago: its 30 days of validity are over
    long_ago = today - datetime.timedelta(days=40)
    Sale.write([sales['expired']], {'quotation_date': long_ago})
    AccessToken = pool.get('sale.subscription.access_token')
    AccessToken.write(
        AccessToken.search([('sale', '=', sales['expired'].id)]),
        {'expires_at': datetime.datetime.combine(
                long_ago + datetime.timedelta(days=31), datetime.time())})
    return {
        'draft': {'id': draft.id, 'party': draft.party.name,
            'email': draft.party.email},
        'today': today.isoformat(),
        'user': user.login,
        'sales': {k: {
                'id': s.id, 'number': s.number, 'party': s.party.name,
                'email': s.party.email, 'state': s.state,
                'option': s.options[0].id if s.options else None,
                'recurring_total': str(s.recurring_total),
                'one_time_total': str(s.one_time_total),
                'first_invoice_total': str(s.first_invoice_total),
                'token': tokens.get(k),
                } for k, s in sales.items()},
        }


def first_invoice(sale_id):
    pool = Pool()
    Sale = pool.get('sale.sale')
    Contract = pool.get('sale.subscription')
    sale = Sale(int(sale_id))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    with Transaction().set_context(company=sale.company.id,
            companies=[sale.company.id]):
        env = Env(sale.company)
        Period = pool.get('sale.subscription.period')
        periods = Period.search([('subscription', '=', contract.id)],
            order=[('start_date', 'ASC')], limit=1)
        if periods and periods[0].invoice:
            # billed at the acceptance (paid by card online)
            invoice = periods[0].invoice
        else:
            # billed today at the earliest: an earlier test of the file
            # may have posted an invoice today (invoice numbers follow
            # their dates)
            Date = pool.get('ir.date')
            invoice, = bill(env, contract,
                max(contract.start_date, Date.today()))
        # the quotation as printed (ODT: no conversion needed to read it)
        Report = pool.get('sale.sale.subscription_quotation', type='report')
        with Transaction().set_context(language=sale.party.lang.code):
            _, data, _, _ = Report.execute([sale.id], {})
        document = zipfile.ZipFile(io.BytesIO(data))
        return {'printed': re.sub(r'<[^>]+>', ' ',
                document.read('content.xml').decode()),
            'pictures': len([n for n in document.namelist()
                    if n.startswith('Pictures/')]),
            'contract': contract.number, 'state': contract.state,
            'payment_method': bool(contract.payment_method),
            'total': str(invoice.total_amount),
            'invoice_state': invoice.state,
            'sale_invoices': [(str(i.total_amount), i.state)
                for i in sale.invoices]}


def main(command, *args):
    *args, out = args
    if command == 'build':
        mail = MailServer()
        mail.start()
        config.set('email', 'uri', f'smtp://127.0.0.1:{mail.port}')
        config.set('email', 'from', 'angebot@abo-software.example')
        config.set('subscription', 'portal_url',
            'http://portal.example/portal')
        try:
            activate_module([MODULE, *EXTRAS])
            facts = in_transaction(DB_NAME, lambda: setup(*args), user=USER)
        finally:
            mail.stop()
        by_address = {s['email']: s for s in facts['sales'].values()}
        for to, message in mail.messages:
            sale = by_address[to[0]]
            body = message.get_body(('html',)).get_content()
            sale['subject'] = message['Subject']
            sale['token'] = LINK.search(body).group(1)
            sale['attachments'] = [
                (part.get_filename(), part.get_content_type())
                for part in message.iter_attachments()]
    else:
        Pool(DB_NAME).init()
        facts = in_transaction(DB_NAME, lambda: first_invoice(*args),
            user=USER)
    with open(out, 'w') as file:
        json.dump(facts, file)


if __name__ == '__main__':
    main(*sys.argv[1:])
