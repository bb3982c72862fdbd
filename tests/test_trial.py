"""A plan may start with free trial days: nothing is invoiced during the
trial, the first period starts the day after it, and the contract counts as
a trial, not in the MRR, until it converts."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import make_catalogue, run_cron, start_contract
from trytond.exceptions import UserError

D = datetime.date


def test_14_day_trial_then_first_invoice_on_day_15(env):
    Contract = env.get('sale.subscription')
    Event = env.get('sale.subscription.mrr_event')
    plan = create_plan(env.company, "Monatlich mit Test", 'monthly',
        trial_days=14)
    products = make_catalogue(env)
    contract = start_contract(
        env, plan, D(2026, 3, 1), [(products['seat'], 2)])

    assert contract.state == 'running' and contract.trial
    assert contract.trial_end_date == D(2026, 3, 14)
    assert contract.billing_anchor == D(2026, 3, 15)
    assert contract.next_billing_date == D(2026, 3, 15)
    # a trial is not revenue: an MRR of 0 (not empty) and no event, but
    # the list finds it
    assert contract.mrr == Decimal(0)
    assert not Event.search([('subscription', '=', contract.id)])
    assert Contract.search([('trial', '=', True)]) == [contract]

    for day in [D(2026, 3, 1), D(2026, 3, 7), D(2026, 3, 14)]:
        run_cron(env, day)
    contract = Contract(contract.id)
    assert contract.periods == () and contract.trial

    run_cron(env, D(2026, 3, 15))
    contract = Contract(contract.id)
    assert not contract.trial
    period, = contract.periods
    assert (period.start_date, period.end_date) == (
        D(2026, 3, 15), D(2026, 4, 14))
    assert period.invoice.invoice_date == D(2026, 3, 15)
    assert period.invoice.total_amount == Decimal('71.16')  # 59.80 + 19 %
    assert contract.next_billing_date == D(2026, 4, 15)
    event, = contract.mrr_events
    assert (event.kind, event.date, event.mrr_before, event.mrr_after) == (
        'new', D(2026, 3, 15), Decimal(0), Decimal('59.80'))
    assert contract.mrr == Decimal('59.80')
    assert Contract.search([('trial', '=', True)]) == []


def test_trial_without_payment_method_closes_when_the_plan_says_so(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Test, dann Ende", 'monthly',
        trial_days=14, trial_end_action='close')
    products = make_catalogue(env)
    contract = start_contract(
        env, plan, D(2026, 3, 1), [(products['seat'], 1)])
    assert not contract.has_payment_method()
    run_cron(env, D(2026, 3, 15))
    contract = Contract(contract.id)
    assert contract.state == 'closed'
    assert contract.end_date == D(2026, 3, 14)
    assert contract.periods == ()
    assert contract.next_billing_date is None
    # it never counted: no churn either
    assert contract.mrr_events == ()
    assert contract.trial


def test_fixed_term_counts_its_periods_after_the_trial(env):
    plan = create_plan(env.company, "3 Monate mit Test", 'monthly',
        trial_days=10, duration='fixed', duration_periods=3)
    products = make_catalogue(env)
    contract = start_contract(
        env, plan, D(2026, 1, 1), [(products['seat'], 1)])
    assert contract.billing_anchor == D(2026, 1, 11)
    assert contract.end_date == D(2026, 4, 10)


def test_negative_trial_days_are_refused(env):
    with pytest.raises(UserError) as error:
        create_plan(env.company, "Falsch", 'monthly', trial_days=-3)
    assert "Trial Days" in error.value.message
