"""LTV, net revenue and non-recurring revenue in the Subscription KPIs: a
small book built by the module's own operations (a plan's and a product's
setup fee, a one-time line of a quotation, a credit note, a churn, an
invoice in another currency), its figures written out by hand from the
definitions (README, "## Analytics")."""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from demo.company import create_plan
from helpers import (
    bill, confirm, customer, make_catalogue, make_sale, monthly_plan)
from test_mrr_movements import contract_for

D = datetime.date
CENT = Decimal('0.01')


def cents(value):
    return None if value is None else Decimal(value).quantize(CENT)


def kpis(env, from_date, to_date, period='month', **filters):
    "(period, ARPA, LTV, net revenue, non-recurring revenue) per period"
    KPI = env.get('sale.subscription.reporting.kpi')
    with Transaction().set_context(company=env.company.id,
            from_date=from_date, to_date=to_date, period=period, **filters):
        return [(k.date, cents(k.arpa), cents(k.ltv), cents(k.net_revenue),
                cents(k.non_recurring_revenue)) for k in KPI.search([])]


def dollar_invoice(env, party, product, price, date):
    """A posted invoice in USD of one line without origin (typed in the
    ERP); 2 USD = 1 EUR from the start of 2026"""
    Currency = env.get('currency.currency')
    Rate = env.get('currency.currency.rate')
    Invoice = env.get('account.invoice')
    Line = env.get('account.invoice.line')
    usd, = Currency.search([('code', '=', 'USD')]) or [None]
    if usd is None:
        usd = Currency(name="US Dollar", code='USD', symbol='$',
            rounding=CENT, digits=2)
        usd.save()
    Rate(currency=usd, date=D(2026, 1, 1), rate=Decimal(2)).save()
    invoice = Invoice(type='out', company=env.company, party=party,
        currency=usd, invoice_date=date)
    invoice.on_change_type()
    invoice.on_change_party()
    line = Line(invoice=invoice, type='line', company=env.company,
        currency=usd, product=product, quantity=1)
    line.on_change_product()
    line.unit_price = Decimal(price)
    invoice.lines = [line]
    invoice.save()
    with env.on(date):
        Invoice.post([invoice])
    return invoice


def build_book(env):
    """Three customers from 1 January 2026, billed monthly:
    Alice: 100 on a plan with a setup fee of 100; her first invoice (200)
      is refunded by a credit note on 10 February;
    Bob: 50, and a one-time line of 149 on his quotation (the sale's own
      invoice); closes at the end of February (churn on 1 March);
    Carol: 150 of a product with a setup fee of 20.
    And a typed invoice of 200 USD (100 EUR) on 15 April."""
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    Template = env.get('product.template')
    Reason = env.get('sale.subscription.close_reason')
    products = make_catalogue(env)
    seat, backup, setup = (
        products['seat'], products['backup'], products['setup'])
    Template.write([backup.template], {'subscription_setup_fee': 20})
    with_fee = create_plan(env.company, "Monatlich mit Einrichtung",
        'monthly', setup_fee_product=setup,
        setup_fee_price=Decimal('100.00'))
    plain = monthly_plan(env)
    alice, bob, carol = [customer(env, n)
        for n in ["Alice AG", "Bob KG", "Carol GmbH"]]

    jan = D(2026, 1, 1)
    a = contract_for(env, alice, with_fee, seat, 1, '100.00', jan)
    with env.on(jan):
        sale = confirm(env, make_sale(env, bob, plain,
                [(seat, 1, '50.00'), (setup, 1, '149.00')], sale_date=jan))
        Invoice.post(sale.invoices)
    b, = Contract.search([('origin_sale', '=', sale.id)])
    c = contract_for(env, carol, plain, backup, 1, '150.00', jan)

    first, = bill(env, a, jan)
    for contract in [b, c]:
        bill(env, contract, jan)
    for contract in [a, b, c]:
        bill(env, contract, D(2026, 2, 1))
    with env.on(D(2026, 2, 10)):
        credit_note, = Invoice.credit([first], refund=True)
    assert credit_note.total_amount == Decimal('-238.00')  # 200 + 19 %
    assert Invoice(first.id).state == 'cancelled'
    reason, = Reason.search([('code', '=', 'competitor')])
    with env.on(D(2026, 3, 1)):
        Contract.close_contracts([b], reason, D(2026, 2, 28))
    for date in [D(2026, 3, 1), D(2026, 4, 1)]:
        for contract in [a, c]:
            bill(env, contract, date)
    dollar_invoice(env, carol, setup, '200.00', D(2026, 4, 15))
    return with_fee, plain


def money(*values):
    return tuple(None if v is None else Decimal(v).quantize(CENT)
        for v in values)


def test_ltv_and_revenue_per_month_follow_the_definitions(env):
    build_book(env)
    # customer churn rates per month: Feb 0 of 3, Mar 1 of 3 (Bob),
    # Apr 0 of 2; before February no month starts with customers
    assert kpis(env, D(2026, 1, 1), D(2026, 4, 30)) == [
        #             ARPA   LTV   net revenue  non-recurring
        # no month with customers at its start: no churn rate yet;
        # 100 + 100 (plan's fee) + 50 + 149 (sale) + 150 + 20 (product's)
        (D(2026, 1, 1), *money(100, None, 569, 269)),
        # no churn in the six months: LTV undefined;
        # 300 billed - 200 credited (100 of it the plan's fee)
        (D(2026, 2, 1), *money(100, None, 100, -100)),
        # 250 / 2 ÷ average(0, 1/3) = 125 × 6
        (D(2026, 3, 1), *money(125, 750, 250, 0)),
        # 125 ÷ average(0, 1/3, 0) = 125 × 9; 250 billed + 200 USD / 2
        (D(2026, 4, 1), *money(125, 1125, 350, 100)),
        ]


def test_quarters_average_the_six_months_ending_with_the_period(env):
    build_book(env)
    assert kpis(env, D(2026, 1, 1), D(2026, 6, 30), 'quarter') == [
        # October to March: average(0, 1/3)
        (D(2026, 1, 1), *money(125, 750, 919, 169)),
        # January to June: average(0, 1/3, 0, 0, 0) = 1/15
        (D(2026, 4, 1), *money(125, 1875, 350, 100)),
        ]
    # a year's revenue is its months'; the rates of July to December 2026
    # are 0: average(0 × 5, 0) = 0
    assert kpis(env, D(2026, 1, 1), D(2026, 12, 31), 'year') == [
        (D(2026, 1, 1), *money(125, None, 1269, 269)),
        ]


def test_filters_keep_the_revenue_of_their_contracts(env):
    with_fee, plain = build_book(env)
    revenue = lambda rows: [r[3:] for r in rows]  # noqa: E731
    # Alice's plan: her credit note takes back her period and her plan's
    # setup fee, both attributed by the lines they credit
    assert revenue(kpis(env, D(2026, 1, 1), D(2026, 4, 30),
                plan=with_fee.id)) == [
        money(200, 100), money(-100, -100), money(100, 0), money(100, 0)]
    # Bob's one-time line belongs to the contract his quotation made; the
    # typed USD invoice bills no contract: no plan's revenue
    assert revenue(kpis(env, D(2026, 1, 1), D(2026, 4, 30),
                plan=plain.id)) == [
        money(369, 169), money(200, 0), money(150, 0), money(150, 0)]
    Country = env.get('country.country')
    nowhere = Country(name="Nirgendwo", code='ZZ')
    nowhere.save()
    assert revenue(kpis(env, D(2026, 1, 1), D(2026, 1, 31),
                country=nowhere.id)) == [money(0, 0)]
