"""Values of the wrong type or size sent over JSON-RPC, as a client program
(or a user with curl) would: each gets a clear, translated user error, no
server error with a traceback in the log, and nothing is written.

The requests go through trytond's own WSGI application (login, dispatcher,
transaction, JSON encoding), in this process: the records they try to
change are committed by the fixture and removed after."""
import base64
import datetime
import json
import logging
from decimal import Decimal

import pytest

from trytond.modules.sale_subscription_contract.transaction import (
    in_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER
from trytond.transaction import Transaction

D = datetime.date
PASSWORD = 'bad-input-Pa55word'
MB = 'x' * 1_000_000


def _create_records():
    from demo.company import (
        create_category, create_customer, create_plan, create_product)
    pool = Pool()
    Company = pool.get('company.company')
    Contract = pool.get('sale.subscription')
    Tax = pool.get('account.tax')
    User = pool.get('res.user')
    company, = Company.search([], order=[('id', 'ASC')], limit=1)
    User.write([User(USER)], {'password': PASSWORD})
    with Transaction().set_context(company=company.id,
            companies=[company.id]):
        vat, = Tax.search([
                ('company', '=', company.id), ('name', '=', 'USt 19 %')])
        plan = create_plan(company, "RPC-Probe monatlich", 'monthly')
        category = create_category(company, {'vat19': vat},
            name="RPC-Probe")
        product = create_product(category, "RPC-Probe-Dienst", '10.00')
        party = create_customer("RPC-Probe Kunde")
        contract = Contract(company=company, party=party, plan=plan,
            invoice_recurrence=plan.recurrence, start_date=D(2026, 1, 1),
            currency=company.currency, reference="RPC-1")
        contract.on_change_party()
        service, = product.subscription_services
        contract.lines = [{
                'service': service, 'quantity': 1,
                'unit': product.default_uom, 'unit_price': Decimal('10.00'),
                'start_date': D(2026, 1, 1)}]
        contract.save()
        return {
            'company': company.id, 'contract': contract.id,
            'line': contract.lines[0].id, 'service': service.id,
            'unit': product.default_uom.id, 'plan': plan.id,
            'recurrence': plan.recurrence.id, 'product': product.id,
            'category': category.id, 'party': party.id,
            }


def _delete_records(ids):
    pool = Pool()
    User = pool.get('res.user')
    Contract = pool.get('sale.subscription')
    Plan = pool.get('sale.subscription.plan')
    RuleSet = pool.get('sale.subscription.recurrence.rule.set')
    Service = pool.get('sale.subscription.service')
    Product = pool.get('product.product')
    Template = pool.get('product.template')
    Category = pool.get('product.category')
    Party = pool.get('party.party')
    with Transaction().set_context(company=ids['company'],
            companies=[ids['company']]):
        Contract.delete([Contract(ids['contract'])])
        Plan.delete([Plan(ids['plan'])])
        RuleSet.delete([RuleSet(ids['recurrence'])])
        Service.delete(Service.search([('product', '=', ids['product'])]))
        Template.delete([Product(ids['product']).template])
        Category.delete([Category(ids['category'])])
        Party.delete([Party(ids['party'])])
    User.write([User(USER)], {'password_hash': None})


def _snapshot(ids):
    "What the calls must leave as it was"
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Line = pool.get('sale.subscription.line')
    Plan = pool.get('sale.subscription.plan')
    contract = Contract(ids['contract'])
    return {
        'contract': (contract.reference, contract.start_date,
            contract.description),
        'lines': [(l.id, l.quantity, l.unit_price, l.start_date)
            for l in Line.search([('subscription', '=', ids['contract'])])],
        'plans': Plan.search_count([('company', '=', ids['company'])]),
        }


class RPC:
    "A JSON-RPC client of trytond's WSGI application, logged in as admin"

    def __init__(self, ids):
        from werkzeug.test import Client

        import trytond.protocols.dispatcher  # noqa: F401 (its routes)
        from trytond.wsgi import app
        self.ids = ids
        self.client = Client(app)
        self.session = None
        user_id, session, _ = self.call(
            'common.db.login', 'admin', {'password': PASSWORD}, 'en')
        self.session = base64.b64encode(
            f'admin:{user_id}:{session}'.encode()).decode()
        self.context = {
            'company': ids['company'], 'companies': [ids['company']],
            'language': 'en'}

    def post(self, method, *params):
        "The JSON answer of the server to method(*params)"
        headers = {}
        if self.session:
            headers['Authorization'] = 'Session ' + self.session
        response = self.client.post(f'/{DB_NAME}/rpc/',
            data=json.dumps({'id': 1, 'method': method,
                    'params': list(params)}),
            headers=headers, content_type='application/json')
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    def call(self, method, *params):
        answer = self.post(method, *params)
        assert 'error' not in answer, answer['error']
        return answer['result']


@pytest.fixture(scope='module')
def rpc(database):
    ids = in_transaction(DB_NAME, _create_records, user=USER)
    try:
        yield RPC(ids)
    finally:
        in_transaction(DB_NAME, lambda: _delete_records(ids), user=USER)


def _line(ids, **values):
    return {'subscription': ids['contract'], 'service': ids['service'],
        'quantity': 1, 'unit': ids['unit'], 'unit_price': '10.00',
        'start_date': '2026-01-01', **values}


def _plan(ids, **values):
    return {'name': "Neuer Plan", 'company': ids['company'],
        'recurrence': ids['recurrence'], **values}


# (method, what the fixture's ids make of the arguments, message)
CASES = {
    'date as text': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'start_date': 'tomorrow'}],
        'The value "tomorrow" for field "Start Date" in "Sale Subscription" is '
        'not a date; enter it as YYYY-MM-DD'),
    'date as number': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'start_date': 20260101}],
        'is not a date'),
    'reference of 1 MB': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'reference': MB}],
        'for field "Reference" in "Sale Subscription" is too long '
        '(1000000 > 600)'),
    'dict as reference': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'reference': {'de': "x"}}],
        'for field "Reference" in "Sale Subscription" is not a text'),
    'unknown field': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'no_such_field': 1}],
        '"Sale Subscription" has no field "no_such_field"'),
    'values as a list': ('model.sale.subscription.write',
        lambda i: [[i['contract']], ['start_date', '2026-02-01']],
        'must be given as field names with their values'),
    'lines as a text': ('model.sale.subscription.write',
        lambda i: [[i['contract']], {'lines': 'delete all'}],
        'for field "Lines" in "Sale Subscription" is not valid'),
    'quantity as text': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, quantity='drei')]],
        'The value "drei" for field "Quantity" in "Sale Subscription Line" is '
        'not a number'),
    'quantity not a number': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, quantity='NaN')]], 'is not a number'),
    'price as text': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, unit_price='zehn Euro')]],
        'for field "Unit Price" in "Sale Subscription Line" is not a number'),
    'discount as text': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, discount_rate='20 %')]],
        'for field "Discount" in "Sale Subscription Line" is not a number'),
    'line date as text': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, start_date='bald')]], 'is not a date'),
    'quantity written as text': ('model.sale.subscription.line.write',
        lambda i: [[i['line']], {'quantity': 'viele'}], 'is not a number'),
    'discount written as text': ('model.sale.subscription.line.write',
        lambda i: [[i['line']], {'discount_rate': 'halb'}],
        'is not a number'),
    'line of a contract as text': ('model.sale.subscription.line.create',
        lambda i: [[_line(i, subscription='RPC-1')]],
        'for field "Subscription" in "Sale Subscription Line" is not the ID'),
    'dict as plan name': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, name={'de': "Monatlich"})]],
        'for field "Name" in "Sale Subscription Plan" is not a text'),
    'plan name of 1 MB': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, name=MB)]],
        'for field "Name" in "Sale Subscription Plan" is too long '
        '(1000000 > 100)'),
    'periods as text': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, duration='fixed', duration_periods='zwölf')]],
        'for field "Periods" in "Sale Subscription Plan" is not a whole number'),
    'periods too large': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, duration='fixed', duration_periods=2 ** 40)]],
        'is out of range'),
    'recurrence as text': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, recurrence='monatlich')]], 'is not the ID'),
    'boolean as text': ('model.sale.subscription.plan.create',
        lambda i: [[_plan(i, customer_can_close='no')]],
        'is neither true nor false'),
    }


@pytest.mark.parametrize('case', CASES)
def test_wrong_value_over_rpc_is_a_user_error(rpc, case, caplog):
    method, params, message = CASES[case]
    before = in_transaction(DB_NAME, lambda: _snapshot(rpc.ids), user=USER,
        commit=False)
    caplog.set_level(logging.INFO, logger='trytond')
    answer = rpc.post(method, *params(rpc.ids), rpc.context)
    error = answer.get('error')
    assert error and error[0] == 'UserError', error
    assert message in error[1][0]
    assert len(error[1][0]) < 400  # the value is cut, not sent back whole
    server_errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not server_errors, server_errors[0].getMessage()[:300]
    after = in_transaction(DB_NAME, lambda: _snapshot(rpc.ids), user=USER,
        commit=False)
    assert after == before


def test_values_tryton_converts_are_still_accepted(rpc):
    "An ISO date and numbers as text are what a JSON client may send"
    ids = rpc.ids
    line_id, = rpc.call('model.sale.subscription.line.create',
        [_line(ids, quantity='2', unit_price='12.50',
                discount_rate='0.1', start_date='2026-02-01')],
        rpc.context)
    line, = rpc.call('model.sale.subscription.line.read', [line_id],
        ['quantity', 'unit_price', 'discount_rate', 'start_date'],
        rpc.context)
    rpc.call('model.sale.subscription.line.delete', [line_id], rpc.context)
    assert line['quantity'] == 2
    assert Decimal(line['unit_price']['decimal']) == Decimal('12.50')
    assert Decimal(line['discount_rate']['decimal']) == Decimal('0.1')
    assert line['start_date']['year'] == 2026
