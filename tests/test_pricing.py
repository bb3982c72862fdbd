"""A salesperson prices subscriptions: a partner price list, an introductory
"-20 % for 3 months" discount and storage sold by the gigabyte. The customer
sees the same amounts on the quotation, in the invoice preview and on every
invoice; the MRR log shows the discount starting and ending."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_category, create_product
from helpers import (
    bill, confirm, customer, make_catalogue, make_sale, monthly_plan)

from trytond.exceptions import UserError

START = datetime.date(2026, 1, 15)


def discount_first_line(sale, rate, periods):
    "The salesperson gives the first line of the quotation a discount"
    line, = sale.lines
    line.discount_rate = Decimal(rate)
    line.on_change_discount_rate()
    line.discount_periods = periods
    line.save()
    return line


def gigabyte():
    "A unit GB in its own category, as a hosting company sets it up"
    from trytond.pool import Pool
    pool = Pool()
    Category = pool.get('product.uom.category')
    Uom = pool.get('product.uom')
    category = Category(name="Datenmenge")
    category.save()
    unit = Uom(name="Gigabyte", symbol="GB", category=category, rate=1,
        factor=1, rounding=1, digits=0)
    unit.save()
    return unit


def contract_of(env, sale):
    Contract = env.get('sale.subscription')
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


def test_partner_price_list_prices_quotation_contract_and_invoice(env):
    PriceList = env.get('product.price_list')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    partner = PriceList(name="Partner -10 %", company=env.company,
        lines=[{'formula': 'list_price * 0.9'}])
    partner.save()
    party = customer(env, "Partner IT GmbH")
    party.sale_price_list = partner
    party.save()

    with env.on(START):
        sale = make_sale(env, party, plan, [(products['seat'], 3)],
            sale_date=START)
        assert sale.price_list == partner
        line, = sale.lines
        assert line.unit_price == Decimal('26.9100')  # 29.90 - 10 %
        assert sale.recurring_amount == Decimal('80.73')
        sale = confirm(env, sale)
    contract = contract_of(env, sale)
    assert contract.price_list == partner
    contract_line, = contract.lines
    assert contract_line.unit_price == Decimal('26.9100')
    assert not contract_line.discount_rate

    invoice, = bill(env, contract, START)
    invoice_line, = invoice.lines
    assert invoice_line.unit_price == Decimal('26.9100')
    assert invoice.untaxed_amount == Decimal('80.73')
    assert invoice.total_amount == Decimal('96.07')  # + 15.34 VAT


def test_introductory_discount_ends_after_three_months(env):
    Event = env.get('sale.subscription.mrr_event')
    Contract = env.get('sale.subscription')
    plan = monthly_plan(env)
    products = make_catalogue(env)

    with env.on(START):
        sale = make_sale(env, customer(env), plan, [(products['seat'], 1)],
            sale_date=START)
        assert sale.lines[0].base_price == Decimal('29.9000')
        discount_first_line(sale, '0.2', 3)
        sale = env.get('sale.sale')(sale.id)
        # the quotation shows what the first invoices will be
        assert sale.recurring_amount == Decimal('23.92')
        assert sale.recurring_total == Decimal('28.46')
        sale = confirm(env, sale)
    contract = contract_of(env, sale)
    contract_line, = contract.lines
    # the contract keeps the regular price and the discount beside it
    assert contract_line.unit_price == Decimal('29.9000')
    assert contract_line.discount_rate == Decimal('0.2000')
    assert contract_line.discount_end_date == datetime.date(2026, 4, 14)
    assert contract.mrr == Decimal('23.92')

    # the preview shows the same amounts as the quotation, then full price
    with env.on(START):
        preview = contract.preview_invoices(4)
    assert [p['total_amount'] for p in preview] == [
        Decimal('28.46'), Decimal('28.46'), Decimal('28.46'),
        Decimal('35.58')]

    totals = []
    for day in [START, datetime.date(2026, 2, 15),
            datetime.date(2026, 3, 15), datetime.date(2026, 4, 15)]:
        invoice, = bill(env, contract, day)
        totals.append((invoice.untaxed_amount, invoice.total_amount))
        invoice_line, = invoice.lines
        if day < datetime.date(2026, 4, 15):
            # the customer sees the discount and until when it runs
            assert "20 %" in invoice_line.description
            assert "14.04.2026" in invoice_line.description
        else:
            assert "%" not in invoice_line.description
            assert invoice_line.unit_price == Decimal('29.9000')
    assert totals == [
        (Decimal('23.92'), Decimal('28.46')),
        (Decimal('23.92'), Decimal('28.46')),
        (Decimal('23.92'), Decimal('28.46')),
        (Decimal('29.90'), Decimal('35.58')),
        ]

    events = Event.search([('subscription', '=', contract.id)],
        order=[('date', 'ASC'), ('id', 'ASC')])
    assert [(e.date, e.kind, e.mrr_change) for e in events] == [
        (START, 'new', Decimal('29.90')),
        (START, 'contraction', Decimal('-5.98')),
        (datetime.date(2026, 4, 15), 'expansion', Decimal('5.98')),
        ]
    contract = Contract(contract.id)
    assert contract.mrr == Decimal('29.90')
    assert contract.lines[0].discount_ended

    # the daily cron logs the end only once
    with env.on(datetime.date(2026, 4, 16)):
        Contract.bill_due_contracts(datetime.date(2026, 4, 16))
        env.run_tasks()
    assert Event.search_count([('subscription', '=', contract.id)]) == 3


def test_daily_cron_logs_the_end_of_a_discount_on_the_next_day(env):
    Event = env.get('sale.subscription.mrr_event')
    Contract = env.get('sale.subscription')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    with env.on(START):
        sale = make_sale(env, customer(env), plan, [(products['seat'], 2)],
            sale_date=START)
        discount_first_line(sale, '0.5', 1)
        sale = confirm(env, sale)
    contract = contract_of(env, sale)
    bill(env, contract, START)

    # the period is not billed before 15.02., the discount ends on 14.02.
    for day in [datetime.date(2026, 2, 14), datetime.date(2026, 2, 15)]:
        with env.on(day):
            Contract.end_discounts(day)
    event, = Event.search([
            ('subscription', '=', contract.id),
            ('kind', '=', 'expansion'),
            ])
    assert event.date == datetime.date(2026, 2, 15)
    assert event.mrr_before == Decimal('29.90')
    assert event.mrr_after == Decimal('59.80')


def test_storage_sold_by_the_gigabyte(env):
    plan = monthly_plan(env)
    unit = gigabyte()
    category = create_category(env.company, {'vat19': env.taxes['USt 19 %']})
    storage = create_product(category, "Cloud-Speicher", '0.05', uom='GB')
    with env.on(START):
        sale = make_sale(env, customer(env), plan, [(storage, 250)],
            sale_date=START)
        assert sale.lines[0].unit == unit
        assert sale.recurring_amount == Decimal('12.50')
        sale = confirm(env, sale)
    contract = contract_of(env, sale)
    contract_line, = contract.lines
    assert (contract_line.quantity, contract_line.unit.symbol) == (250, "GB")

    invoice, = bill(env, contract, START)
    invoice_line, = invoice.lines
    assert invoice_line.unit.symbol == "GB"
    assert invoice_line.quantity == 250
    assert invoice_line.unit_price == Decimal('0.0500')
    assert invoice_line.amount == Decimal('12.50')
    assert invoice.total_amount == Decimal('14.88')


@pytest.mark.parametrize('rate', ['1.2', '-0.1'])
def test_discount_beyond_100_percent_or_negative_is_refused(env, rate):
    Event = env.get('sale.subscription.mrr_event')
    Line = env.get('sale.subscription.line')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    with env.on(START):
        sale = confirm(env, make_sale(env, customer(env), plan,
                [(products['seat'], 1)], sale_date=START))
    contract = contract_of(env, sale)
    line, = contract.lines
    events = Event.search_count([('subscription', '=', contract.id)])

    with env.on(datetime.date(2026, 2, 1)):
        with pytest.raises(UserError) as info:
            Line.write([line], {'discount_rate': Decimal(rate)})
    message = info.value.message
    assert "Cloud-Arbeitsplatz" in message
    assert f"{Decimal(rate) * 100:.0f} %" in message
    assert "between 0 % and 100 %" in message
    # nothing written: no discount, no MRR change
    line = Line(line.id)
    assert line.discount_rate is None
    assert Event.search_count([('subscription', '=', contract.id)]) == events

    # nor on a new line
    with pytest.raises(UserError):
        Line.create([{
                    'subscription': contract.id,
                    'service': line.service.id,
                    'unit': line.unit.id,
                    'quantity': 1,
                    'unit_price': Decimal('9.99'),
                    'start_date': START,
                    'discount_rate': Decimal(rate),
                    }])
    assert len(Line.search([('subscription', '=', contract.id)])) == 1


def test_quotation_with_a_limited_price_increase_is_refused(env):
    Sale = env.get('sale.sale')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    with env.on(START):
        sale = make_sale(env, customer(env), plan, [(products['seat'], 1)],
            sale_date=START)
        discount_first_line(sale, '-0.1', 3)
        with pytest.raises(UserError) as info:
            Sale.quote([sale])
    assert "Cloud-Arbeitsplatz" in info.value.message
    assert Sale(sale.id).state == 'draft'
