"""A plan or a recurring product may charge a one-time setup fee: it is one
extra line on the first invoice of the contract, taxed like any line, and
never invoiced again, also not after a reopen."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import bill, make_catalogue, start_contract
from trytond.exceptions import UserError

D = datetime.date


def test_plan_setup_fee_on_the_first_invoice_only(env):
    Contract = env.get('sale.subscription')
    Reason = env.get('sale.subscription.close_reason')
    products = make_catalogue(env)
    plan = create_plan(env.company, "Monatlich mit Einrichtung", 'monthly',
        setup_fee_product=products['setup'],
        setup_fee_price=Decimal('149.00'))
    contract = start_contract(
        env, plan, D(2026, 3, 1), [(products['seat'], 1)])

    # the preview shows the fee on the first invoice only and writes nothing
    with env.on(D(2026, 3, 1)):
        first, second = Contract(contract.id).preview_invoices(2)
    assert (first['untaxed_amount'], second['untaxed_amount']) == (
        Decimal('178.90'), Decimal('29.90'))
    assert not Contract(contract.id).setup_fee_invoiced

    invoice, = bill(env, contract, D(2026, 3, 1))
    fee, = [l for l in invoice.lines if l.product == products['setup']]
    assert fee.description.endswith(": Einrichtung")
    assert (fee.quantity, fee.unit_price) == (1, Decimal('149.00'))
    # 29.90 + 149.00 with 19 % VAT
    assert (invoice.untaxed_amount, invoice.tax_amount,
        invoice.total_amount) == (
        Decimal('178.90'), Decimal('33.99'), Decimal('212.89'))
    assert Contract(contract.id).setup_fee_invoiced

    later, = bill(env, contract, D(2026, 4, 1))
    assert later.total_amount == Decimal('35.58')
    assert len(later.lines) == 1

    # closed and reopened: still no second setup fee
    reason, = Reason.search([('code', '=', 'other')])
    with env.on(D(2026, 4, 10)):
        Contract.close_contracts([contract], reason, D(2026, 4, 30))
    with env.on(D(2026, 6, 1)):
        Contract.reopen([Contract(contract.id)])
    reopened, = bill(env, contract, D(2026, 6, 1))
    assert reopened.total_amount == Decimal('35.58')


def test_product_setup_fee_per_recurring_line(env):
    Template = env.get('product.template')
    products = make_catalogue(env)
    seat = products['seat']
    Template.write([seat.template], {'subscription_setup_fee': Decimal('50')})
    plan = create_plan(env.company, "Monatlich", 'monthly')
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(seat, 3), (products['backup'], 1)])
    invoice, = bill(env, contract, D(2026, 3, 1))
    # 3 × 29.90 + 9.99 + 50.00 once for the seats
    assert invoice.untaxed_amount == Decimal('149.69')
    assert invoice.tax_amount == Decimal('28.44')
    assert invoice.total_amount == Decimal('178.13')
    second, = bill(env, contract, D(2026, 4, 1))
    assert second.untaxed_amount == Decimal('99.69')


def test_setup_fee_product_without_price_is_refused(env):
    products = make_catalogue(env)
    with pytest.raises(UserError) as error:
        create_plan(env.company, "Ohne Preis", 'monthly',
            setup_fee_product=products['setup'])
    assert "Setup Fee" in error.value.message
    with pytest.raises(UserError) as error:
        create_plan(env.company, "Negativ", 'monthly',
            setup_fee_product=products['setup'],
            setup_fee_price=Decimal('-1'))
    assert "no setup fee price of at least 0" in error.value.message


def test_negative_product_setup_fee_is_refused(env):
    products = make_catalogue(env)
    Template = env.get('product.template')
    with pytest.raises(UserError) as error:
        Template.write([products['seat'].template],
            {'subscription_setup_fee': Decimal('-1')})
    assert "Subscription Setup Fee" in error.value.message
