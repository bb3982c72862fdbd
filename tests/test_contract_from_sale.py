"""A salesperson sells two recurring services and a setup fee; the customer is
invoiced once for the setup and every month for the services."""
import datetime
from decimal import Decimal


from helpers import confirm, customer, make_catalogue, make_sale, monthly_plan


def test_confirmed_quotation_creates_one_contract_and_bills_monthly(env):
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    Sale = env.get('sale.sale')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    party = customer(env)
    start = datetime.date(2026, 1, 15)

    with env.on(start):
        sale = make_sale(env, party, plan, [
                (products['seat'], 3),
                (products['backup'], 1),
                (products['setup'], 1),
                ], sale_date=start)
        # quotation figures: per period, one-time, first invoice
        assert sale.recurring_amount == Decimal('99.69')  # 3×29.90 + 9.99
        assert sale.recurring_total == Decimal('118.63')  # + 19 % VAT
        assert sale.one_time_total == Decimal('177.31')  # 149.00 + 19 %
        assert sale.first_invoice_total == Decimal('295.94')
        sale = confirm(env, sale)
        # processing again never makes a second contract
        Sale.process([sale])

    contract, = Contract.search([('origin_sale', '=', sale.id)])
    assert contract.state == 'running'
    assert contract.plan == plan
    assert contract.start_date == start
    assert [(l.service.product.name, l.quantity, l.unit_price)
        for l in sorted(contract.lines, key=lambda l: l.unit_price)] == [
        ("Backup 100 GB", 1, Decimal('9.99')),
        ("Cloud-Arbeitsplatz", 3, Decimal('29.90')),
        ]
    assert contract.next_billing_date == start
    assert contract.mrr == Decimal('99.69')
    assert list(sale.subscriptions) == [contract]

    # the setup fee alone is invoiced by the sale
    sale_invoice, = sale.invoices
    assert [l.product.name for l in sale_invoice.lines] == ["Einrichtung"]

    # three monthly runs: one posted invoice each, 19 % VAT to the cent
    for run_date in [start, datetime.date(2026, 2, 15),
            datetime.date(2026, 3, 15)]:
        with env.on(run_date):
            invoices, errors = Contract.bill(
                Contract.claim([contract.id], run_date), run_date)
        assert not errors
        invoice, = invoices
        assert invoice.state == 'posted'
        assert invoice.number.startswith('RE-2026-')
        assert invoice.untaxed_amount == Decimal('99.69')
        assert invoice.tax_amount == Decimal('18.94')
        assert invoice.total_amount == Decimal('118.63')
    contract = Contract(contract.id)
    assert [(p.start_date, p.end_date) for p in reversed(contract.periods)] == [
        (datetime.date(2026, 1, 15), datetime.date(2026, 2, 14)),
        (datetime.date(2026, 2, 15), datetime.date(2026, 3, 14)),
        (datetime.date(2026, 3, 15), datetime.date(2026, 4, 14)),
        ]
    line = contract.periods[0].invoice.lines[0]
    assert "15.03.2026" in line.description and "14.04.2026" in line.description

    # the same run again invoices nothing
    with env.on(datetime.date(2026, 3, 15)):
        invoices, errors = Contract.bill(Contract.claim(
                [contract.id], datetime.date(2026, 3, 15)),
            datetime.date(2026, 3, 15))
    assert invoices == [] and errors == {}
    assert Invoice.search_count([('party', '=', party.id)]) == 4


def test_quotation_report_shows_the_three_totals(env):
    import io
    import zipfile
    plan = monthly_plan(env)
    products = make_catalogue(env)
    party = customer(env)
    with env.on(datetime.date(2026, 1, 15)):
        sale = make_sale(env, party, plan, [
                (products['seat'], 3),
                (products['backup'], 1),
                (products['setup'], 1),
                ], sale_date=datetime.date(2026, 1, 15))
        env.get('sale.sale').quote([sale])
        Report = env.get('sale.sale.subscription_quotation', type='report')
        extension, content, _, name = Report.execute([sale.id], {})
    if extension == 'odt':
        with zipfile.ZipFile(io.BytesIO(content)) as odt:
            text = odt.read('content.xml').decode()
    else:
        assert extension == 'fodt'
        text = bytes(content).decode()
    # the customer reads German: amounts as on the invoices, to the cent
    for amount in ['118,63', '177,31', '295,94', '89,70', '149,00']:
        assert amount in text, amount
    assert "Cloud-Arbeitsplatz" in text and "Einrichtung" in text
