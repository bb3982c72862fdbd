"""The invoice preview is a dry run: it shows the next invoices of a contract
as the billing run will write them (lines, periods, taxes, totals) and writes
nothing itself."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import bill, make_catalogue, start_contract
from trytond.exceptions import UserError
from trytond.transaction import Transaction

D = datetime.date


def preview(env, contract, date, count=3):
    with env.on(date):
        return contract.preview_invoices(count)


def written(env):
    "What a dry run must leave untouched"
    counts = {name: env.get(name).search_count([]) for name in [
            'account.invoice', 'account.invoice.line', 'account.invoice.tax',
            'account.move', 'sale.subscription.period',
            'sale.subscription.mrr_event']}
    contracts = {c.id: (c.billing_index, c.next_billing_date, c.state,
            c.write_date)
        for c in env.get('sale.subscription').search([])}
    return counts, contracts


def as_billed(invoice):
    "The preview's view of a written invoice"
    return {
        'invoice_date': invoice.invoice_date,
        'lines': sorted(
            (l.description, l.product.id, l.quantity, l.unit_price, l.amount)
            for l in invoice.lines),
        'taxes': sorted((t.tax.id, t.base, t.amount) for t in invoice.taxes),
        'untaxed_amount': invoice.untaxed_amount,
        'tax_amount': invoice.tax_amount,
        'total_amount': invoice.total_amount,
        }


def as_previewed(preview):
    return {
        'invoice_date': preview['invoice_date'],
        'lines': sorted(
            (l['description'], l['product'], l['quantity'], l['unit_price'],
                l['amount'])
            for l in preview['lines']),
        'taxes': sorted(
            (t['tax'], t['base'], t['amount']) for t in preview['taxes']),
        'untaxed_amount': preview['untaxed_amount'],
        'tax_amount': preview['tax_amount'],
        'total_amount': preview['total_amount'],
        }


def period_of(contract, invoice):
    period, = [p for p in contract.periods if p.invoice == invoice]
    return period.start_date, period.end_date


def test_dry_run_equals_what_the_next_real_runs_write(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    # 3 × 29.90 + 9.99 = 99.69, 19 % VAT 18.94
    contract = start_contract(env, plan, D(2026, 1, 15),
        [(products['seat'], 3), (products['backup'], 1)])
    before = written(env)

    previews = preview(env, contract, D(2026, 1, 10))

    assert written(env) == before
    # the instance itself is left as it was
    assert (contract.billing_index, contract.next_billing_date) == (
        0, D(2026, 1, 15))
    assert [(p['period_start'], p['billed_end'], p['billing_date'],
            p['invoice_date']) for p in previews] == [
        (D(2026, 1, 15), D(2026, 2, 14), D(2026, 1, 15), D(2026, 1, 15)),
        (D(2026, 2, 15), D(2026, 3, 14), D(2026, 2, 15), D(2026, 2, 15)),
        (D(2026, 3, 15), D(2026, 4, 14), D(2026, 3, 15), D(2026, 3, 15)),
        ]
    for p in previews:
        assert len(p['lines']) == 2
        assert (p['untaxed_amount'], p['tax_amount'], p['total_amount']) == (
            Decimal('99.69'), Decimal('18.94'), Decimal('118.63'))
        [tax] = p['taxes']
        assert (tax['base'], tax['amount']) == (
            Decimal('99.69'), Decimal('18.94'))
    assert "15.02.2026 – 14.03.2026" in previews[1]['lines'][0]['description']

    # the three real runs write what was previewed, to the cent
    for p, date in zip(previews, [D(2026, 1, 15), D(2026, 2, 15),
                D(2026, 3, 15)]):
        invoice, = bill(env, contract, date)
        contract = Contract(contract.id)
        assert as_billed(invoice) == as_previewed(p)
        assert period_of(contract, invoice) == (
            p['period_start'], p['billed_end'])

    # the preview moves on with the billing
    next_one, = preview(env, contract, D(2026, 3, 20), count=1)
    assert next_one['period_start'] == D(2026, 4, 15)


def test_dry_run_of_an_arrears_plan(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich nachträglich", 'monthly',
        billing_timing='arrears')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 31),
        [(products['seat'], 2, '31.17'), (products['backup'], 3)])
    before = written(env)

    previews = preview(env, contract, D(2026, 2, 1), count=2)

    assert written(env) == before
    # billed the day after each period ended
    assert [(p['period_start'], p['billed_end'], p['invoice_date'])
        for p in previews] == [
        (D(2026, 1, 31), D(2026, 2, 27), D(2026, 2, 28)),
        (D(2026, 2, 28), D(2026, 3, 30), D(2026, 3, 31)),
        ]
    for p in previews:
        # 2 × 31.17 + 3 × 9.99 = 92.31, 19 % VAT 17.5389
        assert (p['untaxed_amount'], p['tax_amount'], p['total_amount']) == (
            Decimal('92.31'), Decimal('17.54'), Decimal('109.85'))
    for p in previews:
        invoice, = bill(env, contract, p['invoice_date'])
        contract = Contract(contract.id)
        assert as_billed(invoice) == as_previewed(p)
        assert period_of(contract, invoice) == (
            p['period_start'], p['billed_end'])


def test_dry_run_of_a_last_period_cut_by_the_end_date(env):
    Contract = env.get('sale.subscription')
    Reason = env.get('sale.subscription.close_reason')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 15),
        [(products['seat'], 3), (products['backup'], 1)])
    bill(env, contract, D(2026, 1, 15))
    reason, = Reason.search([('code', '=', 'too_expensive')])
    with env.on(D(2026, 2, 10)):
        # the service ends on 1 March: 15 of the 28 days of the period
        Contract.close_contracts([contract], reason, D(2026, 3, 1))
    contract = Contract(contract.id)
    before = written(env)

    # the period is due since 15 February: the next run, today, bills it
    last, = preview(env, contract, D(2026, 2, 20))

    assert written(env) == before
    assert (last['period_start'], last['period_end'], last['billed_end'],
        last['billing_date'], last['invoice_date']) == (
        D(2026, 2, 15), D(2026, 3, 14), D(2026, 3, 1), D(2026, 2, 15),
        D(2026, 2, 20))
    assert sorted(l['unit_price'] for l in last['lines']) == [
        Decimal('5.3518'), Decimal('16.0179')]  # × 15/28
    # 3 × 16.0179 = 48.05 + 5.35 = 53.40 (lines rounded), 19 % VAT 10.146
    assert (last['untaxed_amount'], last['tax_amount'],
        last['total_amount']) == (
        Decimal('53.40'), Decimal('10.15'), Decimal('63.55'))

    invoice, = bill(env, contract, D(2026, 2, 20))
    contract = Contract(contract.id)
    assert as_billed(invoice) == as_previewed(last)
    assert period_of(contract, invoice) == (D(2026, 2, 15), D(2026, 3, 1))

    # closed and billed to its end: nothing more to preview
    assert preview(env, contract, D(2026, 3, 20)) == []


def test_nothing_to_preview_before_the_contract_runs(env):
    Contract = env.get('sale.subscription')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 15), [(products['seat'], 1)])
    draft, = Contract.copy([contract])
    assert draft.state == 'draft'
    assert preview(env, draft, D(2026, 1, 15)) == []
    assert preview(env, contract, D(2026, 1, 15), count=0) == []
    for count in [-1, 37]:
        with pytest.raises(UserError) as error:
            preview(env, contract, D(2026, 1, 15), count=count)
        assert "from 0 to 36 invoices" in error.value.message


def test_preview_wizard_shows_the_next_invoices_and_their_lines(env):
    Contract = env.get('sale.subscription')
    Start = env.get('sale.subscription.preview.start')
    Wizard = env.get('sale.subscription.preview', type='wizard')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 15),
        [(products['seat'], 3), (products['backup'], 1)])
    before = written(env)

    # the views of the button and of the wizard are valid
    assert 'preview' in Contract.fields_view_get(view_type='form')['arch']
    for view_type in ['form']:
        Start.fields_view_get(view_type=view_type)
    for name in ['preview.invoice', 'preview.line']:
        env.get('sale.subscription.' + name).fields_view_get(
            view_type='tree')

    with env.on(D(2026, 1, 10)):
        session_id, _, _ = Wizard.create()
        with Transaction().set_context(
                active_model='sale.subscription', active_id=contract.id,
                active_ids=[contract.id]):
            result = Wizard.execute(session_id, {}, 'start')
        Wizard.delete(session_id)
        defaults = result['view']['defaults']
        assert defaults['count'] == 3
        assert [(i['period_start'], i['total_amount'])
            for i in defaults['invoices']] == [
            (D(2026, 1, 15), Decimal('118.63')),
            (D(2026, 2, 15), Decimal('118.63')),
            (D(2026, 3, 15), Decimal('118.63')),
            ]
        assert len(defaults['lines']) == 6
        assert sum(l['amount'] for l in defaults['lines']) == Decimal(
            '299.07')

        # changing the number of invoices recomputes the lists
        view = Start(contract=contract, count=5)
        assert len(view.on_change_with_invoices()) == 5
        assert len(view.on_change_with_lines()) == 10
    assert written(env) == before
