"""Closing at the end of the period is an end asked for, as Stripe's
cancel_at_period_end: the contract runs (and counts in the MRR) until its
last paid day, the daily run closes it the day after with the churn; Reopen
cancels an end that has not come. Reopening a closed contract counts its
periods from the reopen day: the days it was closed are neither served nor
invoiced. The MRR shown on a contract is always the sum of its MRR log."""
import datetime
from decimal import Decimal

from trytond.pyson import PYSONDecoder
from trytond.transaction import Transaction

from demo.company import create_plan
from helpers import (
    assert_mrr_invariant, bill, make_catalogue, mrr_from_log, run_cron,
    start_contract)

D = datetime.date


def reason(env, code):
    Reason = env.get('sale.subscription.close_reason')
    reason, = Reason.search([('code', '=', code)])
    return reason


def close_by_wizard(env, contract, date, timing, code='too_expensive'):
    "A user closes the contract on date with the Close wizard"
    Wizard = env.get('sale.subscription.close', type='wizard')
    Contract = env.get('sale.subscription')
    with env.on(date), Transaction().set_context(
            active_model='sale.subscription', active_id=contract.id,
            active_ids=[contract.id]):
        session_id, _, _ = Wizard.create()
        wizard = Wizard(session_id)
        defaults = wizard.default_start(None)
        wizard.start.contract = contract
        wizard.start.timing = timing
        wizard.start.reason = reason(env, code)
        wizard.start.comment = "Budget gekürzt"
        shown = wizard.start.on_change_with_end_date()
        wizard.transition_close()
        Wizard.delete(session_id)
    return defaults, shown, Contract(contract.id)


def ending_list(env):
    "The contracts of the list's Ending tab"
    Contract = env.get('sale.subscription')
    ModelData = env.get('ir.model.data')
    Domain = env.get('ir.action.act_window.domain')
    tab = Domain(ModelData.get_id(
            'sale_subscription_contract', 'act_contract_form_domain_ending'))
    action_domain = PYSONDecoder().decode(tab.act_window.domain)
    return Contract.search(
        action_domain + PYSONDecoder().decode(tab.domain))


def events(contract):
    return [(e.kind, e.date, e.mrr_change)
        for e in reversed(contract.mrr_events)]


def seat_contract(env, start=D(2026, 1, 15)):
    "Two seats, 59.80 a month (71.16 with VAT), billed up to March"
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, start, [(products['seat'], 2)])
    for month in [1, 2, 3]:
        bill(env, contract, D(2026, month, start.day))
    return contract


def test_close_at_period_end_runs_until_the_daily_run_closes_it(env):
    contract = seat_contract(env)
    defaults, shown, contract = close_by_wizard(
        env, contract, D(2026, 3, 20), 'period_end')
    assert defaults['end_date'] == shown == D(2026, 4, 14)

    # still running, with its MRR, and it says when it ends
    assert contract.state == 'running'
    assert contract.ends_on == contract.end_date == D(2026, 4, 14)
    assert contract.mrr == Decimal('59.80')
    assert contract.close_reason.code == 'too_expensive'
    assert contract.next_billing_date is None
    assert ending_list(env) == [contract]
    assert events(contract) == [('new', D(2026, 1, 15), Decimal('59.80'))]
    assert_mrr_invariant(env, contract, D(2026, 3, 20))

    # the last day of service: still running
    assert run_cron(env, D(2026, 4, 14)) == []
    contract = env.get('sale.subscription')(contract.id)
    assert contract.state == 'running'
    assert_mrr_invariant(env, contract, D(2026, 4, 14))

    # the day after, the daily run closes it: churn on that day
    assert run_cron(env, D(2026, 4, 15)) == []
    contract = env.get('sale.subscription')(contract.id)
    assert (contract.state, contract.mrr, contract.ends_on) == (
        'closed', Decimal(0), None)
    assert contract.close_reason.code == 'too_expensive'
    assert contract.closed_on == D(2026, 3, 20)
    assert events(contract) == [
        ('new', D(2026, 1, 15), Decimal('59.80')),
        ('churn', D(2026, 4, 15), Decimal('-59.80')),
        ]
    assert contract.mrr_events[0].close_reason.code == 'too_expensive'
    assert ending_list(env) == []
    assert_mrr_invariant(env, contract, D(2026, 4, 15))
    assert run_cron(env, D(2026, 5, 15)) == []
    assert max(p.end_date for p in contract.periods) == D(2026, 4, 14)


def test_close_today_closes_at_once(env):
    contract = seat_contract(env)
    _, shown, contract = close_by_wizard(
        env, contract, D(2026, 3, 20), 'today')
    assert shown == D(2026, 3, 20)
    assert (contract.state, contract.end_date, contract.ends_on) == (
        'closed', D(2026, 3, 20), None)
    assert contract.mrr == Decimal(0)
    assert events(contract)[-1] == (
        'churn', D(2026, 3, 20), Decimal('-59.80'))
    assert ending_list(env) == []
    assert_mrr_invariant(env, contract, D(2026, 3, 20))


def test_reopen_the_same_day_cancels_the_end_and_logs_nothing(env):
    Contract = env.get('sale.subscription')
    contract = seat_contract(env)
    close_by_wizard(env, contract, D(2026, 3, 20), 'period_end')
    with env.on(D(2026, 3, 20)):
        Contract.reopen([Contract(contract.id)])
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert (contract.end_date, contract.ends_on, contract.close_reason) == (
        None, None, None)
    assert contract.mrr == Decimal('59.80')
    assert contract.next_billing_date == D(2026, 4, 15)
    # no churn to come, no reactivation: nothing happened
    assert events(contract) == [('new', D(2026, 1, 15), Decimal('59.80'))]
    for date in [D(2026, 3, 20), D(2026, 4, 14), D(2026, 4, 15),
            D(2026, 5, 1)]:
        assert mrr_from_log(env, contract, date) == Decimal('59.80')
    assert_mrr_invariant(env, contract, D(2026, 3, 20))
    assert ending_list(env) == []

    # the daily run neither closes it nor stops its invoices
    invoice, = run_cron(env, D(2026, 4, 15))
    assert invoice.total_amount == Decimal('71.16')
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert max(p.end_date for p in contract.periods) == D(2026, 5, 14)
    assert_mrr_invariant(env, contract, D(2026, 4, 15))


def test_reopen_before_the_end_cancels_it(env):
    Contract = env.get('sale.subscription')
    contract = seat_contract(env)
    close_by_wizard(env, contract, D(2026, 3, 20), 'period_end')
    with env.on(D(2026, 4, 2)):
        Contract.reopen([Contract(contract.id)])
    invoice, = run_cron(env, D(2026, 4, 15))
    contract = Contract(contract.id)
    assert (contract.state, contract.mrr) == ('running', Decimal('59.80'))
    assert events(contract) == [('new', D(2026, 1, 15), Decimal('59.80'))]
    assert_mrr_invariant(env, contract, D(2026, 4, 15))


def test_reopening_after_the_close_bills_from_the_reopen_day(env):
    "Closed at the end of May, reopened on 10 June: June 1-9 is not billed"
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 2)])
    for month in range(1, 6):
        run_cron(env, D(2026, month, 1))
    close_by_wizard(env, contract, D(2026, 5, 20), 'period_end')
    assert run_cron(env, D(2026, 6, 1)) == []
    contract = Contract(contract.id)
    assert contract.state == 'closed'

    with env.on(D(2026, 6, 10)):
        Contract.reopen([contract])
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.billing_anchor == D(2026, 6, 10)
    assert contract.next_billing_date == D(2026, 6, 10)
    invoice, = run_cron(env, D(2026, 6, 10))
    assert invoice.total_amount == Decimal('71.16')
    line, = invoice.lines
    assert line.description.endswith("10.06.2026 – 09.07.2026")
    contract = Contract(contract.id)
    assert sorted((p.start_date, p.end_date) for p in contract.periods)[
        -2:] == [
        (D(2026, 5, 1), D(2026, 5, 31)), (D(2026, 6, 10), D(2026, 7, 9))]
    assert events(contract) == [
        ('new', D(2026, 1, 1), Decimal('59.80')),
        ('churn', D(2026, 6, 1), Decimal('-59.80')),
        ('reactivation', D(2026, 6, 10), Decimal('59.80')),
        ]
    # what was billed matches the MRR: nothing between 1 and 9 June
    assert mrr_from_log(env, contract, D(2026, 6, 5)) == Decimal(0)
    assert_mrr_invariant(env, contract, D(2026, 6, 10))
    assert run_cron(env, D(2026, 7, 1)) == []
    invoice, = run_cron(env, D(2026, 7, 10))
    assert invoice.total_amount == Decimal('71.16')


def test_reopening_within_a_paid_period_goes_on_with_it(env):
    "Closed today in a period paid in full: reopened, nothing is billed twice"
    Contract = env.get('sale.subscription')
    contract = seat_contract(env)
    close_by_wizard(env, contract, D(2026, 3, 20), 'today')
    with env.on(D(2026, 3, 25)):
        Contract.reopen([Contract(contract.id)])
    contract = Contract(contract.id)
    assert contract.next_billing_date == D(2026, 4, 15)
    assert run_cron(env, D(2026, 3, 25)) == []
    assert_mrr_invariant(env, contract, D(2026, 3, 25))
    invoice, = run_cron(env, D(2026, 4, 15))
    assert invoice.total_amount == Decimal('71.16')
