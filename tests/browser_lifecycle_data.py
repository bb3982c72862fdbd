"""Build the database of the lifecycle browser tests (test_browser_lifecycle
.py): a German company with the contracts a subscription manager pauses,
closes, reopens, renews, gives a card, and whose charge failed or whose
invoice was e-mailed, all dated from today.

Run in its own process on its own database (DB_NAME, and
TRYTOND_DATABASE__PATH on SQLite), the module activated from Tryton's test
database cache (DB_CACHE): set-up in Python is much quicker than over RPC.
The billing of the contracts charged and e-mailed runs here, with a real
SMTP server (aiosmtpd) for the invoice e-mails, as the nightly run would.
It writes what the tests look for as JSON into OUT.

    python tests/browser_lifecycle_data.py PASSWORD OUT
"""
import datetime
import json
import os
import sys

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
from demo.payment import DECLINED, add_card, create_card_journal  # noqa
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)
from helpers import bill, confirm, make_catalogue, make_sale  # noqa: E402
from test_email import MailServer  # noqa: E402

SEAT = '29.90'  # make_catalogue's seat, a month


def contract_for(env, name, plan, start, seats=2, email=None):
    "The contract the customer `name` gets by confirming a quotation"
    pool = Pool()
    Contract = pool.get('sale.subscription')
    ContactMechanism = pool.get('party.contact_mechanism')
    party = create_customer(name)
    if email:
        ContactMechanism(party=party, type='email', value=email).save()
    products = env.catalogue
    sale = confirm(env, make_sale(env, party, plan,
            [(products['seat'], seats)], sale_date=start, start_date=start))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    assert contract.state == 'running', contract.state
    return contract


def setup(password, filler=None):
    """The admin's password, the company with its accounts and taxes, then
    filler(env, today) (fill by default): its facts"""
    pool = Pool()
    User = pool.get('res.user')
    # sao logs in as admin/admin (too short for the password rules)
    User.write([User(USER)], {
            'password_hash': User.hash_password(password),
            'email': 'admin@example.com'})
    # no "Module Configuration" wizard at login: closing it builds the menu
    # again, and a click on a row of the first one is lost
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
        return (filler or fill)(Env(company), today)


def fill(env, today):
    company = env.company
    env.catalogue = make_catalogue(env)
    monthly = create_plan(company, "Monatlich", 'monthly')
    pausable = create_plan(company, "Monatlich mit Pause", 'monthly',
        pause_allowed=True, pause_max_days=90)
    quarter = create_plan(company, "Quartal fest", 'monthly',
        duration='fixed', duration_periods=3, renewal='manual',
        renewal_notice_days=14)
    card = create_plan(company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge')
    journal = create_card_journal(company)
    # a period begun ten days ago, ending within the month
    started = today - datetime.timedelta(days=10)
    while started.day > 28:
        started -= datetime.timedelta(days=1)

    facts = {'today': today.isoformat(), 'started': started.isoformat(),
        'journal': journal.rec_name, 'seat': SEAT}

    def keep(key, contract, **values):
        facts[key] = dict(party=contract.party.rec_name,
            number=contract.number, plan=contract.plan.rec_name,
            start=contract.start_date.isoformat(),
            end=contract.end_date.isoformat() if contract.end_date else None,
            mrr=str(contract.mrr), **values)

    # not invoiced yet: a pause begins today
    keep('pause', contract_for(env, "Pause GmbH", pausable, today))
    keep('close_today', contract_for(env, "Schluss AG", monthly, started))
    keep('close_end', contract_for(env, "Periodenende KG", monthly, started))
    keep('renew', contract_for(env, "Verlängerung OHG", quarter, started))
    keep('add_card', contract_for(env, "Kartenkunde GmbH", card, today))

    # the nightly run bills a declined card and an invoice sent by e-mail
    declined = contract_for(env, "Abgelehnt e.K.", card, today)
    declined.payment_method = add_card(journal, declined.party, DECLINED)
    declined.save()
    mailed = contract_for(env, "Rechnung per Post GmbH", monthly, today,
        email='buchhaltung@rechnung-post.example')
    invoices = {}
    for contract in [declined, mailed]:
        invoice, = bill(env, contract, today)
        invoices[contract.id] = invoice
    env.run_tasks()
    Contract = env.get('sale.subscription')
    declined, mailed = Contract.browse([declined.id, mailed.id])
    assert declined.payment_failed and declined.payment_method_needed
    keep('declined', declined, invoice=invoices[declined.id].number,
        card=declined.payment_method.rec_name,
        retry=declined.next_payment_retry.isoformat())
    keep('mailed', mailed, invoice=invoices[mailed.id].number)
    return facts


def main(password, out):
    mail = MailServer()
    mail.start()
    config.set('email', 'uri', f'smtp://127.0.0.1:{mail.port}')
    config.set('email', 'from', 'rechnung@abo-software.example')
    try:
        activate_module([MODULE, *EXTRAS])
        facts = in_transaction(DB_NAME, lambda: setup(password), user=USER)
    finally:
        mail.stop()
    facts['mails'] = [
        {'to': to, 'subject': message['Subject']}
        for to, message in mail.messages]
    with open(out, 'w') as file:
        json.dump(facts, file)


if __name__ == '__main__':
    main(*sys.argv[1:])
