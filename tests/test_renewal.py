"""Fixed-term contracts renew: by a quotation created before the end (the
same contract goes on if the customer confirms it, ends otherwise) or
automatically. Open-ended contracts cannot be renewed."""
import datetime
from decimal import Decimal

import pytest

from demo.company import create_plan
from helpers import make_catalogue, run_cron, start_contract
from trytond.exceptions import UserError

D = datetime.date


def quarter_contract(env, renewal='manual'):
    plan = create_plan(env.company, "Quartal", 'monthly',
        duration='fixed', duration_periods=3, renewal=renewal,
        renewal_notice_days=14)
    products = make_catalogue(env)
    contract = start_contract(env, plan, D(2026, 1, 1),
        [(products['seat'], 4, '25.00'), (products['backup'], 1)])
    assert contract.end_date == D(2026, 3, 31)
    return contract, products


def test_renewal_quotation_14_days_before_the_end(env):
    Contract = env.get('sale.subscription')
    Sale = env.get('sale.sale')
    contract, products = quarter_contract(env)
    with env.on(D(2026, 3, 16)):
        Contract.process_lifecycle(D(2026, 3, 16))
    assert Sale.search([('renewal_of', '=', contract.id)]) == []
    for _ in range(2):  # the cron running twice makes one quotation
        with env.on(D(2026, 3, 17)):
            Contract.process_lifecycle(D(2026, 3, 17))
    sale, = Sale.search([('renewal_of', '=', contract.id)])
    assert sale.state == 'quotation'
    assert sale.party == contract.party
    assert sale.subscription_plan == contract.plan
    assert sale.renewal_start == D(2026, 4, 1)
    assert sorted((l.product.id, l.quantity, l.unit_price)
        for l in sale.lines) == sorted([
            (products['seat'].id, 4, Decimal('25.00')),
            (products['backup'].id, 1, Decimal('9.99'))])


def test_unconfirmed_renewal_ends_the_contract_with_churn(env):
    Contract = env.get('sale.subscription')
    Sale = env.get('sale.sale')
    contract, _ = quarter_contract(env)
    for day in [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 3, 17),
            D(2026, 3, 31)]:
        run_cron(env, day)
    assert Contract(contract.id).state == 'running'
    run_cron(env, D(2026, 4, 1))
    contract = Contract(contract.id)
    assert contract.state == 'closed'
    assert contract.end_date == D(2026, 3, 31)
    assert len(contract.periods) == 3
    churn = contract.mrr_events[0]
    assert (churn.kind, churn.date, churn.mrr_before, churn.mrr_after) == (
        'churn', D(2026, 4, 1), Decimal('109.99'), Decimal(0))
    sale, = Sale.search([('renewal_of', '=', contract.id)])
    assert sale.state == 'cancelled'


def test_confirmed_renewal_continues_the_same_contract(env):
    Contract = env.get('sale.subscription')
    Sale = env.get('sale.sale')
    SaleLine = env.get('sale.line')
    contract, products = quarter_contract(env)
    run_cron(env, D(2026, 3, 17))
    sale, = Sale.search([('renewal_of', '=', contract.id)])
    # the customer negotiates 5 seats for the next quarter
    with env.on(D(2026, 3, 20)):
        Sale.draft([sale])
        seat, = [l for l in sale.lines if l.product == products['seat']]
        SaleLine.write([seat], {'quantity': 5})
        Sale.quote([sale])
        Sale.confirm([sale])
        env.run_tasks()
    assert Contract.search([('party', '=', contract.party.id)]) == [contract]
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.end_date == D(2026, 6, 30)
    assert sorted((l.service.product.id, l.quantity, l.start_date, l.end_date)
        for l in contract.lines) == sorted([
            (products['seat'].id, 4, D(2026, 1, 1), D(2026, 3, 31)),
            (products['seat'].id, 5, D(2026, 4, 1), None),
            (products['backup'].id, 1, D(2026, 1, 1), None)])
    event = contract.mrr_events[0]
    assert (event.kind, event.date, event.mrr_before, event.mrr_after) == (
        'expansion', D(2026, 4, 1), Decimal('109.99'), Decimal('134.99'))

    run_cron(env, D(2026, 4, 1))
    contract = Contract(contract.id)
    assert contract.state == 'running'
    invoice = contract.periods[0].invoice
    assert contract.periods[0].start_date == D(2026, 4, 1)
    assert invoice.untaxed_amount == Decimal('134.99')
    assert invoice.total_amount == Decimal('160.64')

    # confirming an outdated renewal again is refused
    copy, = Sale.copy([sale], default={'renewal_of': contract.id,
                'renewal_start': D(2026, 4, 1)})
    with env.on(D(2026, 4, 2)), pytest.raises(UserError) as error:
        Sale.quote([copy])
        Sale.confirm([copy])
    assert "not its next term" in error.value.message


def test_automatic_renewal_continues_without_quotation(env):
    Contract = env.get('sale.subscription')
    Sale = env.get('sale.sale')
    contract, _ = quarter_contract(env, renewal='automatic')
    for day in [D(2026, 3, 17), D(2026, 4, 1)]:
        run_cron(env, day)
    contract = Contract(contract.id)
    assert contract.state == 'running'
    assert contract.end_date == D(2026, 6, 30)
    assert contract.periods[0].start_date == D(2026, 4, 1)
    assert Sale.search([('renewal_of', '=', contract.id)]) == []
    assert [e.kind for e in contract.mrr_events] == ['new']


def test_open_ended_contract_cannot_be_renewed(env):
    Contract = env.get('sale.subscription')
    Sale = env.get('sale.sale')
    products = make_catalogue(env)
    contract = start_contract(env,
        create_plan(env.company, "Monatlich", 'monthly'),
        D(2026, 1, 1), [(products['seat'], 1)])
    with env.on(D(2026, 2, 1)), pytest.raises(UserError) as error:
        Contract.renew([contract])
    assert "open-ended" in error.value.message
    assert Sale.search([('renewal_of', '=', contract.id)]) == []
