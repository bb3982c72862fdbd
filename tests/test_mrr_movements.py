"""MRR movements per customer and period (Subscriptions › Reporting ›
MRR Movements): a small book built by the module's own operations, its
figures checked against the definitions, written out by hand."""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from helpers import confirm, customer, make_catalogue, make_sale, monthly_plan

D = datetime.date


def contract_for(env, party, plan, product, quantity, price, date):
    "The contract party gets by confirming a quotation on date"
    Contract = env.get('sale.subscription')
    with env.on(date):
        sale = confirm(env, make_sale(env, party, plan,
                [(product, quantity, price)], sale_date=date))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


def close(env, contract, date, code='competitor'):
    Contract = env.get('sale.subscription')
    Reason = env.get('sale.subscription.close_reason')
    reason, = Reason.search([('code', '=', code)])
    with env.on(date):
        Contract.close_contracts([contract], reason, date)


def movements(env, from_date, to_date, period='month', **filters):
    Movement = env.get('sale.subscription.reporting.mrr_movement')
    with Transaction().set_context(company=env.company.id,
            from_date=from_date, to_date=to_date, period=period, **filters):
        return [(m.date, m.new, m.expansion, m.reactivation, m.contraction,
                m.churn, m.net_new, m.mrr) for m in Movement.search([])]


def build_book(env):
    """Two customers over six months:
    A: Jan 100 (new), Feb a second contract of 50 (expansion), Mar closes
    it (contraction: A keeps 100), Jun swaps its 100 for 120 on one day
    (expansion 20, not a churn and a new);
    B: Jan 15 4 × 50 (new), Mar 3 seats (contraction 50), Apr closes
    (churn 150), May comes back with 80 (reactivation)."""
    Line = env.get('sale.subscription.line')
    plan = monthly_plan(env)
    seat = make_catalogue(env)['seat']
    alice, bob = customer(env, "Alice AG"), customer(env, "Bob KG")
    a1 = contract_for(env, alice, plan, seat, 1, '100.00', D(2026, 1, 1))
    b1 = contract_for(env, bob, plan, seat, 4, '50.00', D(2026, 1, 15))
    a2 = contract_for(env, alice, plan, seat, 1, '50.00', D(2026, 2, 1))
    line, = b1.lines
    with env.on(D(2026, 3, 1)):
        Line.write([line], {'quantity': 3})
    close(env, a2, D(2026, 3, 1))
    close(env, b1, D(2026, 4, 1), 'too_expensive')
    contract_for(env, bob, plan, seat, 1, '80.00', D(2026, 5, 1))
    close(env, a1, D(2026, 6, 1))
    contract_for(env, alice, plan, seat, 1, '120.00', D(2026, 6, 1))
    return plan


def money(*values):
    return tuple(Decimal(v) for v in values)


def test_movements_per_month_follow_the_definitions(env):
    build_book(env)
    rows = movements(env, D(2026, 1, 1), D(2026, 6, 30))
    #    date         new    exp   react  contr  churn  net new  MRR end
    assert rows == [
        (D(2026, 1, 1), *money(300, 0, 0, 0, 0, 300, 300)),
        (D(2026, 2, 1), *money(0, 50, 0, 0, 0, 50, 350)),
        (D(2026, 3, 1), *money(0, 0, 0, 100, 0, -100, 250)),
        (D(2026, 4, 1), *money(0, 0, 0, 0, 150, -150, 100)),
        (D(2026, 5, 1), *money(0, 0, 80, 0, 0, 80, 180)),
        (D(2026, 6, 1), *money(0, 20, 0, 0, 0, 20, 200)),
        ]


def test_quarters_years_and_a_range_that_starts_later(env):
    build_book(env)
    assert movements(env, D(2026, 1, 1), D(2026, 6, 30), 'quarter') == [
        (D(2026, 1, 1), *money(300, 50, 0, 100, 0, 250, 250)),
        (D(2026, 4, 1), *money(0, 20, 80, 0, 150, -50, 200)),
        ]
    assert movements(env, D(2026, 3, 5), D(2026, 12, 31), 'year') == [
        (D(2026, 1, 1), *money(300, 70, 80, 100, 150, 200, 200)),
        ]
    # from April: the MRR at the end counts everything before the range;
    # a month without any change still has its row
    assert movements(env, D(2026, 4, 1), D(2026, 7, 31)) == [
        (D(2026, 4, 1), *money(0, 0, 0, 0, 150, -150, 100)),
        (D(2026, 5, 1), *money(0, 0, 80, 0, 0, 80, 180)),
        (D(2026, 6, 1), *money(0, 20, 0, 0, 0, 20, 200)),
        (D(2026, 7, 1), *money(0, 0, 0, 0, 0, 0, 200)),
        ]


def test_filters_restrict_the_book_before_counting(env):
    book = build_book(env)
    Plan = env.get('sale.subscription.plan')
    other = Plan.search([('id', '!=', book.id)], limit=1)
    # another plan's book is empty
    if other:
        assert {r[1:] for r in movements(env, D(2026, 1, 1),
                    D(2026, 3, 31), plan=other[0].id)} == {
            money(0, 0, 0, 0, 0, 0, 0)}
    assert movements(env, D(2026, 1, 1), D(2026, 1, 31),
        plan=book.id) == [(D(2026, 1, 1), *money(300, 0, 0, 0, 0, 300, 300))]
    # a product: the contracts with a line of it, with all their MRR
    Product = env.get('product.product')
    seat, = Product.search([('name', '=', "Cloud-Arbeitsplatz")])
    backup, = Product.search([('name', '=', "Backup 100 GB")])
    assert movements(env, D(2026, 1, 1), D(2026, 6, 30),
        product=seat.id) == movements(env, D(2026, 1, 1), D(2026, 6, 30))
    assert {r[1:] for r in movements(env, D(2026, 1, 1), D(2026, 6, 30),
                product=backup.id)} == {
        money(0, 0, 0, 0, 0, 0, 0)}
    Country = env.get('country.country')
    nowhere = Country(name="Nirgendwo", code='ZZ')
    nowhere.save()
    assert movements(env, D(2026, 1, 1), D(2026, 1, 31),
        country=nowhere.id) == [(D(2026, 1, 1), *money(0, 0, 0, 0, 0, 0, 0))]


def kpis(env, from_date, to_date, period='month'):
    KPI = env.get('sale.subscription.reporting.kpi')
    rate = (lambda value: None if value is None
        else Decimal(value).quantize(Decimal('0.0001')))
    with Transaction().set_context(company=env.company.id,
            from_date=from_date, to_date=to_date, period=period):
        return [(k.date, k.mrr_start, k.mrr, k.arr, k.arpa,
                k.customers_start, k.customers, k.contracts,
                k.churned_customers, rate(k.customer_churn_rate),
                k.revenue_loss, rate(k.gross_mrr_churn_rate),
                rate(k.net_mrr_churn_rate)) for k in KPI.search([])]


def test_kpis_per_month_follow_the_definitions(env):
    build_book(env)
    rows = kpis(env, D(2026, 1, 1), D(2026, 6, 30))
    R = lambda v: Decimal(v)  # noqa: E731
    # date, MRR start, MRR end, ARR, ARPA, customers at start, active
    # customers, running contracts, churned customers, customer churn rate,
    # revenue loss, gross MRR churn rate, net MRR churn rate
    assert rows == [
        (D(2026, 1, 1), *money(0, 300, 3600, 150), 0, 2, 2, 0, None,
            R(0), None, None),
        # A's second contract: growth from a customer at the start
        (D(2026, 2, 1), *money(300, 350, 4200, 175), 2, 2, 3, 0, R(0),
            R(0), R(0), R('-0.1667')),
        # B 4 → 3 seats, A closes its second contract: contraction only
        (D(2026, 3, 1), *money(350, 250, 3000, 125), 2, 2, 2, 0, R(0),
            R(100), R('0.2857'), R('0.2857')),
        # B closes: one of the two customers at the start churned
        (D(2026, 4, 1), *money(250, 100, 1200, 100), 2, 1, 1, 1, R('0.5'),
            R(150), R('0.6'), R('0.6')),
        # B comes back: more MRR from the customers at the start than lost
        (D(2026, 5, 1), *money(100, 180, 2160, 90), 1, 2, 2, 0, R(0),
            R(0), R(0), R('-0.8')),
        # A swaps its contract on one day: still two contracts
        (D(2026, 6, 1), *money(180, 200, 2400, 100), 2, 2, 2, 0, R(0),
            R(0), R(0), R('-0.1111')),
        ]
    # by quarter: the second quarter starts with 250 and two customers
    q2 = kpis(env, D(2026, 4, 1), D(2026, 6, 30), 'quarter')
    assert q2 == [(D(2026, 4, 1), *money(250, 200, 2400, 100), 2, 2, 2, 1,
            R('0.5'), R(150), R('0.6'), R('0.2'))]
    # by year: B churned in April but had joined in the year, so no
    # customer of the year's start churned
    assert kpis(env, D(2026, 1, 1), D(2026, 6, 30), 'year') == [
        (D(2026, 1, 1), *money(0, 200, 2400, 100), 0, 2, 2, 0, None,
            R(250), None, None)]


def test_churn_by_close_reason(env):
    build_book(env)
    ChurnReason = env.get('sale.subscription.reporting.churn_reason')
    with Transaction().set_context(company=env.company.id,
            from_date=D(2026, 1, 1), to_date=D(2026, 6, 30),
            period='quarter'):
        rows = [(r.date, r.close_reason.code, r.contracts, r.churned_mrr)
            for r in ChurnReason.search([])]
    # contract-level: A's closes count too, though A stays a customer
    assert rows == [
        (D(2026, 1, 1), 'competitor', 1, Decimal('50')),
        (D(2026, 4, 1), 'too_expensive', 1, Decimal('150')),
        (D(2026, 4, 1), 'competitor', 1, Decimal('100')),
        ]
