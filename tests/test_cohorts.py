"""Cohort retention (Subscription Contracts › Reporting › Cohort
Retention): the book of test_mrr_movements.py with a second cohort and a
second plan, built by the module's own operations; every figure is written
out by hand from the definitions:

- a customer's cohort is the period (month or quarter) of the first day
  their MRR (in the filtered book) goes above zero;
- logo retention in period k = the cohort's customers with MRR > 0 at the
  end of period k ÷ the cohort's customers;
- revenue retention in period k = the cohort's MRR at the end of period k
  ÷ its MRR at the end of period 0 (the starting MRR).
"""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from demo.company import create_plan
from helpers import customer, make_catalogue
from test_mrr_movements import build_book, close, contract_for, movements

D = datetime.date


def build_cohorts(env):
    """build_book's January cohort (the MRR at the end of each month):
        Alice  Jan 100, Feb 150, Mar 100, Apr 100, May 100, Jun 120
        Bob    Jan 200, Feb 200, Mar 150, Apr   0, May  80, Jun  80
    and on the same plan in March, plus a second plan ("Plus"):
        Carla  from Mar 10 2 × 45 = 90, from May 1 + 30 on Plus: 120
        Dora   from Mar 20 60, closed on Mar 25: no MRR at the end of March
        Emil   from Apr 15 40 on Plus, closed on Jun 1
    Returns the two plans."""
    plan = build_book(env)
    plus = create_plan(env.company, "Monatlich Plus", 'monthly')
    seat = make_catalogue(env)['seat']
    carla, dora, emil = (customer(env, name)
        for name in ["Carla GmbH", "Dora OHG", "Emil e.K."])
    contract_for(env, carla, plan, seat, 2, '45.00', D(2026, 3, 10))
    dora1 = contract_for(env, dora, plan, seat, 1, '60.00', D(2026, 3, 20))
    close(env, dora1, D(2026, 3, 25))
    emil1 = contract_for(env, emil, plus, seat, 1, '40.00', D(2026, 4, 15))
    contract_for(env, carla, plus, seat, 1, '30.00', D(2026, 5, 1))
    close(env, emil1, D(2026, 6, 1))
    return plan, plus


def cohorts(env, from_date, to_date, period='month', measure='logo',
        **filters):
    """The rows of the report: (cohort, customers, starting MRR, the
    retention in % per period up to the last one reached)"""
    Cohort = env.get('sale.subscription.reporting.cohort')
    percent = (lambda value: None if value is None
        else Decimal(value).quantize(Decimal('0.01')))
    months = {'month': 1, 'quarter': 3}[period]
    rows = []
    with Transaction().set_context(company=env.company.id,
            from_date=from_date, to_date=to_date, period=period,
            cohort_measure=measure, **filters):
        for row in Cohort.search([]):
            values = [percent(getattr(row, 'period_%s' % k))
                for k in range(13)]
            # the periods from the cohort's to To Date's; later ones empty
            reached = ((to_date.year - row.date.year) * 12
                + to_date.month - row.date.month) // months + 1
            assert values[reached:] == [None] * len(values[reached:])
            rows.append((row.date, row.customers, row.mrr,
                    values[:reached]))
    return rows


def P(*values):
    "Percentages"
    return [None if v is None else Decimal(v).quantize(Decimal('0.01'))
        for v in values]


JAN, MAR, APR, MAY = (D(2026, m, 1) for m in [1, 3, 4, 5])
H1 = (D(2026, 1, 1), D(2026, 6, 30))


def test_monthly_logo_retention(env):
    build_cohorts(env)
    # February, May and June have no new customer (Bob's return in May is
    # his January cohort's): no row
    assert cohorts(env, *H1) == [
        # Bob has no MRR at the end of April
        (JAN, 2, Decimal(300), P(100, 100, 100, 50, 100, 100)),
        # Dora joined and left in March: her cohort's period 0 lost her
        (MAR, 2, Decimal(90), P(50, 50, 50, 50)),
        # Emil's close on June 1
        (APR, 1, Decimal(40), P(100, 100, 0)),
        ]


def test_monthly_revenue_retention(env):
    build_cohorts(env)
    assert cohorts(env, *H1, measure='revenue') == [
        # 300, 350 (Alice's expansion: more than 100 %), 250, 100, 180, 200
        (JAN, 2, Decimal(300),
            P(100, '116.67', '83.33', '33.33', 60, '66.67')),
        # Carla's second contract: 120 ÷ 90
        (MAR, 2, Decimal(90), P(100, 100, '133.33', '133.33')),
        (APR, 1, Decimal(40), P(100, 100, 0)),
        ]
    # the cohorts' MRR at the end of June is the book's: every customer
    # first had MRR within the range (200 + 120 + 0)
    assert movements(env, *H1)[-1][-1] == Decimal(320)


def test_quarterly_cohorts(env):
    build_cohorts(env)
    # first quarter: Alice, Bob, Carla, Dora; at its end 100 + 150 + 90,
    # at the end of the second 120 + 80 + 120; Dora never counts as retained
    assert cohorts(env, *H1, 'quarter') == [
        (JAN, 4, Decimal(340), P(75, 75)),
        # Emil left within his quarter: no MRR to start from
        (APR, 1, Decimal(0), P(0)),
        ]
    assert cohorts(env, *H1, 'quarter', 'revenue') == [
        # 320 ÷ 340
        (JAN, 4, Decimal(340), P(100, '94.12')),
        (APR, 1, Decimal(0), P(None)),
        ]


def test_range_and_more_than_twelve_periods(env):
    build_cohorts(env)
    # from April: the earlier customers belong to earlier cohorts
    assert cohorts(env, D(2026, 4, 1), D(2026, 6, 30), measure='revenue'
        ) == [(APR, 1, Decimal(40), P(100, 100, 0))]
    # up to March 2027: thirteen periods (0 .. 12) for January, the MRR
    # unchanged since June
    rows = cohorts(env, D(2026, 1, 1), D(2027, 3, 31), measure='revenue')
    assert [r[:3] for r in rows] == [
        (JAN, 2, Decimal(300)), (MAR, 2, Decimal(90)),
        (APR, 1, Decimal(40))]
    january, march, april = (r[3] for r in rows)
    assert january == P(100, '116.67', '83.33', '33.33', 60,
        *['66.67'] * 8)
    assert march == P(100, 100, *['133.33'] * 11)
    assert april == P(100, 100, *[0] * 10)


def test_filters_restrict_the_book_before_grouping(env):
    plan, plus = build_cohorts(env)
    # on the first plan: Carla keeps her 90, Emil is not in the book
    assert cohorts(env, *H1, measure='revenue', plan=plan.id) == [
        (JAN, 2, Decimal(300),
            P(100, '116.67', '83.33', '33.33', 60, '66.67')),
        (MAR, 2, Decimal(90), P(100, 100, 100, 100)),
        ]
    # on Plus: Carla's first MRR there is in May, her cohort's
    assert cohorts(env, *H1, plan=plus.id) == [
        (APR, 1, Decimal(40), P(100, 100, 0)),
        (MAY, 1, Decimal(30), P(100, 100)),
        ]
    Country = env.get('country.country')
    nowhere = Country(name="Nirgendwo", code='ZZ')
    nowhere.save()
    assert cohorts(env, *H1, country=nowhere.id) == []


def test_without_company_nothing(env):
    Cohort = env.get('sale.subscription.reporting.cohort')
    with Transaction().set_context(company=None):
        assert Cohort.search([]) == []
