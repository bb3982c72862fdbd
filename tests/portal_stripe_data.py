"""The database of test_portal_stripe.py: the company of
portal_quotation_data.py with a Stripe account and journal (which the
quotation page then takes the card through) and two quotations confirmed
by payment, one of a customer who is not known to Stripe yet, one of a
customer who is, one whose bank asks for 3-D Secure; and a running
contract without a card, with a secure link to give it one. Run in its own process (see rpc_server.build):

    python tests/portal_stripe_data.py PASSWORD OUT
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

from conftest import EXTRAS, MODULE  # noqa: E402
from demo.company import create_customer, create_plan  # noqa: E402
from demo.portal import portal_account  # noqa: E402
from helpers import confirm, make_catalogue, make_sale  # noqa: E402
from portal_quotation_data import setup  # noqa: E402
from stripe_helpers import stripe_journal  # noqa: E402
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)

KNOWN_CUSTOMER = 'cus_RqQuoteKnown001'
# the portal account of the customer with a contract
CUSTOMER_PASSWORD = 'kartenkunde-2026'


def fill(env, today, password):
    pool = Pool()
    Sale = pool.get('sale.sale')
    Customer = pool.get('account.payment.stripe.customer')
    products = make_catalogue(env)
    plan = create_plan(env.company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge')
    # with the test processor's journal, which it books like
    journal = stripe_journal(env)

    def quotation(name, lines):
        party = create_customer(name, lang_code='de',
            email='einkauf@%s.example' % name.split()[0].lower())
        sale = make_sale(env, party, plan, lines, sale_date=today,
            start_date=today)
        sale.quotation_validity = datetime.timedelta(days=30)
        sale.online_confirmation = 'payment'
        sale.save()
        return sale

    seats = [(products['seat'], 2)]
    sales = {
        # its first payment: the first period and the one-time setup
        'new': quotation("Neukunde GmbH", seats + [(products['setup'], 1)]),
        'known': quotation("Stammkunde AG", seats),
        # its bank asks for 3-D Secure
        'secure': quotation("Sicherkunde GmbH", seats),
        }
    Customer(party=sales['known'].party,
        stripe_account=journal.stripe_account,
        stripe_customer_id=KNOWN_CUSTOMER).save()
    Sale.quote(list(sales.values()))
    # a running contract without a card: its card page and payment link
    # take one through Stripe
    Contract = pool.get('sale.subscription')
    card_customer = create_customer("Kartenkunde GmbH", lang_code='de',
        email='einkauf@kartenkunde.example')
    card_sale = confirm(env, make_sale(env, card_customer, plan, seats,
            sale_date=today, start_date=today))
    contract, = Contract.search([('origin_sale', '=', card_sale.id)])
    card = {'id': contract.id, 'number': contract.number,
        'token': contract.create_access_link('payment_method').rsplit(
            '/', 1)[1],
        'email': portal_account(card_customer, CUSTOMER_PASSWORD)}
    return {'card': card, 'sales': {k: {
                'id': s.id, 'number': s.number, 'party': s.party.name,
                'token': Sale(s.id).quotation_link().rsplit('/', 1)[1],
                'first_invoice_total': str(
                    Sale(s.id).first_invoice_total),
                'recurring_total': str(Sale(s.id).recurring_total),
                } for k, s in sales.items()}}


def main(password, out):
    config.set('subscription', 'portal_url', 'http://portal.example/portal')
    activate_module([MODULE, *EXTRAS])
    facts = in_transaction(DB_NAME, lambda: setup(password, fill),
        user=USER)
    with open(out, 'w') as file:
        json.dump(facts, file, default=str)


if __name__ == '__main__':
    main(*sys.argv[1:])
