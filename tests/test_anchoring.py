"""Billing periods keep their anchor day: a contract starting on 31 January
is billed on 28/29 February, 31 March, 30 April… never drifting to the 28th."""
import datetime
from decimal import Decimal

from demo.company import create_plan
from helpers import bill, make_catalogue, start_contract

D = datetime.date


def start_seat_contract(env, plan, start):
    products = make_catalogue(env)
    return start_contract(env, plan, start, [(products['seat'], 1)])


def period_starts(contract):
    return sorted(p.start_date for p in contract.periods)


def test_monthly_from_31_january_over_13_months(env):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    contract = start_seat_contract(env, plan, D(2026, 1, 31))
    invoices = bill(env, contract, D(2027, 1, 31))
    assert len(invoices) == 13
    assert period_starts(contract) == [
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30),
        D(2026, 5, 31), D(2026, 6, 30), D(2026, 7, 31), D(2026, 8, 31),
        D(2026, 9, 30), D(2026, 10, 31), D(2026, 11, 30), D(2026, 12, 31),
        D(2027, 1, 31)]
    # a catch-up run dates its invoices on the run; each line names its days
    assert {i.invoice_date for i in invoices} == {D(2027, 1, 31)}
    assert any("28.02.2026 – 30.03.2026" in i.lines[0].description
        for i in invoices)
    assert contract.next_billing_date == D(2027, 2, 28)
    assert all(i.total_amount == Decimal('35.58') for i in invoices)


def test_monthly_from_29_february_in_a_leap_year(env):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    contract = start_seat_contract(env, plan, D(2024, 2, 29))
    bill(env, contract, D(2025, 2, 28))
    assert period_starts(contract) == [
        D(2024, 2, 29), D(2024, 3, 29), D(2024, 4, 29), D(2024, 5, 29),
        D(2024, 6, 29), D(2024, 7, 29), D(2024, 8, 29), D(2024, 9, 29),
        D(2024, 10, 29), D(2024, 11, 29), D(2024, 12, 29), D(2025, 1, 29),
        D(2025, 2, 28)]


def test_yearly_from_29_february(env):
    plan = create_plan(env.company, "Jährlich", 'yearly')
    contract = start_seat_contract(env, plan, D(2024, 2, 29))
    bill(env, contract, D(2028, 3, 1))
    assert period_starts(contract) == [
        D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28),
        D(2028, 2, 29)]
    assert [(p.start_date, p.end_date) for p in contract.periods][-1] == (
        D(2024, 2, 29), D(2025, 2, 27))


def test_weekly_plan(env):
    plan = create_plan(env.company, "Wöchentlich", 'weekly')
    contract = start_seat_contract(env, plan, D(2026, 3, 2))
    bill(env, contract, D(2026, 3, 30))
    assert period_starts(contract) == [
        D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16), D(2026, 3, 23),
        D(2026, 3, 30)]
    # 29.90 a week is 29.90 × 52 ÷ 12 a month
    assert contract.mrr == Decimal('129.57')


def test_billing_in_arrears_invoices_the_period_that_ended(env):
    plan = create_plan(env.company, "Monatlich nachträglich", 'monthly',
        billing_timing='arrears')
    contract = start_seat_contract(env, plan, D(2026, 1, 31))
    assert contract.next_billing_date == D(2026, 2, 28)
    assert bill(env, contract, D(2026, 2, 27)) == []
    invoice, = bill(env, contract, D(2026, 2, 28))
    assert invoice.invoice_date == D(2026, 2, 28)
    period, = contract.periods
    assert (period.start_date, period.end_date) == (
        D(2026, 1, 31), D(2026, 2, 27))
