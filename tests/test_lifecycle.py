"""A contract is closed with a reason at the end of its paid period, is not
invoiced beyond it, and can be reopened; every change of its value is logged
as an MRR event normalised to a month."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import (
    assert_mrr_invariant, bill, make_catalogue, run_cron, start_contract)
from trytond.exceptions import UserError

D = datetime.date


def reason(env, code):
    Reason = env.get('sale.subscription.close_reason')
    reason, = Reason.search([('code', '=', code)])
    return reason


def test_close_at_period_end_stops_invoicing_after_the_paid_period(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(
        env, plan, D(2026, 1, 15), [(products['seat'], 2)])
    for date in [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15)]:
        bill(env, contract, date)

    with env.on(D(2026, 3, 20)):
        end = contract.close_end_date('period_end')
        assert end == D(2026, 4, 14)
        Contract.close_contracts(
            [contract], reason(env, 'too_expensive'), end,
            comment="Budget gekürzt")
    # an end asked for: it runs until then, the daily run closes it
    contract = Contract(contract.id)
    assert (contract.state, contract.ends_on) == ('running', D(2026, 4, 14))
    assert contract.next_billing_date is None
    assert run_cron(env, D(2026, 4, 15)) == []
    contract = Contract(contract.id)
    assert contract.state == 'closed'
    assert contract.end_date == D(2026, 4, 14)
    assert contract.close_reason.code == 'too_expensive'
    assert contract.next_billing_date is None
    assert bill(env, contract, D(2026, 6, 1)) == []
    assert len(contract.periods) == 3
    assert max(p.end_date for p in contract.periods) == D(2026, 4, 14)

    churn = contract.mrr_events[0]
    assert (churn.kind, churn.date, churn.mrr_before, churn.mrr_after) == (
        'churn', D(2026, 4, 15), Decimal('59.80'), Decimal('0'))
    assert churn.close_reason.code == 'too_expensive'

    # closing twice is refused and changes nothing
    with pytest.raises(UserError) as error:
        Contract.close_contracts([contract], reason(env, 'other'), end)
    assert "cannot be closed" in error.value.message
    assert Contract(contract.id).close_reason.code == 'too_expensive'

    # a closed contract is read-only for users
    with pytest.raises(UserError) as error, _external():
        Contract.write([contract], {'description': "changed"})
    assert "is closed" in error.value.message

    # reopening counts the periods from the reopen day (the days closed
    # were neither served nor billed), logged as reactivation
    with env.on(D(2026, 6, 20)):
        Contract.reopen([contract])
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.end_date is None
    assert contract.next_billing_date == D(2026, 6, 20)
    event = contract.mrr_events[0]
    assert (event.kind, event.date, event.mrr_after) == (
        'reactivation', D(2026, 6, 20), Decimal('59.80'))
    invoice, = bill(env, contract, D(2026, 6, 20))
    assert invoice.invoice_date == D(2026, 6, 20)
    assert max(p.start_date for p in Contract(contract.id).periods) == D(
        2026, 6, 20)
    assert_mrr_invariant(env, contract, D(2026, 6, 20))


def _external():
    "Act as a user of the client: access rules and read-only checks apply"
    from trytond.transaction import Transaction
    return Transaction().set_context(_check_access=True)


@pytest.mark.parametrize('freq, interval, price, mrr', [
        ('monthly', 1, '30.00', '30.00'),
        ('monthly', 2, '50.00', '25.00'),
        ('yearly', 1, '1200.00', '100.00'),
        ('weekly', 1, '10.00', '43.33'),
        ])
def test_mrr_is_normalised_to_a_month(env, freq, interval, price, mrr):
    plan = create_plan(env.company, "Plan", freq, interval)
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 1, price)])
    assert contract.mrr == Decimal(mrr)
    event, = contract.mrr_events
    assert (event.kind, event.date, event.mrr_before, event.mrr_after) == (
        'new', D(2026, 1, 1), Decimal(0), Decimal(mrr))
    assert event.plan == plan and event.party == contract.party


def test_upsell_downgrade_and_close_are_logged(env):
    Contract = env.get('sale.subscription')
    Line = env.get('sale.subscription.line')
    plan = create_plan(env.company, "Jährlich", 'yearly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 10, '120.00')])
    assert contract.mrr == Decimal('100.00')
    line, = contract.lines
    with env.on(D(2026, 3, 1)):
        Line.write([line], {'quantity': 15})
    with env.on(D(2026, 5, 1)):
        Line.write([line], {'quantity': 12})
    with env.on(D(2026, 7, 1)):
        Contract.close_contracts(
            [contract], reason(env, 'competitor'), D(2026, 7, 1))
    contract = Contract(contract.id)
    assert [(e.kind, e.date, e.mrr_before, e.mrr_after)
        for e in reversed(contract.mrr_events)] == [
        ('new', D(2026, 1, 1), Decimal('0'), Decimal('100.00')),
        ('expansion', D(2026, 3, 1), Decimal('100.00'), Decimal('150.00')),
        ('contraction', D(2026, 5, 1), Decimal('150.00'), Decimal('120.00')),
        # closed today: MRR 0 from today, as the contract shows
        ('churn', D(2026, 7, 1), Decimal('120.00'), Decimal('0')),
        ]
    assert sum(e.mrr_change for e in contract.mrr_events) == 0


def test_fixed_term_contract_ends_by_itself(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "3 Monate", 'monthly',
        duration='fixed', duration_periods=3)
    products = make_catalogue(env)
    contract = start_contract(
        env, plan, D(2026, 1, 31), [(products['seat'], 1)])
    assert contract.end_date == D(2026, 4, 29)
    assert len(bill(env, contract, D(2026, 6, 1))) == 3
    with env.on(D(2026, 4, 29)):
        assert Contract.end_finished(D(2026, 4, 29)) == []
    with env.on(D(2026, 4, 30)):
        ended, = Contract.end_finished(D(2026, 4, 30))
    contract = Contract(contract.id)
    assert contract.state == 'closed' and contract.close_reason is None
    churn = contract.mrr_events[0]
    assert (churn.kind, churn.date, churn.mrr_after) == (
        'churn', D(2026, 4, 30), Decimal(0))
