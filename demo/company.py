"""A German company ready to sell subscriptions, built through the ERP's API.

Used by the demo and by the tests: EUR, the ERP's minimal chart of accounts,
calendar fiscal years with monthly periods and invoice sequences, 19 % and
7 % VAT, an EU reverse-charge tax rule, a payment term, plans and products.
"""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction


def create_company(name="Abo Software GmbH"):
    pool = Pool()
    Currency = pool.get('currency.currency')
    Rate = pool.get('currency.currency.rate')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')
    Lang = pool.get('ir.lang')

    eur, = Currency.search([('code', '=', 'EUR')], limit=1) or [None]
    if eur is None:
        eur = Currency(name="Euro", code='EUR', symbol='€', rounding=Decimal(
                '0.01'), digits=2)
        eur.save()
        Rate(currency=eur, date=datetime.date(2000, 1, 1), rate=1).save()
    germany = get_country('DE', "Germany")
    lang, = Lang.search([('code', '=', 'de')]) or [None]
    party = Party(name=name, lang=lang)
    party.addresses = [{
            'street': "Friedrichstraße 100", 'postal_code': "10117",
            'city': "Berlin", 'country': germany}]
    party.save()
    company = Company(party=party, currency=eur, timezone='Europe/Berlin')
    company.save()
    user = User(Transaction().user or 1)
    User.write([user], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    return company


def get_country(code, name):
    Country = Pool().get('country.country')
    countries = Country.search([('code', '=', code)], limit=1)
    if countries:
        return countries[0]
    country = Country(code=code, name=name)
    country.save()
    return country


def create_chart(company):
    "The ERP's minimal chart through its own wizard"
    from trytond.modules.account.tests.test_module import (
        create_chart as erp_create_chart)
    erp_create_chart(company)


def create_fiscalyears(company, first_year, last_year):
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')
    move_type, = SequenceType.search([('name', '=', "Account Move")], limit=1)
    invoice_type, = SequenceType.search([('name', '=', "Invoice")], limit=1)
    years = []
    for year in range(first_year, last_year + 1):
        move_seq = Sequence(name=str(year), sequence_type=move_type,
            company=company)
        invoice_seq = Sequence(name=f"RE-{year}", sequence_type=invoice_type,
            company=company, prefix=f"RE-{year}-", padding=5)
        Sequence.save([move_seq, invoice_seq])
        fiscalyear = FiscalYear(
            name=str(year), company=company, move_sequence=move_seq,
            start_date=datetime.date(year, 1, 1),
            end_date=datetime.date(year, 12, 31))
        fiscalyear.invoice_sequences = [{
                'company': company,
                'out_invoice_sequence': invoice_seq,
                'in_invoice_sequence': invoice_seq,
                'out_credit_note_sequence': invoice_seq,
                'in_credit_note_sequence': invoice_seq,
                }]
        fiscalyear.save()
        years.append(fiscalyear)
    FiscalYear.create_period(years)
    return years


def create_taxes(company):
    """19 % and 7 % VAT and the EU reverse-charge rule that replaces them
    for business customers in other member states"""
    pool = Pool()
    Account = pool.get('account.account')
    Tax = pool.get('account.tax')
    TaxRule = pool.get('account.tax.rule')

    tax_account, = Account.search([
            ('company', '=', company.id),
            ('code', '=', '6.3.4'),
            ], limit=1) or Account.search([
            ('company', '=', company.id),
            ('type.payable', '=', True),
            ('party_required', '=', False),
            ], limit=1)
    taxes = {}
    for key, name, rate in [
            ('vat19', "USt 19 %", '0.19'),
            ('vat7', "USt 7 %", '0.07'),
            ('reverse_charge', "Reverse Charge (EU) 0 %", '0'),
            ]:
        tax = Tax(name=name, description=name, type='percentage',
            rate=Decimal(rate), company=company,
            invoice_account=tax_account, credit_note_account=tax_account)
        tax.save()
        taxes[key] = tax
    rule = TaxRule(name="EU Reverse Charge", kind='sale', company=company)
    rule.lines = [
        {'origin_tax': taxes['vat19'], 'tax': taxes['reverse_charge']},
        {'origin_tax': taxes['vat7'], 'tax': taxes['reverse_charge']},
        ]
    rule.save()
    taxes['eu_rule'] = rule
    return taxes


def create_payment_term(name="14 Tage netto", days=14):
    PaymentTerm = Pool().get('account.invoice.payment_term')
    term = PaymentTerm(name=name)
    term.lines = [{
            'type': 'remainder',
            'relativedeltas': [{'days': days}] if days else [],
            }]
    term.save()
    return term


def create_recurrence(name, freq, interval=1):
    RuleSet = Pool().get('sale.subscription.recurrence.rule.set')
    rule_set = RuleSet(name=name)
    rule_set.rules = [{'freq': freq, 'interval': interval}]
    rule_set.save()
    return rule_set


def create_plan(company, name, freq, interval=1, **values):
    Plan = Pool().get('sale.subscription.plan')
    plan = Plan(name=name, company=company,
        recurrence=create_recurrence(name, freq, interval), **values)
    plan.save()
    return plan


def create_category(company, taxes, name="Software-Abos", tax='vat19'):
    pool = Pool()
    Account = pool.get('account.account')
    Category = pool.get('product.category')
    revenue, = Account.search([
            ('company', '=', company.id),
            ('type.revenue', '=', True),
            ('closed', '!=', True),
            ], order=[('code', 'DESC')], limit=1)
    category = Category(name=name, accounting=True,
        account_revenue=revenue, customer_taxes=[taxes[tax]])
    category.save()
    return category


def create_product(category, name, price, recurring=True, uom='u'):
    pool = Pool()
    Uom = pool.get('product.uom')
    Template = pool.get('product.template')
    Service = pool.get('sale.subscription.service')
    unit, = Uom.search([('symbol', '=', uom)], limit=1)
    template = Template(name=name, type='service', default_uom=unit,
        salable=True, sale_uom=unit, list_price=Decimal(price),
        account_category=category)
    template.products = [{}]
    template.save()
    product, = template.products
    if recurring:
        Service(product=product).save()
    return product


def create_customer(name, country_code='DE', country_name="Germany",
        lang_code='de', tax_rule=None, street="Hauptstraße 1",
        postal_code="80331", city="München", email=None):
    party = new_customer(name, country_code, country_name, lang_code,
        tax_rule, street, postal_code, city, email)
    party.save()
    return party


def new_customer(name, country_code='DE', country_name="Germany",
        lang_code='de', tax_rule=None, street="Hauptstraße 1",
        postal_code="80331", city="München", email=None):
    "An unsaved customer with an address and, if given, an e-mail address"
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    langs = Lang.search([('code', '=', lang_code)], limit=1)
    party = Party(name=name, lang=langs[0] if langs else None,
        customer_tax_rule=tax_rule)
    party.addresses = [{
            'street': street, 'postal_code': postal_code, 'city': city,
            'country': get_country(country_code, country_name)}]
    if email:
        party.contact_mechanisms = [{'type': 'email', 'value': email}]
    return party


def setup_company(first_year, last_year):
    "Everything a German subscription business needs before its first sale"
    company = create_company()
    with Transaction().set_context(company=company.id,
            companies=[company.id]):
        create_chart(company)
        create_fiscalyears(company, first_year, last_year)
        taxes = create_taxes(company)
    return company, taxes
