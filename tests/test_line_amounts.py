"""A contract line's quantity is above zero and its unit price not
negative, whichever way the line is written: a contract never posts a
negative invoice nor logs a negative MRR because of a typo."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import (
    assert_mrr_invariant, bill, make_catalogue, start_contract)
from trytond.exceptions import UserError

D = datetime.date


def running_contract(env):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 3, 1),
        [(products['seat'], 2)])
    bill(env, contract, D(2026, 3, 1))
    return contract, products


@pytest.mark.parametrize('values, text', [
        ({'quantity': -1}, "quantity greater than zero, not -1"),
        ({'quantity': 0}, "quantity greater than zero, not 0"),
        ({'unit_price': Decimal('-5.95')}, "negative unit price (-5.95)"),
        ])
def test_negative_line_written_on_a_running_contract_is_refused(
        env, values, text):
    Contract = env.get('sale.subscription')
    Line = env.get('sale.subscription.line')
    contract, _ = running_contract(env)
    line, = contract.lines
    with env.on(D(2026, 3, 10)), pytest.raises(UserError) as error:
        Line.write([line], values)
    assert "Cloud-Arbeitsplatz" in error.value.message
    assert contract.rec_name in error.value.message
    assert text in error.value.message

    # nothing was written: the next invoice and the MRR are those of 2 seats
    line = Line(line.id)
    assert (line.quantity, line.unit_price) == (2, Decimal('29.90'))
    contract = Contract(contract.id)
    assert contract.mrr == Decimal('59.80')
    assert_mrr_invariant(env, contract, D(2026, 3, 10))
    invoice, = bill(env, contract, D(2026, 4, 1))
    assert invoice.untaxed_amount == Decimal('59.80')
    assert invoice.total_amount == Decimal('71.16')


@pytest.mark.parametrize('quantity, price, text', [
        (-1, '29.90', "quantity greater than zero"),
        (0, '29.90', "quantity greater than zero"),
        (1, '-5.95', "negative unit price"),
        ])
def test_negative_line_added_to_a_contract_is_refused(
        env, quantity, price, text):
    Contract = env.get('sale.subscription')
    Line = env.get('sale.subscription.line')
    contract, products = running_contract(env)
    Service = env.get('sale.subscription.service')
    service, = Service.search([('product', '=', products['backup'].id)])
    line, = contract.lines
    with env.on(D(2026, 3, 10)), pytest.raises(UserError) as error:
        Line.create([{
                    'subscription': contract.id,
                    'service': service.id,
                    'quantity': quantity,
                    'unit': line.unit.id,
                    'unit_price': Decimal(price),
                    'start_date': D(2026, 3, 10),
                    }])
    assert text in error.value.message
    assert contract.rec_name in error.value.message
    contract = Contract(contract.id)
    assert len(contract.lines) == 1
    assert contract.mrr == Decimal('59.80')
    assert_mrr_invariant(env, contract, D(2026, 3, 10))


def test_negative_line_saved_through_the_contract_is_refused(env):
    "The form of the contract saves its lines with the contract"
    Contract = env.get('sale.subscription')
    contract, _ = running_contract(env)
    with env.on(D(2026, 3, 10)), pytest.raises(UserError) as error:
        Contract.write([contract], {
                'lines': [('write', [contract.lines[0].id],
                        {'quantity': -3})],
                })
    assert "quantity greater than zero, not -3" in error.value.message


@pytest.mark.parametrize('change, text', [
        ({'quantity': -1}, "quantity of at least 1"),
        ({'unit_price': Decimal('-1')}, "price"),
        ])
def test_change_with_negative_amounts_is_refused(env, change, text):
    Contract = env.get('sale.subscription')
    contract, _ = running_contract(env)
    line, = contract.lines
    with env.on(D(2026, 3, 16)), pytest.raises(UserError) as error:
        contract.get_change(D(2026, 3, 16),
            lines=[{'line': line, **change}]).apply()
    assert text in error.value.message
    contract = Contract(contract.id)
    assert contract.lines[0].quantity == 2
    assert contract.mrr == Decimal('59.80')
