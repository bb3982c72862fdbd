"""A salesperson makes a quotation from a template: plan, lines with the
products' prices (one overridden), an optional product offered, and a validity
of 30 days after which the quotation cannot be confirmed any more."""
import datetime
from decimal import Decimal

import pytest
from trytond.exceptions import UserError

from demo.company import (
    create_category, create_payment_term, create_product)
from helpers import customer, make_catalogue, monthly_plan


def make_template(env, plan, products):
    Template = env.get('sale.subscription.quotation_template')
    template = Template(
        name="Starter-Paket Cloud", plan=plan, validity_days=30,
        online_confirmation='both',
        terms="Es gelten unsere AGB.",
        note="Nur für Neukunden.")
    template.lines = [
        {'product': products['seat'].id, 'quantity': 3},
        # a template price replaces the product's price
        {'product': products['backup'].id, 'quantity': 1,
            'unit_price': Decimal('7.99')},
        {'product': products['setup'].id, 'quantity': 1,
            'description': "Einrichtung vor Ort"},
        ]
    template.options = [
        {'product': products['training'].id, 'quantity': 1},
        ]
    template.save()
    return template


def new_quotation(env, party, template):
    "What the sale form does when the salesperson picks the template"
    Sale = env.get('sale.sale')
    sale = Sale(party=party, company=env.company, state='draft')
    sale.on_change_party()
    sale.payment_term = create_payment_term()
    sale.quotation_template = template
    sale.on_change_quotation_template()
    sale.save()
    return sale


def catalogue(env):
    "The helpers' catalogue and a one-time training to offer as an option"
    products = make_catalogue(env)
    category = create_category(env.company, {'vat19': env.taxes['USt 19 %']})
    products['training'] = create_product(
        category, "Schulung (halber Tag)", '490.00', recurring=False)
    return products


def test_quotation_from_template_confirms_into_contract(env):
    Sale = env.get('sale.sale')
    Contract = env.get('sale.subscription')
    plan = monthly_plan(env)
    products = catalogue(env)
    template = make_template(env, plan, products)
    party = customer(env)
    today = datetime.date(2026, 1, 10)

    with env.on(today):
        sale = new_quotation(env, party, template)
        assert sale.quotation_template == template
        assert sale.subscription_plan == plan
        assert sale.online_confirmation == 'both'
        assert sale.comment == "Es gelten unsere AGB."
        assert [(l.product.name, l.quantity, l.unit_price, l.is_recurring)
            for l in sale.lines] == [
            ("Cloud-Arbeitsplatz", 3, Decimal('29.90'), True),
            ("Backup 100 GB", 1, Decimal('7.99'), True),
            ("Einrichtung", 1, Decimal('149.00'), False),
            ]
        # taxes come from the product, as for a line entered by hand
        assert all(
            [t.name for t in l.taxes] == ['USt 19 %'] for l in sale.lines)
        assert sale.lines[2].description == "Einrichtung vor Ort"
        option, = sale.options
        assert (option.product, option.quantity, option.unit_price) == (
            products['training'], 1, Decimal('490.00'))
        # the options are offered, not sold
        assert sale.untaxed_amount == Decimal('246.69')  # 89.70+7.99+149

        Sale.quote([sale])
        assert sale.quotation_date == today
        assert sale.quotation_validity == datetime.timedelta(days=30)
        assert sale.quotation_expire == datetime.date(2026, 2, 9)

    # confirmed on the last valid day
    with env.on(datetime.date(2026, 2, 9)):
        Sale.confirm([sale])
        env.run_tasks()
    sale = Sale(sale.id)
    assert sale.state == 'processing'
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    assert contract.plan == plan
    assert sorted((l.service.product.name, l.quantity, l.unit_price)
        for l in contract.lines) == [
        ("Backup 100 GB", 1, Decimal('7.99')),
        ("Cloud-Arbeitsplatz", 3, Decimal('29.90')),
        ]


def test_expired_quotation_cannot_be_confirmed(env):
    Sale = env.get('sale.sale')
    Contract = env.get('sale.subscription')
    plan = monthly_plan(env)
    products = catalogue(env)
    template = make_template(env, plan, products)
    party = customer(env)

    with env.on(datetime.date(2026, 1, 10)):
        sale = new_quotation(env, party, template)
        # a sale date within the validity must not let it through
        sale.sale_date = datetime.date(2026, 1, 10)
        sale.save()
        Sale.quote([sale])

    with env.on(datetime.date(2026, 2, 10)):
        with pytest.raises(UserError) as error:
            Sale.confirm([sale])
    assert "expired" in error.value.message
    assert sale.rec_name in error.value.message
    assert "02/09/2026" in error.value.message  # the user's date format
    assert Sale(sale.id).state == 'quotation'
    assert not Contract.search([('origin_sale', '=', sale.id)])


def test_template_only_applies_to_drafts(env):
    Sale = env.get('sale.sale')
    plan = monthly_plan(env)
    products = catalogue(env)
    template = make_template(env, plan, products)
    party = customer(env)
    with env.on(datetime.date(2026, 1, 10)):
        sale = new_quotation(env, party, template)
        Sale.quote([sale])
        sale = Sale(sale.id)
        sale.quotation_template = template
        sale.on_change_quotation_template()
        # nothing was rebuilt: the quoted lines stay as they are
        assert len(sale.lines) == 3
        assert all(l.id > 0 for l in sale.lines)


def test_sale_form_fills_from_template(env):
    "The client sends only the on_change's fields; the answer fills the form"
    Sale = env.get('sale.sale')
    plan = monthly_plan(env)
    products = catalogue(env)
    template = make_template(env, plan, products)
    party = customer(env)
    depends = Sale.on_change_quotation_template.depends
    values = {'quotation_template': template.id, 'state': 'draft',
        'company': env.company.id, 'party': party.id,
        'currency': env.company.currency.id, 'lines': [], 'options': []}
    values.update({f: None for f in depends if f not in values})
    with env.on(datetime.date(2026, 1, 10)):
        sale = Sale(**values)
        sale.on_change(['quotation_template'])
        changes = sale._changed_values()
    assert changes['subscription_plan'] == plan.id
    assert changes['quotation_validity'] == datetime.timedelta(days=30)
    lines = [l for _, l in changes['lines']['add']]
    assert [(l['product'], l['unit_price']) for l in lines] == [
        (products['seat'].id, Decimal('29.90')),
        (products['backup'].id, Decimal('7.99')),
        (products['setup'].id, Decimal('149.00')),
        ]
    options = [o for _, o in changes['options']['add']]
    assert [o['product'] for o in options] == [products['training'].id]
