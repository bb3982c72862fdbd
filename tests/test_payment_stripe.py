"""Stripe as the card processor, tested at the HTTP boundary against the
recorded Stripe of stripe_helpers.py (the stripe library's HTTP client
replaced). The tests assert what the module sends and that the contract,
invoice and ledger end as with the test processor."""
import datetime
from decimal import Decimal

import pytest
import stripe

from payment_helpers import (
    START, bill_and_charge, charge_contract, dunning, notifications,
    payments_of)
from stripe_helpers import SECRET_KEY, StripeServer, stripe_journal
from trytond.exceptions import UserError
from trytond.modules.account_payment_stripe.payment import STRIPE_VERSION

D = datetime.date
CUSTOMER_ID = 'cus_RqSubMueller01'
METHOD_ID = 'pm_1QxSubVisa4242a'


@pytest.fixture
def stripe_server(monkeypatch):
    server = StripeServer()
    monkeypatch.setattr(stripe, 'default_http_client', server)
    yield server
    assert not server.answers, "Stripe was not asked what the test expected"


def stripe_contract(env, server, **plan_values):
    """The contract of payment_helpers (71.16 a month) charging a Visa
    stored at Stripe on the customer cus_..."""
    Customer = env.get('account.payment.stripe.customer')
    Method = env.get('sale.subscription.payment_method')
    contract = charge_contract(env, None, **plan_values)
    with env.on(START):
        journal = stripe_journal(env)
        customer = Customer(party=contract.party,
            stripe_account=journal.stripe_account,
            stripe_customer_id=CUSTOMER_ID)
        customer.save()
        server.answer('get', f'/v1/payment_methods/{METHOD_ID}',
            'payment_method_card.json')
        contract.payment_method = Method.add_stripe_method(
            journal, customer, METHOD_ID)
        contract.save()
    server.requests.clear()
    return contract


def test_stripe_method_is_read_from_stripe(env, stripe_server):
    contract = stripe_contract(env, stripe_server)
    method = contract.payment_method
    assert (method.token, method.brand, method.last4, method.exp_month,
        method.exp_year) == (METHOD_ID, 'visa', '4242', 12, 2030)
    assert method.stripe_customer.stripe_customer_id == CUSTOMER_ID
    assert method.rec_name == "Visa •••• 4242"


def test_stripe_method_of_another_customer_is_refused(env, stripe_server):
    Customer = env.get('account.payment.stripe.customer')
    Method = env.get('sale.subscription.payment_method')
    contract = stripe_contract(env, stripe_server)
    journal = contract.payment_method.journal
    other = Customer(party=contract.party,
        stripe_account=journal.stripe_account,
        stripe_customer_id='cus_SomebodyElse')
    other.save()
    stripe_server.answer('get', f'/v1/payment_methods/{METHOD_ID}',
        'payment_method_card.json')
    with env.on(START), pytest.raises(UserError) as error:
        Method.add_stripe_method(journal, other, METHOD_ID)
    assert "not attached to the Stripe customer" in error.value.message
    assert Method.search([('stripe_customer', '=', other.id)]) == []


def test_stripe_charge_pays_the_invoice_and_reconciles_it(
        env, stripe_server):
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    contract = stripe_contract(env, stripe_server)
    stripe_server.answer('post', '/v1/payment_intents',
        'payment_intent_succeeded.json')
    invoice = bill_and_charge(env, contract, START)

    request, = stripe_server.requests
    payment, = payments_of(env, invoice)
    form = request['form']
    assert request['path'] == '/v1/payment_intents'
    assert request['headers']['Idempotency-Key'] == payment.subscription_key
    assert request['headers']['Authorization'] == f'Bearer {SECRET_KEY}'
    assert request['headers']['Stripe-Version'] == STRIPE_VERSION
    assert (form['amount'], form['currency']) == ('7116', 'EUR')
    assert (form['customer'], form['payment_method']) == (
        CUSTOMER_ID, METHOD_ID)
    assert (form['off_session'], form['confirm']) == ('true', 'true')
    assert form['automatic_payment_methods[allow_redirects]'] == 'never'
    assert form['metadata[idempotency_key]'] == payment.subscription_key
    assert form['description'] == invoice.number

    # booked exactly as with the test processor
    assert payment.state == 'succeeded'
    assert invoice.state == 'paid'
    assert invoice.amount_to_pay == Decimal(0)
    line, = invoice.lines_to_pay
    assert line.reconciliation is not None
    assert payment.clearing_move.state == 'draft'  # the ERP's cron posts it
    contract = Contract(contract.id)
    assert contract.last_payment == payment
    attempt, = contract.payment_attempts
    assert (attempt.result, attempt.processor, attempt.reference) == (
        'succeeded', 'stripe', 'pi_3QxSub2eZvKYlo2C0Kj1Fb7d')

    # the ERP's own Stripe charging never takes our payments over
    assert not payment.stripe_customer
    assert not payment.stripe_customer_payment_method
    assert not payment.stripe_payment_intent_id
    Payment.stripe_charge()
    assert len(stripe_server.requests) == 1


def test_stripe_card_declined_is_a_hard_decline(env, stripe_server):
    Contract = env.get('sale.subscription')
    contract = stripe_contract(env, stripe_server)
    stripe_server.answer('post', '/v1/payment_intents',
        'card_declined.json', status=402)
    invoice = bill_and_charge(env, contract, START)

    assert invoice.state == 'posted'
    payment, = payments_of(env, invoice)
    assert payment.state == 'failed'
    contract = Contract(contract.id)
    assert contract.payment_failed and contract.payment_method_needed
    attempt, = contract.payment_attempts
    assert (attempt.result, attempt.error_code, attempt.error_message,
        attempt.reference) == ('failed', 'card_declined',
        "Your card was declined.", 'pi_3QxSub2eZvKYlo2C1Dc2Xe9f')
    notice, = notifications(env, contract, 'payment_failed')
    assert notice.hard

    # day 2: the customer is reminded, the declined card not charged again
    dunning(env, D(2026, 3, 3))
    assert len(stripe_server.posts()) == 1
    assert len(payments_of(env, invoice)) == 1
    assert len(notifications(env, contract, 'payment_reminder')) == 1


def test_stripe_insufficient_funds_is_retried_by_the_dunning(
        env, stripe_server):
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    contract = stripe_contract(env, stripe_server)
    stripe_server.answer('post', '/v1/payment_intents',
        'insufficient_funds.json', status=402)
    invoice = bill_and_charge(env, contract, START)

    contract = Contract(contract.id)
    assert contract.payment_failed and not contract.payment_method_needed
    assert contract.next_payment_retry == D(2026, 3, 3)
    attempt, = contract.payment_attempts
    assert (attempt.error_code, attempt.error_message) == (
        'insufficient_funds', "Your card has insufficient funds.")

    # the account was topped up: the retry of day 2 is a new payment with
    # a new key, so Stripe charges instead of repeating the decline
    stripe_server.answer('post', '/v1/payment_intents',
        'payment_intent_succeeded.json')
    dunning(env, D(2026, 3, 3))
    failed, retry = payments_of(env, invoice)
    first, second = stripe_server.posts()
    assert [first['headers']['Idempotency-Key'],
        second['headers']['Idempotency-Key']] == [
        failed.subscription_key, retry.subscription_key]
    assert failed.subscription_key != retry.subscription_key
    assert (failed.state, retry.state) == ('failed', 'succeeded')
    assert Invoice(invoice.id).state == 'paid'
    assert not Contract(contract.id).payment_failed


def test_stripe_lost_answer_is_settled_by_lookup_charged_once(
        env, stripe_server):
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    contract = stripe_contract(env, stripe_server)
    # Stripe books the intent but the answer is lost; the library's own
    # retries find the network down
    stripe_server.answer('post', '/v1/payment_intents', 'lost')
    for _ in range(stripe.max_network_retries):
        stripe_server.answer('post', '/v1/payment_intents', 'down')
    invoice = bill_and_charge(env, contract, START)

    payment, = payments_of(env, invoice)
    posts = stripe_server.posts()
    assert len(posts) == 1 + stripe.max_network_retries
    # every try of the attempt carries its key: Stripe books one intent
    assert {p['headers']['Idempotency-Key'] for p in posts} == {
        payment.subscription_key}
    assert payment.state == 'processing'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.error_code) == ('unknown', 'timeout')
    assert invoice.state == 'posted'
    assert not Contract(contract.id).payment_failed

    # the janitor searches the intent by its key instead of charging again
    stripe_server.answer('get', '/v1/payment_intents/search',
        'payment_intent_search.json')
    with env.on(START):
        assert Payment.subscription_janitor() == [payment]
        env.run_tasks()
    search = stripe_server.requests[-1]
    assert search['query']['query'] == (
        "metadata['idempotency_key']:'%s'" % payment.subscription_key)
    assert len(stripe_server.posts()) == 1 + stripe.max_network_retries
    assert len(stripe_server.intents) == 1  # the customer paid once
    assert Payment(payment.id).state == 'succeeded'
    assert Invoice(invoice.id).state == 'paid'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.settled_on, attempt.reference) == (
        'succeeded', START, 'pi_3QxSub2eZvKYlo2C0Kj1Fb7d')


def test_stripe_unreached_charge_is_sent_again_with_the_same_key(
        env, stripe_server):
    Payment = env.get('account.payment')
    Invoice = env.get('account.invoice')
    contract = stripe_contract(env, stripe_server)
    for _ in range(1 + stripe.max_network_retries):
        stripe_server.answer('post', '/v1/payment_intents', 'down')
    invoice = bill_and_charge(env, contract, START)
    payment, = payments_of(env, invoice)
    assert payment.state == 'processing'
    assert stripe_server.intents == {}

    # Stripe never saw the key: the janitor charges with the same key
    stripe_server.answer('get', '/v1/payment_intents/search',
        'payment_intent_search_empty.json')
    stripe_server.answer('post', '/v1/payment_intents',
        'payment_intent_succeeded.json')
    with env.on(D(2026, 3, 2)):
        Payment.subscription_janitor()
        env.run_tasks()
    posts = stripe_server.posts()
    assert len(posts) == 2 + stripe.max_network_retries
    assert {p['headers']['Idempotency-Key'] for p in posts} == {
        payment.subscription_key}
    assert list(stripe_server.intents) == [payment.subscription_key]
    assert Payment(payment.id).state == 'succeeded'
    assert Invoice(invoice.id).state == 'paid'
    assert len(payments_of(env, invoice)) == 1


def test_stripe_processing_intent_waits_for_the_janitor(env, stripe_server):
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    contract = stripe_contract(env, stripe_server)
    stripe_server.answer('post', '/v1/payment_intents',
        'payment_intent_processing.json')
    invoice = bill_and_charge(env, contract, START)
    payment, = payments_of(env, invoice)
    assert payment.state == 'processing'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.error_code) == ('unknown', 'processing')
    assert not Contract(contract.id).payment_failed

    # still processing at the next look-up: nothing changes, no new charge
    stripe_server.answer('get', '/v1/payment_intents/search',
        'payment_intent_search.json')
    with env.on(D(2026, 3, 2)):
        Payment.subscription_janitor()
    assert Payment(payment.id).state == 'processing'
    assert len(stripe_server.posts()) == 1


def test_stripe_garbage_answer_is_unknown(env, stripe_server):
    Contract = env.get('sale.subscription')
    contract = stripe_contract(env, stripe_server)
    payment_intents = StripeServer.request

    def bad_gateway(self, method, url, headers, post_data=None, **kwargs):
        if method == 'post':
            self.requests.append({'method': method, 'path': url,
                    'headers': dict(headers), 'form': {}, 'query': {}})
            return '<html>502 Bad Gateway</html>', 502, {}
        return payment_intents(self, method, url, headers, post_data)
    stripe_server.request = bad_gateway.__get__(stripe_server)
    invoice = bill_and_charge(env, contract, START)
    payment, = payments_of(env, invoice)
    assert payment.state == 'processing'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.error_code) == (
        'unknown', 'invalid_response')
    assert "502 Bad Gateway" in attempt.error_message
    assert invoice.state == 'posted'
    assert not Contract(contract.id).payment_failed
