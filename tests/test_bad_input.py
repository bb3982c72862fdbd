"""Bad input gets a clear error naming the record and the fix, and the
database is left as it was."""
import datetime
from decimal import Decimal

import pytest

from demo.company import (
    create_category, create_plan, create_product, create_recurrence)
from helpers import confirm, customer, make_catalogue, make_sale
from trytond.exceptions import UserError

D = datetime.date


def quote_fails(env, sale, text):
    Sale = env.get('sale.sale')
    with pytest.raises(UserError) as error:
        Sale.quote([sale])
    assert text in error.value.message
    assert Sale(sale.id).state == 'draft'
    return error.value.message


def test_recurring_line_without_plan(env):
    products = make_catalogue(env)
    sale = make_sale(env, customer(env), None, [(products['seat'], 1)],
        sale_date=D(2026, 1, 1))
    message = quote_fails(env, sale, "choose a subscription plan")
    assert "Cloud-Arbeitsplatz" in message


@pytest.mark.parametrize('quantity, price, text', [
        (0, '29.90', "quantity greater than zero"),
        (-2, '29.90', "quantity greater than zero"),
        (1, '-5.00', "negative price"),
        ])
def test_recurring_line_quantity_and_price(env, quantity, price, text):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    sale = make_sale(env, customer(env), plan,
        [(products['seat'], quantity, price)], sale_date=D(2026, 1, 1))
    quote_fails(env, sale, text)


def test_plan_without_recurrence(env):
    Plan = env.get('sale.subscription.plan')
    with pytest.raises(UserError) as error:
        Plan.create([{'name': "Ohne Rhythmus", 'company': env.company.id}])
    assert "Recurrence" in error.value.message


def test_start_date_that_does_not_fit_the_plan(env):
    Plan = env.get('sale.subscription.plan')
    rule_set = create_recurrence("Am Monatsersten", 'monthly')
    rule, = rule_set.rules
    rule.bymonthday = '1'
    rule.save()
    plan = Plan(name="Am Monatsersten", company=env.company,
        recurrence=rule_set)
    plan.save()
    products = make_catalogue(env)
    sale = make_sale(env, customer(env), plan, [(products['seat'], 1)],
        sale_date=D(2026, 1, 15))
    message = quote_fails(env, sale, "cannot start on")
    assert "2026-02-01" in message


def test_billing_date_outside_an_open_fiscal_year(env):
    Contract = env.get('sale.subscription')
    FiscalYear = env.get('account.fiscalyear')
    with pytest.raises(UserError) as error:
        Contract.check_billing_date(env.company, D(2035, 1, 1))
    assert "cannot be invoiced on 2035-01-01" in error.value.message
    fiscalyear, = FiscalYear.search([('name', '=', '2023')])
    FiscalYear.write([fiscalyear], {'state': 'closed'})
    with pytest.raises(UserError) as error:
        Contract.check_billing_date(env.company, D(2023, 6, 1))
    assert "2023" in error.value.message


def test_one_failing_contract_is_reported_and_the_others_are_billed(env):
    Contract = env.get('sale.subscription')
    Invoice = env.get('account.invoice')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    products = make_catalogue(env)
    category = create_category(
        env.company, {'vat19': env.taxes['USt 19 %']}, name="Ohne Konto")
    broken = create_product(category, "Sonderdienst", '10.00')
    contracts = []
    for product in [products['seat'], broken, products['backup']]:
        with env.on(D(2026, 1, 1)):
            sale = confirm(env, make_sale(env, customer(env), plan,
                    [(product, 1)], sale_date=D(2026, 1, 1)))
        contracts.extend(sale.subscriptions)
    # the revenue account disappears after the sale (e.g. a wrong set-up)
    category.account_revenue = None
    category.save()

    invoices_before = Invoice.search_count([])
    with env.on(D(2026, 1, 1)):
        invoices, errors = Contract.bill(
            Contract.claim([c.id for c in contracts], D(2026, 1, 1)),
            D(2026, 1, 1))
    assert len(invoices) == 2
    (failed, message), = errors.items()
    assert failed.id == contracts[1].id
    assert contracts[1].rec_name in message
    assert "Sonderdienst" in message and "Account Revenue" in message
    assert Invoice.search_count([]) == invoices_before + 2
    failed = Contract(contracts[1].id)
    assert failed.periods == () and failed.billing_index == 0
    assert failed.next_billing_date == D(2026, 1, 1)


def test_the_module_code_may_pass_records_and_convertible_values(env):
    "The input check of create and write refuses wrong types only"
    Plan = env.get('sale.subscription.plan')
    plan = create_plan(env.company, "Monatlich", 'monthly')
    Plan.write([plan], {'company': env.company, 'duration': 'fixed',
            'duration_periods': Decimal(3), 'customer_can_close': 0})
    plan = Plan(plan.id)
    assert (plan.company, plan.duration_periods) == (env.company, 3)
    # (SQLite reads a boolean back as 0 or 1, PostgreSQL takes only a bool)
    assert not plan.customer_can_close
    with pytest.raises(UserError) as error:
        Plan.write([plan], {'duration_periods': Decimal('2.5')})
    assert "is not a whole number" in error.value.message
