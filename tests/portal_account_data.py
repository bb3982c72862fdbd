"""Build the database of the portal account tests (test_portal_account.py):
a German company, two customers with a portal account each (web users) and
contracts the first one changes, closes, pauses, pays and gives a card in
the portal; the second one's records are what the first must never reach.

Run in its own process on its own database (as browser_lifecycle_data.py);
German is loaded for the portal's texts. It writes the facts the tests look
for (ids, numbers, clear link tokens) as JSON into OUT.

    python tests/portal_account_data.py PASSWORD OUT
"""
import datetime
from decimal import Decimal
import hashlib
import json
import os
import re
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(TESTS), TESTS]

import trytond.config as config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, USER, activate_module)
from trytond.transaction import Transaction  # noqa: E402

from browser_lifecycle_data import contract_for  # noqa: E402
from conftest import EXTRAS, MODULE, Env  # noqa: E402
from demo.company import (  # noqa: E402
    create_chart, create_company, create_fiscalyears, create_plan,
    create_taxes)
from demo.payment import (  # noqa: E402
    DECLINED, INSUFFICIENT_FUNDS, add_card, create_card_journal)
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)
from helpers import bill, make_catalogue, make_sale  # noqa: E402
from test_email import MailServer  # noqa: E402

PASSWORD_A = 'Kund3n-Portal-Pa55'
PASSWORD_B = 'Andere-Kund1n-Pa55'


def load_german():
    "German texts of the module and web_user, as trytond-admin -l de would"
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    lang, = Lang.search([('code', '=', 'de')])
    lang.translatable = True
    lang.save()
    import trytond.modules as modules
    for module in [MODULE, 'web_user']:
        po = os.path.join(os.path.dirname(modules.__file__), module,
            'locale', 'de.po')
        Translation.translation_import('de', module, po)


def web_user(party, email, password):
    WebUser = Pool().get('web.user')
    user = WebUser(email=email, party=party, password=password)
    user.save()
    return user


def setup(password):
    pool = Pool()
    User = pool.get('res.user')
    User.write([User(USER)], {
            'password_hash': User.hash_password(password),
            'email': 'admin@example.com'})
    load_german()
    company = create_company()
    with Transaction().set_context(company=company.id,
            companies=[company.id]):
        # the company's day (its time zone), as the server's pages show it
        today = pool.get('ir.date').today()
        create_chart(company)
        create_fiscalyears(company, today.year - 1, today.year + 2)
        create_taxes(company)
        return fill(Env(company), today)


def fill(env, today):
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Option = pool.get('sale.sale.option')
    WebUser = pool.get('web.user')
    company = env.company
    env.catalogue = make_catalogue(env)
    products = env.catalogue
    plus = create_plan(company, "Flex Plus", 'monthly',
        customer_access='upgrade_downgrade')
    flex = create_plan(company, "Flex", 'monthly',
        customer_access='upgrade_downgrade', pause_allowed=True,
        pause_max_days=90, related_plans=[plus])
    fixed = create_plan(company, "Basis", 'monthly',
        customer_access='restricted', customer_can_close=False)
    card = create_plan(company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge')
    journal = create_card_journal(company)
    started = today - datetime.timedelta(days=10)
    while started.day > 28:
        started -= datetime.timedelta(days=1)

    email_a = 'kunde-a@example.com'
    change = contract_for(env, "Kunde A GmbH", flex, started, email=email_a)
    party_a = change.party
    sale = change.origin_sale
    Option(sale=sale, product=products['backup'], quantity=1,
        unit_price=Decimal('9.99')).save()
    # a second contract of the same customer
    close = confirmed(env, party_a, flex, started)
    restricted = confirmed(env, party_a, fixed, started)
    pay = confirmed(env, party_a, card, today)
    pay.payment_method = add_card(journal, party_a, INSUFFICIENT_FUNDS)
    pay.save()
    # paid again from the contract page once its card is replaced
    retry = confirmed(env, party_a, card, today)
    retry.payment_method = add_card(journal, party_a, INSUFFICIENT_FUNDS)
    retry.save()
    method = confirmed(env, party_a, card, today)
    method.payment_method = add_card(journal, party_a, DECLINED)
    method.save()
    quotation = make_sale(env, party_a, flex, [(products['seat'], 5)],
        sale_date=today, start_date=today)

    # a subsidiary whose documents customer A's web user also manages (a
    # secondary party of the web user)
    subsidiary = contract_for(env, "Kunde A Tochter GmbH", flex, started,
        email='tochter@example.com')
    other = contract_for(env, "Kunde B AG", flex, started,
        email='kunde-b@example.com')
    other_quotation = make_sale(env, other.party, flex,
        [(products['seat'], 1)], sale_date=today, start_date=today)
    Sale = pool.get('sale.sale')
    Sale.quote([quotation, other_quotation])
    invoices = {}
    for contract in [change, close, restricted, subsidiary, other]:
        invoices[contract.id], = bill(env, contract, started)
    for contract in [pay, method, retry]:
        bill(env, contract, today)
    env.run_tasks()
    pay, method, retry = Contract.browse([pay.id, method.id, retry.id])
    assert pay.payment_failed and not pay.payment_method_needed
    assert method.payment_failed and method.payment_method_needed

    user_a = web_user(party_a, email_a, PASSWORD_A)
    web_user(other.party, 'kunde-b@example.com', PASSWORD_B)
    web_user(other.party, 'gesperrt@example.com', PASSWORD_B)
    # a sign-in link of customer A that expired a minute ago
    expired = 'abgelaufen-' + 'x' * 32
    WebUser.write([user_a], {
            'sign_in_link_hash': hashlib.sha256(
                expired.encode()).hexdigest(),
            'sign_in_link_expires': datetime.datetime.utcnow()
            - datetime.timedelta(minutes=1),
            'secondary_parties': [('add', [subsidiary.party.id])],
            })
    # a link of customer B's contract, spent
    used_link = other.create_access_link('pay')
    AccessToken = pool.get('sale.subscription.access_token')
    AccessToken.write(AccessToken.search([
                ('subscription', '=', other.id)]), {'used': True})

    def facts(contract):
        return {'id': contract.id, 'number': contract.number,
            'invoice': invoices[contract.id].number
            if contract.id in invoices else None,
            'invoice_id': invoices[contract.id].id
            if contract.id in invoices else None}
    return {
        'today': today.isoformat(), 'started': started.isoformat(),
        'email_a': email_a, 'password_a': PASSWORD_A,
        'email_b': 'kunde-b@example.com', 'password_b': PASSWORD_B,
        'party_a': party_a.id, 'party_b': other.party.id,
        'change': facts(change), 'close': facts(close),
        'restricted': facts(restricted), 'other': facts(other),
        'subsidiary': facts(subsidiary),
        'pay': dict(facts(pay), invoice=pay.dunning_invoice.number),
        'method': dict(facts(method), invoice=method.dunning_invoice.number),
        'retry': dict(facts(retry), invoice=retry.dunning_invoice.number,
            invoice_id=retry.dunning_invoice.id),
        'used_token': used_link.rsplit('/', 1)[1],
        'expired_link': expired,
        'plus': plus.id, 'quotation': quotation.id,
        'quotation_number': Sale(quotation.id).number,
        'other_quotation': other_quotation.id,
        'option': products['backup'].subscription_services[0].id,
        'seat_service': change.lines[0].service.id,
        'line': change.lines[0].id,
        'address_b': other.party.addresses[0].id,
        }


def confirmed(env, party, plan, start):
    "A contract of an existing customer, from a confirmed quotation"
    from helpers import confirm
    Contract = Pool().get('sale.subscription')
    sale = confirm(env, make_sale(env, party, plan,
            [(env.catalogue['seat'], 2)], sale_date=start,
            start_date=start))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


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
    # the dunning e-mails' secure links, as the customer clicks them
    facts['mail_links'] = {}
    for to, message in mail.messages:
        body = message.get_body(('plain', 'html')).get_content()
        for url, purpose, token in re.findall(
                r'(https?://\S+?/(pay|payment_method)/([\w-]{43}))', body):
            facts['mail_links'][purpose] = url
    with open(out, 'w') as file:
        json.dump(facts, file)


if __name__ == '__main__':
    main(*sys.argv[1:])
