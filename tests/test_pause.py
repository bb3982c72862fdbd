"""A customer pauses a contract: the pause starts at the end of the period
already invoiced (nothing paid for is lost, no credit note), nothing is
invoiced while paused, the MRR drops to 0 and comes back on resume, and the
periods then count from the resume day."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import bill, make_catalogue, run_cron, start_contract
from trytond.exceptions import UserError

D = datetime.date


def pausable_plan(env, **values):
    values.setdefault('pause_max_days', 60)
    return create_plan(env.company, "Monatlich pausierbar", 'monthly',
        pause_allowed=True, **values)


def test_pause_45_days_with_automatic_resume(env):
    Contract = env.get('sale.subscription')
    products = make_catalogue(env)
    contract = start_contract(env, pausable_plan(env), D(2026, 1, 1),
        [(products['seat'], 1)])
    bill(env, contract, D(2026, 1, 1))

    # asked on 20 January: January is paid, so the pause starts on 1 February
    with env.on(D(2026, 1, 20)):
        Contract.pause([contract], D(2026, 1, 20),
            resume_on=D(2026, 1, 20) + datetime.timedelta(days=45 + 12))
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.paused_from == D(2026, 2, 1)
    assert contract.resume_on == D(2026, 3, 18)  # 45 days of pause
    assert contract.next_billing_date is None

    for day in [D(2026, 2, 1), D(2026, 2, 15), D(2026, 3, 1),
            D(2026, 3, 17)]:
        run_cron(env, day)
        contract = Contract(contract.id)
        assert contract.state == 'paused'
        assert len(contract.periods) == 1
    assert contract.mrr == Decimal(0)

    run_cron(env, D(2026, 3, 18))
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.paused_from is None
    assert contract.billing_anchor == D(2026, 3, 18)
    assert [(p.start_date, p.end_date) for p in contract.periods] == [
        (D(2026, 3, 18), D(2026, 4, 17)), (D(2026, 1, 1), D(2026, 1, 31))]
    assert contract.periods[0].invoice.total_amount == Decimal('35.58')
    assert contract.next_billing_date == D(2026, 4, 18)
    assert [(e.kind, e.date, e.mrr_change)
        for e in reversed(contract.mrr_events)] == [
        ('new', D(2026, 1, 1), Decimal('29.90')),
        ('pause', D(2026, 2, 1), Decimal('-29.90')),
        ('resume', D(2026, 3, 18), Decimal('29.90')),
        ]
    assert contract.mrr == sum(e.mrr_change for e in contract.mrr_events)


def test_pause_and_resume_by_hand(env):
    Contract = env.get('sale.subscription')
    products = make_catalogue(env)
    contract = start_contract(env, pausable_plan(env, pause_max_days=None),
        D(2026, 1, 1), [(products['seat'], 1)])
    bill(env, contract, D(2026, 1, 1))
    with env.on(D(2026, 2, 1)):
        Contract.pause([contract], D(2026, 2, 1))
    contract = Contract(contract.id)
    assert contract.state == 'paused' and contract.resume_on is None
    assert bill(env, contract, D(2026, 5, 1)) == []
    with env.on(D(2026, 5, 10)):
        Contract.resume([contract])
    invoice, = bill(env, contract, D(2026, 5, 10))
    assert Contract(contract.id).periods[0].start_date == D(2026, 5, 10)


def test_pause_billed_in_arrears_still_invoices_the_served_period(env):
    Contract = env.get('sale.subscription')
    products = make_catalogue(env)
    contract = start_contract(env,
        pausable_plan(env, billing_timing='arrears'),
        D(2026, 1, 1), [(products['seat'], 1)])
    with env.on(D(2026, 1, 10)):
        Contract.pause([contract], D(2026, 1, 10),
            resume_on=D(2026, 3, 1))
    assert Contract(contract.id).paused_from == D(2026, 2, 1)
    run_cron(env, D(2026, 2, 1))
    contract = Contract(contract.id)
    assert contract.state == 'paused'
    period, = contract.periods
    assert (period.start_date, period.end_date) == (
        D(2026, 1, 1), D(2026, 1, 31))
    assert contract.next_billing_date is None


def test_bad_pauses_are_refused_and_change_nothing(env):
    Contract = env.get('sale.subscription')
    Reason = env.get('sale.subscription.close_reason')
    products = make_catalogue(env)
    plan = pausable_plan(env)
    contract = start_contract(
        env, plan, D(2026, 1, 1), [(products['seat'], 1)])
    bill(env, contract, D(2026, 1, 1))

    def unchanged():
        c = Contract(contract.id)
        assert (c.state, c.paused_from, c.resume_on, c.mrr) == (
            'running', None, None, Decimal('29.90'))

    with env.on(D(2026, 1, 20)):
        # longer than the 60 days the plan allows
        with pytest.raises(UserError) as error:
            Contract.pause([contract], D(2026, 2, 1),
                resume_on=D(2026, 4, 15))
        assert "60 days" in error.value.message
        unchanged()
        # resuming before the pause starts
        with pytest.raises(UserError) as error:
            Contract.pause([contract], D(2026, 1, 20),
                resume_on=D(2026, 1, 25))
        assert "later resume date" in error.value.message
        unchanged()

    other = start_contract(env,
        create_plan(env.company, "Ohne Pause", 'monthly'),
        D(2026, 1, 1), [(products['seat'], 1)])
    with env.on(D(2026, 1, 20)), pytest.raises(UserError) as error:
        Contract.pause([other], D(2026, 2, 1), resume_on=D(2026, 2, 10))
    assert "does not allow pauses" in error.value.message
    assert Contract(other.id).paused_from is None

    reason, = Reason.search([('code', '=', 'other')])
    with env.on(D(2026, 1, 20)):
        Contract.close_contracts([contract], reason, D(2026, 1, 31),
            at_once=True)
        with pytest.raises(UserError) as error:
            Contract.pause([contract], D(2026, 2, 1),
                resume_on=D(2026, 2, 10))
    assert "cannot be paused" in error.value.message
    closed = Contract(contract.id)
    assert (closed.state, closed.paused_from) == ('closed', None)
