"""Mid-period changes: a customer who adds a seat, drops one or switches
plan in the middle of a period pays the old price for the days before the
change and the new one from the change on, to the cent, taxes included."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import bill, confirm, make_catalogue, make_sale, start_contract
from trytond.exceptions import UserError

D = datetime.date
VAT = Decimal('0.19')


def gross(*nets):
    """What a customer computes: each line's net plus its 19 % VAT rounded
    to the cent (half to even), as the ERP's tax engine does per line"""
    return sum(Decimal(n) + (Decimal(n) * VAT).quantize(Decimal('0.01'))
        for n in nets)


def change(env, contract, date, lines=None, plan=None, customer=False):
    "Apply a change as if made on date; return the invoices written"
    Contract = env.get('sale.subscription')
    contract = Contract(contract.id)
    with env.on(date):
        return contract.get_change(date, lines=lines, plan=plan).apply(
            customer=customer)


def seat_line(contract):
    line, = [l for l in contract.lines if not l.end_date]
    return line


def test_one_more_seat_on_day_16_of_31_is_invoiced_at_once(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 1)])
    first, = bill(env, contract, D(2026, 3, 1))
    assert first.total_amount == gross('29.90')

    line = seat_line(contract)
    invoice, = change(env, contract, D(2026, 3, 16),
        [{'line': line, 'quantity': 2}])

    # 16/31 × 29.90 = 15.4322… → 15.43, plus 2.93 VAT
    assert invoice.state == 'posted'
    assert invoice.untaxed_amount == Decimal('15.43')
    assert invoice.total_amount == Decimal('18.36')
    prorated, = invoice.lines
    assert prorated.description == (
        "Cloud-Arbeitsplatz, prorated 16/31 days, "
        "16.03.2026 – 31.03.2026")
    assert prorated.origin == line
    assert prorated.product == products['seat']
    # the next full period uses the new quantity
    april, = bill(env, contract, D(2026, 4, 1))
    assert april.untaxed_amount == Decimal('59.80')
    assert april.total_amount == gross('59.80')
    contract = Contract(contract.id)
    event = contract.mrr_events[0]
    assert (event.kind, event.mrr_change) == ('expansion', Decimal('29.90'))
    assert contract.mrr == Decimal('59.80')


def yearly_plan(env, **values):
    return create_plan(env.company, "Jährlich", 'yearly', **values)


def test_downgrade_of_a_yearly_plan_after_100_days(env):
    plan = yearly_plan(env)
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 3, '358.80')])
    bill(env, contract, D(2026, 1, 1))
    line = seat_line(contract)

    # 100 days used, 265 of 365 left: 358.80 × 265/365 = 260.4986… → 260.50
    assert change(env, contract, D(2026, 4, 11),
        [{'line': line, 'quantity': 2}]) == []
    adjustment, = contract.adjustments
    assert (adjustment.amount, adjustment.state) == (
        Decimal('-260.50'), 'pending')
    assert bill(env, contract, D(2026, 12, 31)) == []

    invoice, = bill(env, contract, D(2027, 1, 1))
    # 2 × 358.80 − 260.50 = 457.10
    assert invoice.untaxed_amount == Decimal('457.10')
    assert invoice.total_amount == gross('717.60', '-260.50')
    assert sorted(l.amount for l in invoice.lines) == [
        Decimal('-260.50'), Decimal('717.60')]
    assert [a.state for a in contract.adjustments] == ['invoiced']
    assert contract.adjustments[0].invoiced_on == D(2027, 1, 1)
    # settled once: the next year is the full new price
    invoice, = bill(env, contract, D(2028, 1, 1))
    assert invoice.untaxed_amount == Decimal('717.60')


def test_downgrade_credited_by_a_credit_note(env):
    plan = yearly_plan(env, downgrade_credit='credit_note')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 3, '358.80')])
    bill(env, contract, D(2026, 1, 1))

    credit_note, = change(env, contract, D(2026, 4, 11),
        [{'line': seat_line(contract), 'quantity': 2}])
    assert credit_note.state == 'posted'
    assert credit_note.total_amount == gross('-260.50') == Decimal('-310.00')
    invoice, = bill(env, contract, D(2027, 1, 1))
    assert invoice.total_amount == gross('717.60')


def test_credits_larger_than_the_next_invoice_are_carried_over(env):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 3)])
    bill(env, contract, D(2026, 3, 1))

    # 2 × 29.90 × 30/31 = 57.8709… → 57.87 credited
    change(env, contract, D(2026, 3, 2),
        [{'line': seat_line(contract), 'quantity': 1}])
    april, = bill(env, contract, D(2026, 4, 1))
    assert april.total_amount == Decimal('0.00')
    may, = bill(env, contract, D(2026, 5, 1))
    # 57.87 − 29.90 = 27.97 left from April
    assert may.untaxed_amount == Decimal('1.93')
    assert may.total_amount == gross('1.93')
    assert sorted(a.amount for a in contract.adjustments) == [
        Decimal('-29.90'), Decimal('-27.97')]
    assert {a.state for a in contract.adjustments} == {'invoiced'}


def test_switch_from_monthly_to_yearly_mid_period(env):
    Contract = env.get('sale.subscription')
    yearly = yearly_plan(env)
    monthly = create_plan(env.company, "Monatlich", 'monthly',
        related_plans=[yearly])
    products = make_catalogue(env)
    contract = start_contract(env, monthly, D(2026, 3, 1),
        [(products['seat'], 1)])
    bill(env, contract, D(2026, 3, 1))

    invoice, = change(env, contract, D(2026, 3, 16), plan=yearly)

    # the unused 16/31 of March is credited on the first yearly invoice:
    # 12 × 29.90 − 29.90 × 16/31 = 358.80 − 15.43 = 343.37
    assert invoice.untaxed_amount == Decimal('343.37')
    assert invoice.total_amount == gross('343.37')
    assert sorted(l.description for l in invoice.lines) == [
        "Cloud-Arbeitsplatz, 16.03.2026 – 15.03.2027",
        "Cloud-Arbeitsplatz, prorated 16/31 days, 16.03.2026 – 31.03.2026",
        ]
    contract = Contract(contract.id)
    assert contract.plan == yearly
    assert contract.billing_anchor == D(2026, 3, 16)
    assert contract.next_billing_date == D(2027, 3, 16)
    assert bill(env, contract, D(2026, 4, 1)) == []


def test_a_change_on_the_last_day_of_a_period(env):
    plan = create_plan(env.company, "Monatlich", 'monthly',
        upgrade_invoicing='next_invoice')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 1)])
    bill(env, contract, D(2026, 3, 1))

    # one day of 31: 29.90 / 31 = 0.9645… → 0.96, on the next invoice
    assert change(env, contract, D(2026, 3, 31),
        [{'line': seat_line(contract), 'quantity': 2}]) == []
    april, = bill(env, contract, D(2026, 4, 1))
    assert april.untaxed_amount == Decimal('60.76')
    assert april.total_amount == gross('60.76')


def test_february_of_a_leap_year(env):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2028, 2, 1),
        [(products['seat'], 2)])
    bill(env, contract, D(2028, 2, 1))

    # from 15 February, 15 of 29 days: a backup more, a seat less
    backup = products['backup'].subscription_services[0]
    invoice, = change(env, contract, D(2028, 2, 15), [
            {'line': seat_line(contract), 'quantity': 1},
            {'service': backup, 'quantity': 1, 'unit_price': Decimal('9.99')},
            ])
    # the backup's 9.99 × 15/29 = 5.1672… is charged at once
    assert invoice.untaxed_amount == Decimal('5.17')
    assert invoice.total_amount == gross('5.17')
    # the seat's 29.90 × 15/29 = 15.4655… is deducted from March
    march, = bill(env, contract, D(2028, 3, 1))
    assert march.untaxed_amount == Decimal('24.42')  # 29.90 + 9.99 − 15.47
    assert march.total_amount == gross('29.90', '9.99', '-15.47')
    # February cost 2 seats for 14 days, then 1 seat and a backup for 15:
    # 59.80 × 14/29 + (29.90 + 9.99) × 15/29 = 49.5016… → 49.50
    credit, = [l.amount for l in march.lines if l.amount < 0]
    assert Decimal('59.80') + invoice.untaxed_amount + credit == (
        Decimal('49.50'))


def test_upsell_quotation_changes_the_same_contract(env):
    Contract = env.get('sale.subscription')
    Event = env.get('sale.subscription.mrr_event')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 1)])
    bill(env, contract, D(2026, 3, 1))

    with env.on(D(2026, 3, 16)):
        sale = make_sale(env, contract.party, plan,
            [(products['seat'], 2)], sale_date=D(2026, 3, 16))
        sale.subscription_contract = contract
        sale.save()
        sale = confirm(env, sale)

    assert sale.subscription_changed
    assert Contract.search([('party', '=', contract.party.id)]) == [contract]
    contract = Contract(contract.id)
    assert seat_line(contract).quantity == 3
    # 2 × 29.90 × 16/31 = 30.8645… → 30.86 invoiced at once
    upsell, = env.get('account.invoice').search([
            ('party', '=', contract.party.id),
            ('invoice_date', '=', D(2026, 3, 16)),
            ])
    assert upsell.total_amount == gross('30.86')
    event, = Event.search([
            ('subscription', '=', contract.id),
            ('kind', '=', 'expansion'),
            ])
    assert (event.date, event.mrr_change) == (D(2026, 3, 16), Decimal('59.80'))
    assert bill(env, contract, D(2026, 4, 1))[0].untaxed_amount == (
        Decimal('89.70'))


def written(env):
    return {name: env.get(name).search_count([]) for name in [
            'account.invoice', 'sale.subscription.adjustment',
            'sale.subscription.line', 'sale.subscription.mrr_event']}


def related_plans(env, access):
    "A cheap and a dear related plan with the given customer access"
    Plan = env.get('sale.subscription.plan')
    dear = create_plan(env.company, "Jährlich", 'yearly',
        customer_access=access)
    cheap = create_plan(env.company, "Basis", 'monthly',
        customer_access=access, related_plans=[dear])
    Plan.write([dear], {'related_plans': [('add', [cheap.id])]})
    return cheap, dear


FORBIDDEN = {
    # access: the changes a customer may not make themselves
    'restricted': ['more', 'less', 'price', 'dearer', 'cheaper'],
    'upgrade': ['less', 'price', 'cheaper'],
    'upgrade_downgrade': ['price'],
    }


@pytest.mark.parametrize('access', list(FORBIDDEN))
def test_customer_access_rights(env, access):
    products = make_catalogue(env)
    monthly, yearly = related_plans(env, access)
    date = D(2026, 3, 16)

    def make_change(what):
        if what == 'cheaper':
            contract = start_contract(env, yearly, D(2026, 3, 1),
                [(products['seat'], 2, '358.80')])
        else:
            contract = start_contract(env, monthly, D(2026, 3, 1),
                [(products['seat'], 2)])
        # March is paid; the run is dated on the change day, as the
        # invoices of the changes before it
        bill(env, contract, date)
        line = seat_line(contract)
        return contract.get_change(date, **{
                'more': {'lines': [{'line': line, 'quantity': 3}]},
                'less': {'lines': [{'line': line, 'quantity': 1}]},
                'price': {'lines': [
                        {'line': line, 'unit_price': Decimal('19.90')}]},
                'dearer': {'plan': yearly, 'lines': [
                        {'line': line, 'quantity': 3}]},
                'cheaper': {'plan': monthly, 'lines': [
                        {'line': line, 'quantity': 1}]},
                }[what])

    for what in ['more', 'less', 'price', 'dearer', 'cheaper']:
        with env.on(date):
            change_ = make_change(what)
            if what in FORBIDDEN[access]:
                before = written(env)
                with pytest.raises(UserError) as info:
                    change_.apply(customer=True)
                assert change_.contract.rec_name in info.value.message
                assert written(env) == before
            else:
                change_.apply(customer=True)
            # the back office may do it all
            make_change(what).apply(customer=False)


def test_bad_changes_are_refused_and_write_nothing(env):
    Contract = env.get('sale.subscription')
    yearly = yearly_plan(env)
    monthly = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, monthly, D(2026, 3, 1),
        [(products['seat'], 2)])
    bill(env, contract, D(2026, 3, 1))
    line = seat_line(contract)
    before = written(env)

    def refused(text, **values):
        with env.on(D(2026, 3, 16)), pytest.raises(UserError) as info:
            Contract(contract.id).get_change(
                D(2026, 3, 16), **values).apply()
        assert text in info.value.message
        assert written(env) == before

    refused("quantity of at least 1",
        lines=[{'line': line, 'quantity': 0}])
    refused("not a related plan", plan=yearly)
    refused("changes nothing", lines=[{'line': line, 'quantity': 2}])
    with env.on(D(2026, 3, 10)):
        Contract.close_contracts([contract], None, D(2026, 3, 10))
    before = written(env)
    refused("only a running contract",
        lines=[{'line': line, 'quantity': 3}])


def test_preview_of_a_pending_change_equals_what_is_invoiced(env):
    from test_preview import as_billed, as_previewed
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 3), (products['backup'], 1)])
    bill(env, contract, D(2026, 3, 1))
    backup = [l for l in contract.lines if l.service.product
        == products['backup']][0]
    lines = [
        {'line': seat_line_of(contract, products['seat']), 'quantity': 5},
        {'line': backup, 'remove': True},
        ]
    before = written(env)

    with env.on(D(2026, 3, 20)):
        preview = contract.get_change(D(2026, 3, 20), lines=lines).preview()
    assert written(env) == before
    assert preview['kind'] == 'mixed'

    now = change(env, contract, D(2026, 3, 20), lines)
    # 2 × 29.90 × 12/31 = 23.1483… → 23.15 at once
    assert [as_billed(i) for i in now] == [
        as_previewed(p) for p in preview['now']]
    assert now[0].untaxed_amount == Decimal('23.15')
    april, = bill(env, contract, D(2026, 4, 1))
    # 5 × 29.90 − 9.99 × 12/31 (3.8671… → 3.87) = 145.63
    assert as_billed(april) == as_previewed(preview['next'])
    assert april.untaxed_amount == Decimal('145.63')
    assert april.total_amount == gross('149.50', '-3.87')


def seat_line_of(contract, product):
    line, = [l for l in contract.lines if l.service.product == product]
    return line
