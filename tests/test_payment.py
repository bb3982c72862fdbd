"""A contract on a plan that charges a card: the billing run posts the
invoice and writes a payment with an idempotency key; a queue task charges
it after the run committed; success pays the invoice in the ledger.  A
charge whose outcome is unknown is settled by the janitor, never charged
twice.  Bad input is refused and leaves nothing behind."""
import datetime
from decimal import Decimal

import pytest

from demo.payment import (
    DECLINED, GARBAGE, TIMEOUT, VISA_OK, add_card, create_card_journal)
from helpers import bill, customer
from payment_helpers import (
    START, bill_and_charge, charge_contract, dunning, notifications,
    payments_of, processor_charges)
from trytond.exceptions import UserError
from trytond.transaction import Transaction

D = datetime.date


def test_charge_pays_the_invoice_and_reconciles_it(env):
    Invoice = env.get('account.invoice')
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, VISA_OK)
    assert contract.payment_method.rec_name == "Visa •••• 4242"
    assert contract.has_payment_method()

    invoice, = bill(env, contract, START)
    # written with the invoice, charged only after the run committed
    payment, = payments_of(env, invoice)
    assert (payment.state, payment.amount) == ('processing', Decimal('71.16'))
    number, attempt, random = payment.subscription_key.rsplit('-', 2)
    assert (number, attempt, len(random)) == (invoice.number, '1', 32)
    assert Invoice(invoice.id).state == 'posted'
    assert processor_charges(env) == []

    with env.on(START):
        env.run_tasks()
    payment = Payment(payment.id)
    invoice = Invoice(invoice.id)
    assert payment.state == 'succeeded'
    assert invoice.state == 'paid'
    assert invoice.amount_to_pay == Decimal(0)
    line, = invoice.lines_to_pay
    assert line.reconciliation is not None
    # the card journal's clearing moves are posted by the ERP's daily cron
    assert payment.clearing_move.state == 'draft'
    with env.on(START):
        env.get('account.payment.journal').cron_post_clearing_moves()
    assert Payment(payment.id).clearing_move.state == 'posted'
    charge, = processor_charges(env)
    assert (charge.amount, charge.idempotency_key) == (
        Decimal('71.16'), payment.subscription_key)

    contract = Contract(contract.id)
    assert contract.last_payment == payment
    assert not contract.payment_failed
    attempt, = contract.payment_attempts
    assert (attempt.result, attempt.amount, attempt.processor) == (
        'succeeded', Decimal('71.16'), 'subscription_test')


def test_hard_decline_keeps_the_invoice_and_waits_for_a_new_card(env):
    Invoice = env.get('account.invoice')
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, DECLINED)
    invoice = bill_and_charge(env, contract, START)

    assert invoice.state == 'posted'  # nothing lost
    payment, = payments_of(env, invoice)
    assert payment.state == 'failed'
    contract = Contract(contract.id)
    assert contract.payment_failed
    assert contract.payment_method_needed
    assert contract.next_payment_retry == D(2026, 3, 3)
    attempt, = contract.payment_attempts
    assert (attempt.result, attempt.error_code, attempt.error_message) == (
        'failed', 'card_declined', "Your card was declined.")
    notice, = notifications(env, contract, 'payment_failed')
    assert (notice.hard, notice.invoice, notice.payment) == (
        True, invoice, payment)
    assert Contract.search([('payment_failed', '=', True)]) == [contract]

    # day 2: a reminder, but the declined card is not charged again
    dunning(env, D(2026, 3, 3))
    assert len(payments_of(env, invoice)) == 1
    reminder, = notifications(env, contract, 'payment_reminder')
    assert reminder.step == 1

    # the customer gives a new card: the next run charges it
    with env.on(D(2026, 3, 4)):
        journal = create_card_journal(env.company)
        contract.payment_method = add_card(journal, contract.party, VISA_OK)
        contract.save()
    dunning(env, D(2026, 3, 4))
    assert Invoice(invoice.id).state == 'paid'
    contract = Contract(contract.id)
    assert not contract.payment_failed
    assert contract.next_payment_retry is None
    assert len(processor_charges(env)) == 1


def test_unknown_outcome_is_settled_by_the_janitor_charged_once(env):
    Invoice = env.get('account.invoice')
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, TIMEOUT)
    invoice = bill_and_charge(env, contract, START)

    # the processor booked the charge but its answer was lost
    payment, = payments_of(env, invoice)
    assert payment.state == 'processing'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.error_code) == ('unknown', 'timeout')
    assert invoice.state == 'posted'
    assert not Contract(contract.id).payment_failed
    assert len(processor_charges(env)) == 1

    # the charge task running again does not charge again
    with env.on(START):
        Payment.subscription_charge([payment])
    processor = payment.journal.subscription_processor()
    assert processor.lookup(payment.subscription_key).status == 'succeeded'

    with env.on(START):
        settled = Payment.subscription_janitor()
        env.run_tasks()
    assert settled == [payment]
    assert Payment(payment.id).state == 'succeeded'
    assert Invoice(invoice.id).state == 'paid'
    attempt, = Contract(contract.id).payment_attempts
    assert (attempt.result, attempt.settled_on) == ('succeeded', START)
    assert len(processor_charges(env)) == 1  # the customer paid once
    with env.on(START):
        assert Payment.subscription_janitor() == []


def test_garbage_answer_is_recorded_and_never_charged_blindly(env):
    Payment = env.get('account.payment')
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, GARBAGE)
    invoice = bill_and_charge(env, contract, START)
    payment, = payments_of(env, invoice)
    assert payment.state == 'processing'
    attempt, = Contract(contract.id).payment_attempts
    assert attempt.result == 'unknown'
    assert attempt.error_code == 'invalid_response'
    assert "unreadable answer" in attempt.error_message
    assert "502 Bad Gateway" in attempt.error_message
    # the janitor asks again with the same key; still no usable answer
    with env.on(D(2026, 3, 2)):
        Payment.subscription_janitor()
    assert Payment(payment.id).state == 'processing'
    assert len(Contract(contract.id).payment_attempts) == 1
    assert invoice.state == 'posted'


def test_without_payment_method_the_invoice_is_sent(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, None)
    assert not contract.has_payment_method()
    invoice = bill_and_charge(env, contract, START)
    assert invoice.state == 'posted'
    assert payments_of(env, invoice) == []
    notice, = notifications(env, contract, 'invoice')
    assert notice.invoice == invoice
    log, = [l for l in Contract(contract.id).payment_logs
        if l.kind == 'no_method']
    assert "sent to the customer instead of charged" in log.description


def test_zero_amount_period_charges_nothing_and_says_so(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, VISA_OK, price='0')
    invoice = bill_and_charge(env, contract, START)
    assert invoice.total_amount == Decimal(0)
    assert payments_of(env, invoice) == []
    assert processor_charges(env) == []
    log, = Contract(contract.id).payment_logs
    assert log.kind == 'zero_amount'
    assert "nothing was charged" in log.description


def test_charging_a_paid_invoice_is_refused(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, VISA_OK)
    invoice = bill_and_charge(env, contract, START)
    assert invoice.state == 'paid'
    with env.on(START), pytest.raises(UserError) as error:
        Contract(contract.id).new_charge(invoice)
    assert "cannot be charged" in error.value.message
    assert "0.00" in error.value.message
    assert len(payments_of(env, invoice)) == 1


def test_card_input_is_checked_and_nothing_stored_on_error(env):
    Method = env.get('sale.subscription.payment_method')
    Card = env.get('sale.subscription.test_card')
    party = customer(env)
    with env.on(START):
        journal = create_card_journal(env.company)
        with pytest.raises(UserError) as error:
            add_card(journal, party, '4242 4242 4242 4241')
        assert "not a valid card number" in error.value.message
        with pytest.raises(UserError) as error:
            add_card(journal, party, VISA_OK, exp_month=1, exp_year=2026)
        assert "expired in 01/2026" in error.value.message
        assert Method.search([('party', '=', party.id)]) == []
        assert Card.search([]) == []

        method = add_card(journal, party, '5555 5555 5555 4444', 3, 2026)
    # only the token, brand, last digits and expiry are kept
    assert (method.brand, method.last4, method.exp_month, method.exp_year) \
        == ('mastercard', '4444', 3, 2026)
    assert method.token.startswith('tok_test_')
    assert method.rec_name == "Mastercard •••• 4444"


def test_a_card_of_another_customer_is_refused(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, VISA_OK)
    with env.on(START):
        other = add_card(create_card_journal(env.company),
            customer(env, "Schmidt AG"), VISA_OK)
        with pytest.raises(UserError) as error:
            Contract.write([contract], {'payment_method': other.id})
    assert "Payment Method" in error.value.message


def test_expired_card_is_not_charged_the_invoice_is_sent(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, None)
    with env.on(START):
        contract.payment_method = add_card(create_card_journal(env.company),
            contract.party, VISA_OK, exp_month=3, exp_year=2026)
        contract.save()
    bill_and_charge(env, contract, START)
    assert len(processor_charges(env)) == 1
    # April: the card has expired
    invoice = bill_and_charge(env, contract, D(2026, 4, 1))
    assert invoice.state == 'posted'
    assert payments_of(env, invoice) == []
    contract = Contract(contract.id)
    with env.on(D(2026, 4, 1)):
        assert not contract.has_payment_method()
    notice, = notifications(env, contract, 'invoice')
    assert notice.invoice == invoice
    log, = [l for l in contract.payment_logs if l.kind == 'no_method']
    assert "Visa •••• 4242" in log.description
    assert len(processor_charges(env)) == 1


def test_test_processor_refuses_to_work_on_a_production_server(env):
    "Without `[subscription] test_processor` no fake card is charged"
    import trytond.config as config
    Invoice = env.get('account.invoice')
    Payment = env.get('account.payment')
    contract = charge_contract(env, VISA_OK)
    invoice, = bill(env, contract, START)
    payment, = payments_of(env, invoice)
    config.set('subscription', 'test_processor', 'False')
    try:
        with env.on(START), pytest.raises(UserError) as error:
            Payment.subscription_charge([payment])
        assert "test card processor" in error.value.message
        with env.on(START), pytest.raises(UserError):
            add_card(payment.journal, customer(env, "Neu GmbH"), VISA_OK)
    finally:
        config.set('subscription', 'test_processor', 'True')
    assert processor_charges(env) == []
    assert Payment(payment.id).state == 'processing'
    assert Invoice(invoice.id).state == 'posted'


def test_add_card_wizard_keeps_no_card_number(env):
    """The Add Card wizard of a contract stores the card through the
    processor and sets it on the contract; its session (a database row)
    keeps neither the number nor the security code"""
    Contract = env.get('sale.subscription')
    Session = env.get('ir.session.wizard')
    Wizard = env.get('sale.subscription.payment_method.add_card',
        type='wizard')
    contract = charge_contract(env, None)
    with env.on(START), Transaction().set_context(
            active_model='sale.subscription', active_id=contract.id,
            active_ids=[contract.id]):
        journal = create_card_journal(env.company)
        session_id, _, _ = Wizard.create()
        defaults = Wizard.execute(session_id, {}, 'start')['view']['defaults']
        assert defaults['party'] == contract.party.id
        assert defaults['journal'] == journal.id
        start = {k: v for k, v in defaults.items() if '.' not in k}
        start.update(number='5555 5555 5555 4444', exp_month=3,
            exp_year=27, cvc='737', holder="Erika Mustermann")
        Wizard.execute(session_id, {'start': start}, 'add')
        stored = Session(session_id).data
        Wizard.delete(session_id)
    assert '5555' not in stored and '737' not in stored, stored
    method = Contract(contract.id).payment_method
    assert method.rec_name == "Mastercard •••• 4444"
    # a two-digit year is of this century, as printed on cards
    assert (method.exp_month, method.exp_year, method.holder) == (
        3, 2027, "Erika Mustermann")
