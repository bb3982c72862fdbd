"""The quotation page with a Stripe journal (models/quotation_stripe.py, models/stripe_card.py),
against a real trytond whose stripe library talks over HTTP to the recorded
Stripe of stripe_helpers.py (tests/stripe_trytond.py): the page shows
Stripe Elements instead of card fields and allows js.stripe.com; accepting
posts only a payment method id, which the server attaches to the customer
at Stripe, confirms for off-session use and stores as the contract's method
before the first invoice is charged; every refusal of Stripe (declined,
unknown id, no answer) is a message and writes nothing. When the bank asks
the customer to confirm the card (3-D Secure), nothing is accepted until
the page posts the confirmed setup intent, which the server reads back.
The data: tests/portal_stripe_data.py.

Not covered: Stripe.js itself (js.stripe.com is not reachable offline, so
no browser test turns a card into a pm_... id or opens a bank's window:
the tests post what the page's script posts); the recorded bodies are
written after Stripe's API reference, not captured from it.
"""
import os
import re
import subprocess
import sys
import urllib.parse
from decimal import Decimal
from pathlib import Path

import pytest
import requests

import rpc_server
from portal_fixture import sign_in, snapshot, value
from portal_stripe_data import CUSTOMER_PASSWORD, KNOWN_CUSTOMER
from stripe_helpers import PUBLISHABLE_KEY, StripeOverHTTP
from test_browser import ADMIN_PASSWORD, sao_root, serve  # noqa: F401

pytestmark = [pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
NEW_CUSTOMER = 'cus_RqQuoteNeukunde1'
NEW_METHOD = 'pm_1QxQuoteMc4444new'
KNOWN_METHOD = 'pm_1QxQuoteVisaKnown'
SECURE_CUSTOMER = 'cus_RqQuoteSicher01'
SETUP_3DS = 'seti_1QxQuoteSetup3ds'
ACCEPTED = 'Sie haben dieses Angebot am'
UNREADABLE = 'Die Karte konnte nicht gelesen werden'
TRIES = 2


@pytest.fixture(scope='module')
def server(tmp_path_factory, sao_root):  # noqa: F811
    "trytond on a database of its own, its Stripe the recorded one"
    tmp = tmp_path_factory.mktemp('quotation_stripe')
    name, uri, path = rpc_server.database_for(tmp, 'quotation_stripe')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(TESTS / 'portal_stripe_data.py', name, path,
        [ADMIN_PASSWORD], tmp / 'data.log')
    stripe = StripeOverHTTP()
    port = serve.free_port()
    config = serve.write_config(
        str(tmp / 'trytond.conf'), uri, port, path, sao_root, extra={
            # the stripe library's tries after a lost connection: one
            'account_payment_stripe': {'max_network_retries': TRIES - 1}})
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')
        and k not in {'DB_NAME', 'DB_CACHE'}}
    env.update(RECORDED_STRIPE=stripe.url, NO_PROXY='127.0.0.1')
    log = open(tmp / 'server.log', 'w')
    process = subprocess.Popen(
        [sys.executable, str(TESTS / 'stripe_trytond.py'), '-c', config,
            '-d', name], stdout=log, stderr=log, env=env)
    url = f'http://127.0.0.1:{port}/'
    try:
        serve.wait_port('127.0.0.1', port, proc=process)
        yield dict(facts, url=url, database=name, path=path, uri=uri,
            stripe=stripe, portal=f'{url}{name}/portal',
            admin=rpc_server.Session(f'{url}{name}/rpc/', 'admin',
                ADMIN_PASSWORD))
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        stripe.stop()
        if not path:
            rpc_server.drop_postgresql(uri, name)


@pytest.fixture
def stripe(server):
    "The recorded Stripe, with no answer left over from the test"
    recorded = server['stripe']
    recorded.stripe.requests.clear()
    yield recorded.stripe
    assert not recorded.failures, recorded.failures
    assert not recorded.stripe.answers, "Stripe was not asked as expected"


def link(server, key):
    return '%s/quotation/%s' % (
        server['portal'], server['sales'][key]['token'])


def text(response):
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', response.text))


def visit(server, key):
    "A visitor who opened the link: (session, page, CSRF token)"
    client = requests.Session()
    page = client.get(link(server, key))
    assert page.status_code == 200, text(page)
    return client, page, client.cookies['portal_csrf']


def state(server, key):
    "The sale's state, its contracts and the party's Stripe customers"
    sale_id = server['sales'][key]['id']
    return (value(server,
            f'SELECT state FROM sale_sale WHERE id = {sale_id}')[0],
        value(server, 'SELECT COUNT(*) FROM sale_subscription '
            f'WHERE origin_sale = {sale_id}')[0],
        value(server, 'SELECT COUNT(*) FROM account_payment_stripe_customer'
            ' c JOIN sale_sale s ON s.party = c.party '
            f'WHERE s.id = {sale_id}')[0])


def assert_takes_card_through_stripe(page, card_fields):
    "Stripe's card element, no card field of ours, Stripe.js allowed"
    html = page.text
    assert 'id="stripe-card"' in html
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in html
    assert 'name="stripe_payment_method"' in html
    # no card field of ours: the number never reaches the server
    for field in card_fields:
        assert f'name="{field}"' not in html
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert '/static/stripe_card.js' in html
    assert re.findall(r'<script(?![^>]*\bsrc=)', html) == []
    assert "script-src 'self' https://js.stripe.com;" in page.headers[
        'Content-Security-Policy']


def test_the_page_takes_the_card_through_stripe(server, stripe):
    client, page, _ = visit(server, 'new')
    html = page.text
    assert_takes_card_through_stripe(
        page, ['card_number', 'card_cvc', 'card_exp_month'])
    assert 'style=' not in html
    csp = page.headers['Content-Security-Policy']
    assert "script-src 'self' https://js.stripe.com;" in csp
    assert "frame-src https://js.stripe.com https://hooks.stripe.com;" in csp
    assert "connect-src 'self' https://api.stripe.com;" in csp
    assert 'unsafe-inline' not in csp and "frame-ancestors 'none'" in csp
    script = client.get(server['portal'] + '/static/stripe_card.js')
    assert script.status_code == 200
    assert 'createPaymentMethod' in script.text
    assert re.findall(r'id="first-invoice-total">([^<]*)<', html) == [
        '248,47\xa0€']
    assert stripe.requests == []  # showing the page asks Stripe nothing


def test_accept_without_the_csrf_token_is_403(server, stripe):
    client, _, _ = visit(server, 'new')
    before = snapshot(server), state(server, 'new')
    refused = client.post(link(server, 'new') + '/accept',
        data={'stripe_payment_method': NEW_METHOD}, allow_redirects=False)
    assert refused.status_code == 403
    assert (snapshot(server), state(server, 'new')) == before
    assert stripe.requests == []


def test_what_stripe_refuses_writes_nothing(server, stripe):
    client, _, csrf = visit(server, 'new')
    accept = link(server, 'new') + '/accept'
    before = snapshot(server), state(server, 'new')
    assert before[1] == ('quotation', 0, 0)

    def refused(pm, *answers, **fields):
        for path, answer, status in answers:
            stripe.answer('post', path, answer, status)
        response = client.post(accept, data=dict(fields, csrf_token=csrf,
                stripe_payment_method=pm), allow_redirects=False)
        assert response.status_code == 400, text(response)
        assert (snapshot(server), state(server, 'new')) == before
        return text(response)

    # made up or tampered in the page: never sent to Stripe
    for pm in ['', 'tok_visa', 'pm_<script>', 'pm_' + 'a' * 200]:
        assert UNREADABLE in refused(pm)
    assert UNREADABLE in refused(NEW_METHOD, card_number='4242424242424242')
    assert stripe.requests == []

    customers = '/v1/customers'
    assert 'Ihre Karte wurde abgelehnt' in refused(NEW_METHOD,
        (customers, 'card_declined_attach.json', 402))
    # another account's or another customer's payment method
    assert UNREADABLE in refused('pm_1QxSomebodyElses',
        (customers, 'payment_method_missing.json', 400))
    # Stripe unreachable: the library's tries, then the message
    assert 'unser Zahlungsdienst hat nicht geantwortet' in refused(
        NEW_METHOD, *[(customers, 'down', 200)] * TRIES)
    # with one key: had one of them reached Stripe, it made one customer
    assert len({p['headers']['Idempotency-Key']
        for p in stripe.posts()[-TRIES:]}) == 1
    assert len(stripe.posts()) == 2 + TRIES
    assert not stripe.intents  # no charge was tried


def test_accept_with_stripe_for_a_new_customer(server, stripe):
    "The customer made at Stripe with the card, which pays the first payment"
    sale = server['sales']['new']
    client, _, csrf = visit(server, 'new')
    stripe.answer('post', '/v1/customers', 'customer_created.json')
    stripe.answer('post', '/v1/setup_intents', 'setup_intent_succeeded.json')
    stripe.answer('get', f'/v1/payment_methods/{NEW_METHOD}',
        'payment_method_quote_new.json')
    # the contract's first period and the sale's one-time setup invoice
    charges = {'7116': 'payment_intent_succeeded.json',
        '17731': 'payment_intent_setup_fee.json'}
    stripe.answer('post', '/v1/payment_intents', charges)
    stripe.answer('post', '/v1/payment_intents', charges)
    accepted = client.post(link(server, 'new') + '/accept', data={
            'csrf_token': csrf, 'stripe_payment_method': NEW_METHOD})
    assert accepted.status_code == 200, text(accepted)
    assert ACCEPTED in text(accepted)

    create, setup, read, *intents = stripe.requests
    # one intent per charge (a task restarted asks again with its key)
    assert len({i['headers']['Idempotency-Key'] for i in intents}) == 2
    assert (create['path'], create['form']['payment_method'],
        create['form']['name'], create['form']['email']) == (
        '/v1/customers', NEW_METHOD, 'Neukunde GmbH',
        'einkauf@neukunde.example')
    assert (setup['path'], setup['form']['customer'],
        setup['form']['payment_method'], setup['form']['confirm'],
        setup['form']['usage']) == ('/v1/setup_intents', NEW_CUSTOMER,
        NEW_METHOD, 'true', 'off_session')
    assert read['method'] == 'get'
    assert {(i['form']['customer'], i['form']['payment_method'],
            i['form']['off_session'], i['form']['currency'])
        for i in intents} == {(NEW_CUSTOMER, NEW_METHOD, 'true', 'EUR')}
    # charged what the page showed as the first payment, to the cent
    charged = sorted({i['headers']['Idempotency-Key']:
            Decimal(i['form']['amount']) / 100 for i in intents}.values())
    assert charged == [Decimal('71.16'), Decimal('177.31')]
    assert sum(charged) == Decimal(sale['first_invoice_total']) == Decimal(
        '248.47')

    admin = server['admin']
    state_, contracts, customers = state(server, 'new')
    assert state_ in {'processing', 'done'} and contracts == 1
    assert customers == 1
    contract, = admin.call('sale.subscription', 'search_read',
        [('origin_sale', '=', sale['id'])], 0, None, None,
        ['payment_method.brand', 'payment_method.last4',
            'payment_method.exp_month', 'payment_method.exp_year',
            'payment_method.token',
            'payment_method.stripe_customer.stripe_customer_id'])
    assert (contract['payment_method.']['brand'],
        contract['payment_method.']['last4'],
        contract['payment_method.']['exp_month'],
        contract['payment_method.']['exp_year'],
        contract['payment_method.']['token']) == (
        'mastercard', '4444', 8, 2031, NEW_METHOD)
    assert contract['payment_method.']['stripe_customer.'][
        'stripe_customer_id'] == NEW_CUSTOMER
    invoices = admin.call('account.invoice', 'search_read',
        [('party.name', '=', sale['party'])], 0, None, None,
        ['total_amount', 'state'])
    assert sorted((Decimal(i['total_amount']['decimal']), i['state'])
        for i in invoices) == [
        (Decimal('71.16'), 'paid'), (Decimal('177.31'), 'paid')]
    payments = admin.call('account.payment', 'search_read',
        [('party.name', '=', sale['party'])], 0, None, None,
        ['amount', 'state'])
    assert sorted((Decimal(p['amount']['decimal']), p['state'])
        for p in payments) == [
        (Decimal('71.16'), 'succeeded'), (Decimal('177.31'), 'succeeded')]
    # accepted once: the link shows it, nothing to submit any more
    page = client.get(link(server, 'new'))
    assert ACCEPTED in text(page) and '/accept' not in page.text
    assert 'js.stripe.com' not in page.headers['Content-Security-Policy']


def test_accept_with_stripe_for_a_known_customer(server, stripe):
    "The card attached to the party's Stripe customer: no second customer"
    sale = server['sales']['known']
    client, _, csrf = visit(server, 'known')
    stripe.answer('post', f'/v1/payment_methods/{KNOWN_METHOD}/attach',
        'payment_method_quote_known.json')
    stripe.answer('post', '/v1/setup_intents', 'setup_intent_succeeded.json')
    stripe.answer('get', f'/v1/payment_methods/{KNOWN_METHOD}',
        'payment_method_quote_known.json')
    stripe.answer('post', '/v1/payment_intents',
        {'7116': 'payment_intent_succeeded.json'})
    accepted = client.post(link(server, 'known') + '/accept', data={
            'csrf_token': csrf, 'stripe_payment_method': KNOWN_METHOD})
    assert ACCEPTED in text(accepted)
    attach, setup, _, charge, *again = stripe.requests
    assert {r['headers']['Idempotency-Key'] for r in again} <= {
        charge['headers']['Idempotency-Key']}
    assert attach['form'] == {'customer': KNOWN_CUSTOMER}
    assert setup['form']['customer'] == KNOWN_CUSTOMER
    assert (charge['form']['amount'], charge['form']['customer']) == (
        '7116', KNOWN_CUSTOMER)
    assert Decimal(sale['first_invoice_total']) == Decimal('71.16')
    assert state(server, 'known')[1:] == (1, 1)
    contract, = server['admin'].call('sale.subscription', 'search_read',
        [('origin_sale', '=', sale['id'])], 0, None, None,
        ['payment_method.rec_name',
            'payment_method.stripe_customer.stripe_customer_id'])
    method = contract['payment_method.']
    assert method['rec_name'] == 'Visa •••• 4242'
    assert method['stripe_customer.']['stripe_customer_id'] == KNOWN_CUSTOMER


def bank_asks_to_confirm(stripe, customer, metadata):
    """Stripe's answers when the bank wants the card confirmed (3-D
    Secure): a new Stripe customer, a setup intent requiring action; returns
    the setup intent as it reads once confirmed"""
    confirmed = {'id': SETUP_3DS, 'customer': customer,
        'metadata': metadata}
    stripe.answer('post', '/v1/customers',
        ('customer_created.json', {'id': customer}))
    stripe.answer('post', '/v1/setup_intents',
        ('setup_intent_requires_action.json', confirmed))
    return confirmed


def reposted_fields(html):
    "The fields the bank's confirmation page posts again: {name: value}"
    return dict(re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_the_bank_asks_to_confirm_the_card(server, stripe):
    """3-D Secure: the page gets the setup intent's client secret for the
    bank's window; nothing is accepted (nor the Stripe customer kept) until
    the acceptance is posted again with the setup intent, read back from
    Stripe: confirmed, of this sale, for this card"""
    sale = server['sales']['secure']
    client, _, csrf = visit(server, 'secure')
    accept = link(server, 'secure') + '/accept'
    before = snapshot(server), state(server, 'secure')
    assert before[1] == ('quotation', 0, 0)
    confirmed = bank_asks_to_confirm(stripe, SECURE_CUSTOMER,
        {'sale': sale['number']})
    page = client.post(accept, data={'csrf_token': csrf,
            'stripe_payment_method': NEW_METHOD, 'name': 'Sara Sicher'})
    assert page.status_code == 200, text(page)
    assert 'Ihre Bank verlangt, dass Sie diese Karte bestätigen' in text(
        page)
    html = page.text
    assert ('data-client-secret="seti_1QxQuoteSetup3ds_secret_'
        'Wq8Er5Ty2Ui9Op4As6Df1Gh3"') in html
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in html
    assert re.findall(r'<script(?![^>]*\bsrc=)', html) == []
    assert "script-src 'self' https://js.stripe.com;" in page.headers[
        'Content-Security-Policy']
    # what the page posts again once the bank's window confirmed the card
    again = reposted_fields(html)
    assert again == {'csrf_token': csrf, 'name': 'Sara Sicher',
        'signature': '', 'stripe_payment_method': NEW_METHOD,
        'stripe_setup_intent': SETUP_3DS}
    assert (snapshot(server), state(server, 'secure')) == before
    create, setup = stripe.requests
    assert (setup['form']['confirm'], setup['form']['metadata[sale]']) == (
        'true', sale['number'])
    script = client.get(server['portal'] + '/static/stripe_card.js')
    assert 'confirmCardSetup' in script.text

    def refused(message, answer=None, **fields):
        if answer:
            stripe.answer('get', f'/v1/setup_intents/{SETUP_3DS}', answer)
        response = client.post(accept, data=dict(again, **fields))
        assert response.status_code == 400, text(response)
        assert message in text(response)
        assert (snapshot(server), state(server, 'secure')) == before
    # a setup intent of another sale, for another card, of another
    # customer, or not confirmed by the bank
    for replaced in [{'metadata': {'sale': 'ANDERES'}},
            {'payment_method': 'pm_1QxSomebodyElses'},
            {'usage': 'on_session'}, {'customer': None}]:
        refused(UNREADABLE,
            ('setup_intent_succeeded.json', dict(confirmed, **replaced)))
    refused('Ihre Bank hat die Karte nicht bestätigt',
        ('setup_intent_requires_action.json',
            dict(confirmed, status='requires_payment_method')))
    # made up in the page: never sent to Stripe
    requests_before = len(stripe.requests)
    for made_up in ['seti_<script>', 'pi_1QxQuoteSetup3ds',
            'seti_' + 'a' * 200]:
        refused(UNREADABLE, stripe_setup_intent=made_up)
    assert len(stripe.requests) == requests_before

    stripe.answer('get', f'/v1/setup_intents/{SETUP_3DS}',
        ('setup_intent_succeeded.json', confirmed))
    stripe.answer('get', f'/v1/payment_methods/{NEW_METHOD}',
        ('payment_method_quote_new.json', {'customer': SECURE_CUSTOMER}))
    stripe.answer('post', '/v1/payment_intents',
        {'7116': 'payment_intent_succeeded.json'})
    accepted = client.post(accept, data=again)
    assert accepted.status_code == 200, text(accepted)
    assert ACCEPTED in text(accepted)
    # no second customer nor setup intent at Stripe: the first ones kept
    assert [r['path'] for r in stripe.posts()][2:] == [
        '/v1/payment_intents'] * len(stripe.posts()[2:])
    charge = next(r for r in stripe.posts()
        if r['path'] == '/v1/payment_intents')
    assert (charge['form']['amount'], charge['form']['customer'],
        charge['form']['payment_method']) == (
        '7116', SECURE_CUSTOMER, NEW_METHOD)
    assert Decimal(sale['first_invoice_total']) == Decimal('71.16')
    assert state(server, 'secure')[1:] == (1, 1)
    contract, = server['admin'].call('sale.subscription', 'search_read',
        [('origin_sale', '=', sale['id'])], 0, None, None,
        ['payment_method.token',
            'payment_method.stripe_customer.stripe_customer_id'])
    method = contract['payment_method.']
    assert method['token'] == NEW_METHOD
    assert method['stripe_customer.']['stripe_customer_id'] == (
        SECURE_CUSTOMER)


CARD_CUSTOMER = 'cus_RqCardKunde0001'


def test_a_card_through_the_payment_method_link(server, stripe):
    """The contract's payment link takes the card through Stripe Elements
    too: only Stripe's ids are posted, the bank's confirmation first, then
    the card is the contract's, the link spent"""
    card = server['card']
    # signed in, the contract's page takes the card through Stripe too
    signed_in = sign_in(server, card['email'], CUSTOMER_PASSWORD)
    page = signed_in.get('%s/contracts/%s' % (server['portal'], card['id']))
    assert page.status_code == 200, text(page)
    assert_takes_card_through_stripe(page, ['number', 'cvc', 'exp_month'])
    stripe.answer('post', '/v1/customers', 'card_declined_attach.json', 402)
    before = snapshot(server)
    declined = signed_in.post(
        '%s/contracts/%s/card' % (server['portal'], card['id']),
        data={'csrf_token': signed_in.cookies['portal_csrf'],
            'stripe_payment_method': NEW_METHOD})
    assert declined.status_code == 400
    assert 'Ihre Karte wurde abgelehnt' in text(declined)
    assert 'Es wurde nichts geändert' in text(declined)
    assert snapshot(server) == before
    stripe.requests.clear()

    url = '%s/payment_method/%s' % (server['portal'], card['token'])
    client = requests.Session()
    page = client.get(url)
    assert page.status_code == 200, text(page)
    assert_takes_card_through_stripe(page, ['number', 'cvc', 'exp_month'])
    csrf = client.cookies['portal_csrf']

    def contract_state():
        return (value(server, 'SELECT payment_method FROM sale_subscription '
                f"WHERE id = {card['id']}")[0],
            value(server, 'SELECT COUNT(*) FROM account_payment_stripe_customer'
                ' c JOIN sale_subscription s ON s.party = c.party '
                f"WHERE s.id = {card['id']}")[0])
    before = snapshot(server), contract_state()
    assert before[1] == (None, 0)
    refused = client.post(url, data={'stripe_payment_method': NEW_METHOD},
        allow_redirects=False)
    assert refused.status_code == 403
    assert (snapshot(server), contract_state()) == before

    confirmed = bank_asks_to_confirm(stripe, CARD_CUSTOMER,
        {'subscription': card['number']})
    page = client.post(url, data={'csrf_token': csrf,
            'stripe_payment_method': NEW_METHOD})
    assert page.status_code == 200, text(page)
    assert 'Noch ist nichts gespeichert' in text(page)
    again = reposted_fields(page.text)
    assert again == {'csrf_token': csrf, 'stripe_payment_method': NEW_METHOD,
        'stripe_setup_intent': SETUP_3DS}
    assert 'action="%s"' % urllib.parse.urlsplit(url).path in page.text
    assert (snapshot(server), contract_state()) == before
    _, setup = stripe.requests
    assert setup['form']['metadata[subscription]'] == card['number']

    # a declined card: its own message, nothing changed
    stripe.answer('get', f'/v1/setup_intents/{SETUP_3DS}',
        ('setup_intent_requires_action.json',
            dict(confirmed, status='requires_payment_method')))
    declined = client.post(url, data=again)
    assert declined.status_code == 400
    assert 'Ihre Bank hat die Karte nicht bestätigt' in text(declined)
    assert 'Es wurde nichts geändert' in text(declined)
    assert (snapshot(server), contract_state()) == before

    stripe.answer('get', f'/v1/setup_intents/{SETUP_3DS}',
        ('setup_intent_succeeded.json', confirmed))
    stripe.answer('get', f'/v1/payment_methods/{NEW_METHOD}',
        ('payment_method_quote_new.json', {'customer': CARD_CUSTOMER}))
    saved = client.post(url, data=again)
    assert saved.status_code == 200, text(saved)
    method_id, customers = contract_state()
    assert method_id and customers == 1
    contract, = server['admin'].call('sale.subscription', 'read',
        [card['id']], ['payment_method.rec_name', 'payment_method.token',
            'payment_method.stripe_customer.stripe_customer_id'])
    method = contract['payment_method.']
    assert (method['rec_name'], method['token']) == (
        'Mastercard •••• 4444', NEW_METHOD)
    assert method['stripe_customer.']['stripe_customer_id'] == CARD_CUSTOMER
    # the link opens once
    assert client.get(url).status_code == 404
