"""Build the database of the access tests: two companies with the same
invoice sequences, each with a record of every model of the module, and
users of company A with the ordinary groups.

Run in its own process (tests/test_access.py starts it) on its own database:
DB_NAME names it, TRYTOND_DATABASE__PATH is its directory on SQLite; the
module is activated from Tryton's test database cache (DB_CACHE). It prints
what the tests need as JSON: the users and, per model of the module, its
records by company, and the module's RPC methods, into OUT.

    python tests/access_fixture.py PASSWORD OUT
"""
import datetime
import json
import os
from decimal import Decimal
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(TESTS), TESTS]

from trytond.model import ModelStorage, ModelView  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, USER, activate_module)
from trytond.transaction import Transaction  # noqa: E402

from conftest import EXTRAS, FIRST_YEAR, LAST_YEAR, MODULE, Env  # noqa: E402
from demo.company import (  # noqa: E402
    create_chart, create_company, create_fiscalyears, create_plan,
    create_taxes)
from demo.payment import DECLINED, add_card, create_card_journal  # noqa: E402
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)
from helpers import bill, make_catalogue, make_sale, start_contract  # noqa

PACKAGE = 'trytond.modules.' + MODULE
START = datetime.date(2026, 3, 1)
# the users of company A and their groups
USERS = {
    'nogroup': [],
    'sales': ['sale.group_sale'],
    'salesadmin': ['sale.group_sale_admin'],
    'accounting': ['account.group_account'],
    }


def run_tasks_but_emails(env):
    "Run the queued tasks as a worker would, but send no e-mail"
    Queue = env.get('ir.queue')
    tasks = Transaction().tasks
    while tasks:
        task = Queue(tasks.pop())
        if task.data['model'] != 'sale.subscription.customer_email':
            task.run()


def fill_company(env, name):
    "A record of every model of the module in env.company"
    pool = env.pool
    Employee = pool.get('company.employee')
    Party = pool.get('party.party')
    Team = pool.get('sale.team')
    Template = pool.get('sale.subscription.quotation_template')
    Option = pool.get('sale.sale.option')

    products = make_catalogue(env)
    monthly = create_plan(env.company, "Monatlich", 'monthly')
    by_card = create_plan(env.company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge')
    monthly.related_plans = [by_card]
    monthly.save()
    employee = Employee(party=Party(name="Verkauf " + name),
        company=env.company)
    employee.party.save()
    employee.save()
    Team(name="Team " + name, company=env.company, leader=employee,
        members=[employee]).save()
    Template(name="Angebot " + name, company=env.company, plan=monthly,
        lines=[{'product': products['seat'].id, 'quantity': 1}],
        options=[{'product': products['backup'].id, 'quantity': 1}],
        ).save()

    # both companies number their invoices alike (RE-2026-00001…): each
    # charges its third invoice, whose number the other company has too
    contract = invoiced_contract(env, products, monthly)
    # a card plan's contract without a card: its invoice is sent instead,
    # which the payment log says (its tasks run with the next contract's);
    # then closed for a reason (the churn reports)
    cardless = start_contract(env, by_card, START, [(products['seat'], 1)])
    bill(env, cardless, START)
    Reason = env.get('sale.subscription.close_reason')
    with env.on(START + datetime.timedelta(days=20)):
        env.get('sale.subscription').close_contracts([cardless],
            Reason.search([('code', '=', 'competitor')])[0],
            START + datetime.timedelta(days=20))
    charged_contract(env, products, by_card)
    # a quotation offering an option
    sale = make_sale(env, contract.party, monthly,
        [(products['seat'], 1)], sale_date=START)
    Option(sale=sale, product=products['backup'], quantity=1,
        unit_price=Decimal('9.99')).save()
    return contract


def invoiced_contract(env, products, plan):
    """A contract sent its invoice: periods, MRR events, an e-mail, a link,
    and a credit for the next invoice"""
    Contract = env.get('sale.subscription')
    contract = start_contract(env, plan, START, [(products['seat'], 3)])
    bill(env, contract, START)
    contract = Contract(contract.id)
    line, = contract.lines
    change_date = START + datetime.timedelta(days=14)
    with env.on(change_date):
        contract.get_change(change_date,
            lines=[{'line': line, 'quantity': 2}]).apply()
    contract.create_access_link('pay')
    return contract


def charged_contract(env, products, plan):
    """A contract whose card is declined: a payment method, an attempt, a
    log, a charge at the test gateway"""
    contract = start_contract(env, plan, START, [(products['seat'], 2)])
    with env.on(START):
        journal = create_card_journal(env.company)
        contract.payment_method = add_card(journal, contract.party, DECLINED)
        contract.save()
    bill(env, contract, START)
    with env.on(START):
        run_tasks_but_emails(env)
    return contract


def create_users(companies, password):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    company = companies['A']
    users = {}
    for login, groups in USERS.items():
        user = User(login=login, name=login.title(), password=password,
            companies=[company], company=company,
            groups=[ModelData.get_id(*g.split('.')) for g in groups])
        user.save()
        users[login] = user.id
    admin = User(USER)
    admin.password = password
    admin.company = company
    admin.save()
    users['admin'] = admin.id
    return users


def company_of(record):
    "The company a record belongs to: its own or its parent's"
    Model = record.__class__
    if 'company' in Model._fields:
        return record.company
    for name in sorted(Model.__access__) + ['subscription']:
        if name in Model._fields and getattr(record, name):
            return company_of(getattr(record, name))


def module_methods(Model, forms=False):
    """The RPC methods the module adds to Model (not the ERP's): the
    methods of records, or with forms those computed from the values the
    client sends (on_change...)"""
    methods = []
    for name in Model.__rpc__:
        if forms != name.startswith(('on_change', 'autocomplete')):
            continue
        owners = [k for k in Model.__mro__ if name in vars(k)]
        if owners and all(
                k.__module__.startswith(PACKAGE) for k in owners):
            methods.append(name)
    return sorted(methods)


def through(Model):
    "The parent's Many2Many field (model, name) that Model is the relation of"
    for name in Model.__access__:
        Parent = Model._fields[name].get_target()
        for fname, field in Parent._fields.items():
            if getattr(field, 'relation_name', None) == Model.__name__:
                return [Parent.__name__, fname]


def records_of(Model, companies):
    "The records of Model; a report's, of each company in turn"
    if Model._is_table_query():
        records = []
        for company in companies.values():
            with Transaction().set_context(company=company.id):
                records += Model.search([])
        return records
    return Model.search([])


def describe(companies):
    pool = Pool()
    IrModel = pool.get('ir.model')
    names = {c.id: key for key, c in companies.items()}
    models = {}
    for model in IrModel.search([('module', '=', MODULE)]):
        Model = pool.get(model.name)
        entry = models[model.name] = {
            'storage': issubclass(Model, ModelStorage),
            # a model without views is not served over RPC: it is read
            # through the Many2Many field of its parent
            'rpc': issubclass(Model, ModelView),
            'access': sorted(Model.__access__),
            'through': through(Model),
            # a report computed by a query: nothing to write, rows by company
            'report': (issubclass(Model, ModelStorage)
                and Model._is_table_query()),
            }
        if entry['storage']:
            rows = {}
            for record in records_of(Model, companies):
                company = company_of(record)
                key = names[company.id] if company else 'none'
                rows.setdefault(key, []).append(record.id)
            entry['rows'] = rows
    methods = {}
    for name, Model in pool.iterobject():
        found = module_methods(Model)
        if found:
            methods[name] = found
    # the wizards' forms: they name the contract they compute from
    forms = {name: module_methods(pool.get(name), forms=True)
        for name, model in models.items() if not model['storage']}
    # the ERP's contracts the module's methods are called on
    Contract = pool.get('sale.subscription')
    contracts = {}
    for contract in Contract.search([('plan', '!=', None)]):
        contracts.setdefault(names[contract.company.id], []).append(
            contract.id)
    # and the ERP's sales (Send by E-mail)
    Sale = pool.get('sale.sale')
    sales = {}
    for sale in Sale.search([]):
        sales.setdefault(names[sale.company.id], []).append(sale.id)
    return {'models': models, 'methods': methods,
        'forms': {k: v for k, v in forms.items() if v},
        'records': {'sale.subscription': contracts, 'sale.sale': sales}}


def main(password, out):
    activate_module([MODULE, *EXTRAS])

    def setup():
        companies = {}
        for key, name in [('A', "Abo Software GmbH"), ('B', "Cloudwerk AG")]:
            company = create_company(name)
            companies[key] = company
            with Transaction().set_context(
                    company=company.id, companies=[company.id]):
                create_chart(company)
                # the same invoice sequence prefix in both companies
                create_fiscalyears(company, FIRST_YEAR, LAST_YEAR)
                create_taxes(company)
                fill_company(Env(company), name)
        users = create_users(companies, password)
        facts = describe(companies)
        facts['users'] = users
        facts['companies'] = {k: c.id for k, c in companies.items()}
        # the test card journals, for the Add Card wizard
        facts['card_journals'] = {k: create_card_journal(c).id
            for k, c in companies.items()}
        return facts
    facts = in_transaction(DB_NAME, setup, user=USER)
    with open(out, 'w') as file:
        json.dump(facts, file)


if __name__ == '__main__':
    main(*sys.argv[1:])
