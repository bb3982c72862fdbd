"""When a charge fails the invoice stays posted, the contract is flagged for
the collections team and the plan's dunning schedule (2, 7 and 14 days by
default) retries the card and reminds the customer; after 15 days unpaid the
contract is closed with the reason "unpaid" (or suspended, by plan)."""
import datetime

import pytest

from demo.company import create_plan
from demo.payment import INSUFFICIENT_FUNDS
from helpers import bill
from payment_helpers import (
    START, bill_and_charge, card_of, charge_contract, dunning,
    notifications, pay_by_transfer, payments_of, processor_charges)
from trytond.exceptions import UserError

D = datetime.date


def test_soft_decline_retried_on_day_2_succeeds_and_clears_the_flag(env):
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    contract = charge_contract(env, INSUFFICIENT_FUNDS)
    invoice = bill_and_charge(env, contract, START)
    contract = Contract(contract.id)
    assert invoice.state == 'posted'
    assert contract.payment_failed and not contract.payment_method_needed
    assert contract.next_payment_retry == D(2026, 3, 3)
    assert contract.failed_attempts == 1
    notice, = notifications(env, contract, 'payment_failed')
    assert not notice.hard
    assert contract.payment_attempts[0].error_code == 'insufficient_funds'

    dunning(env, D(2026, 3, 2))  # not yet due: nothing happens
    assert len(payments_of(env, invoice)) == 1

    card = card_of(env, contract)
    card.behaviour = 'succeed'  # the customer's account was topped up
    card.save()
    dunning(env, D(2026, 3, 3))
    reminder, = notifications(env, contract, 'payment_reminder')
    assert reminder.step == 1
    failed, retry = payments_of(env, invoice)
    assert (failed.state, retry.state) == ('failed', 'succeeded')
    assert retry.subscription_key.startswith(f"{invoice.number}-2-")
    assert Invoice(invoice.id).state == 'paid'
    contract = Contract(contract.id)
    assert not contract.payment_failed
    assert contract.next_payment_retry is None
    assert Contract.search([('payment_failed', '=', True)]) == []

    # the dunning has stopped: no more reminders or charges
    for date in [D(2026, 3, 8), D(2026, 3, 15), D(2026, 3, 16)]:
        dunning(env, date)
    assert len(notifications(env, contract, 'payment_reminder')) == 1
    assert len(processor_charges(env)) == 1
    assert Contract(contract.id).state == 'running'


def test_still_failing_on_day_15_the_contract_is_closed_unpaid(env):
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    contract = charge_contract(env, INSUFFICIENT_FUNDS)
    invoice = bill_and_charge(env, contract, START)
    retries = {D(2026, 3, 3): D(2026, 3, 8), D(2026, 3, 8): D(2026, 3, 15),
        D(2026, 3, 15): D(2026, 3, 16)}
    for date, next_retry in retries.items():
        dunning(env, date)
        assert Contract(contract.id).next_payment_retry == next_retry
    assert [n.step for n in notifications(
                env, contract, 'payment_reminder')] == [1, 2, 3]
    assert len(payments_of(env, invoice)) == 4
    assert Contract(contract.id).failed_attempts == 4
    assert Contract(contract.id).state == 'running'

    dunning(env, D(2026, 3, 16))
    contract = Contract(contract.id)
    assert contract.state == 'closed'
    assert contract.close_reason.code == 'unpaid'
    assert contract.end_date == D(2026, 3, 16)
    assert contract.payment_failed  # still to collect
    assert contract.next_payment_retry is None
    assert Invoice(invoice.id).state == 'posted'  # the invoice is kept
    assert processor_charges(env) == []
    dunning(env, D(2026, 3, 20))
    assert len(payments_of(env, invoice)) == 4


def test_suspended_contract_is_not_billed_until_paid(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, INSUFFICIENT_FUNDS,
        unpaid_action='suspend', dunning_schedule='5', auto_close_days=10)
    invoice = bill_and_charge(env, contract, START)
    dunning(env, D(2026, 3, 6))
    assert len(payments_of(env, invoice)) == 2
    dunning(env, D(2026, 3, 11))
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.payment_suspended
    assert bill(env, contract, D(2026, 4, 1)) == []  # no more billing

    # paid by bank transfer: the flag is cleared and billing resumes
    pay_by_transfer(env, invoice, D(2026, 4, 10))
    with env.on(D(2026, 4, 10)):
        env.run_tasks()
    dunning(env, D(2026, 4, 11))
    contract = Contract(contract.id)
    assert not contract.payment_failed and not contract.payment_suspended
    # billing resumes with the current period, as after a reopen
    assert contract.next_billing_date == D(2026, 4, 1)
    assert contract.state == 'running'


def test_manual_payment_during_dunning_stops_it(env):
    Contract = env.get('sale.subscription')
    contract = charge_contract(env, INSUFFICIENT_FUNDS)
    invoice = bill_and_charge(env, contract, START)
    pay_by_transfer(env, invoice, D(2026, 3, 2))
    dunning(env, D(2026, 3, 3))
    contract = Contract(contract.id)
    assert not contract.payment_failed
    assert notifications(env, contract, 'payment_reminder') == []
    assert len(payments_of(env, invoice)) == 1
    assert [l.kind for l in contract.payment_logs][0] == 'cleared'


def test_dunning_schedule_must_be_increasing_days(env):
    Plan = env.get('sale.subscription.plan')
    plan = create_plan(env.company, "Karte", 'monthly',
        invoicing_mode='charge')
    assert (plan.dunning_schedule, plan.auto_close_days,
        plan.unpaid_action) == ('2,7,14', 15, 'close')
    for schedule in ['7,2', 'zwei', '0,3']:
        with pytest.raises(UserError) as error:
            Plan.write([plan], {'dunning_schedule': schedule})
        assert f'"{schedule}"' in error.value.message
        assert "2,7,14" in error.value.message
