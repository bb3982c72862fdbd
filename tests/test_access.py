"""Who reads, changes and calls what, through the real RPC layer.

A trytond server on a database of its own (tests/access_fixture.py): two
companies A and B with the same invoice sequences, each with a record of
every model of the module, and users of company A without a group, in
Sales, in Sales Administration and in Accounting. Each logs in over
JSON-RPC and tries, for every model of the module (listed from ir.model, so
a new model is covered or this test fails), to read, write, create and
delete, and calls every RPC method the module adds: a user sees the rows of
their company only, never company B's, and is refused with an access error
(a message, not a traceback) where the table below says so.
"""
import base64
import datetime

import pytest

import rpc_server

pytestmark = pytest.mark.slow

MODULE = 'sale_subscription_contract'
PASSWORD = 'Acc3ss-Test-Pa55'
USERS = ['nogroup', 'sales', 'salesadmin', 'accounting']
SALES = {'sales', 'salesadmin'}
ADMIN = {'salesadmin'}

# model: who of company A reads, writes, creates, deletes its records
# (the administrator reads everything)
CONFIGURATION = (SALES, ADMIN, ADMIN, ADMIN)
EXPECTED = {
    # the contracts' records the machinery writes
    'sale.subscription.period': (SALES, set(), set(), set()),
    'sale.subscription.mrr_event': (SALES, set(), set(), set()),
    'sale.subscription.mrr_book': (SALES, set(), set(), set()),
    # reports: read by sales users of their company
    'sale.subscription.reporting.mrr_movement': (SALES, set(), set(), set()),
    'sale.subscription.reporting.kpi': (SALES, set(), set(), set()),
    'sale.subscription.reporting.churn_reason': (SALES, set(), set(), set()),
    'sale.subscription.reporting.sales_team': (SALES, set(), set(), set()),
    'sale.subscription.reporting.salesperson': (SALES, set(), set(), set()),
    'sale.subscription.reporting.cohort': (SALES, set(), set(), set()),
    'sale.subscription.reporting.forecast': (SALES, set(), set(), set()),
    'sale.subscription.customer_email': (SALES, set(), set(), set()),
    'sale.subscription.payment_attempt': (
        SALES | {'accounting'}, set(), set(), set()),
    'sale.subscription.payment_log': (
        SALES | {'accounting'}, set(), set(), set()),
    # written by the sales' Change Contract wizard
    'sale.subscription.adjustment': (SALES, SALES, SALES, set()),
    # stored cards: deactivated by sales administrators (token: see below)
    'sale.subscription.payment_method': (SALES, ADMIN, set(), set()),
    # configuration, with its lines (__access__ to the parent)
    'sale.subscription.plan': CONFIGURATION,
    'sale.subscription.plan-related': CONFIGURATION,
    'sale.subscription.quotation_template': CONFIGURATION,
    'sale.subscription.quotation_template.line': CONFIGURATION,
    'sale.subscription.quotation_template.option': CONFIGURATION,
    'sale.subscription.close_reason': CONFIGURATION,
    'sale.team': CONFIGURATION,
    'sale.team-company.employee': CONFIGURATION,
    # part of the sale
    'sale.sale.option': (SALES, SALES, SALES, SALES),
    # secrets: administrators only
    'sale.subscription.access_token': (set(), set(), set(), set()),
    'sale.subscription.test_card': (set(), set(), set(), set()),
    'sale.subscription.test_charge': (set(), set(), set(), set()),
    }
# the module's RPC methods, how they are called: buttons take the records,
# preview_invoices also the number of invoices
CALLS = {
    ('sale.subscription', 'preview_invoices'): (2,),
    ('sale.subscription', 'preview'): (),
    ('sale.subscription', 'change_wizard'): (),
    ('sale.subscription', 'close_wizard'): (),
    ('sale.subscription', 'add_card_wizard'): (),
    ('sale.subscription', 'pause_wizard'): (),
    ('sale.subscription', 'renew'): (),
    ('sale.subscription', 'reopen'): (),
    ('sale.subscription', 'resume'): (),
    ('sale.subscription.customer_email', 'retry'): (),
    # the quotation's Send by E-mail (portal/quotation.py)
    ('sale.sale', 'send_quotation'): (),
    }


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('access')
    name, uri, path = rpc_server.database_for(tmp, 'access')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(
        rpc_server.ROOT / 'tests' / 'access_fixture.py', name, path,
        [PASSWORD], tmp / 'fixture.log')
    process, url = rpc_server.start(tmp, name, uri, path)
    try:
        sessions = {login: rpc_server.Session(url, login, PASSWORD)
            for login in USERS + ['admin']}
        yield facts, sessions
    finally:
        process.terminate()
        process.wait(10)
        if not path:
            rpc_server.drop_postgresql(uri, name)


def storage_models(facts):
    return {name: model for name, model in facts['models'].items()
        if model['storage']}


def rows(model, *keys):
    return sorted(i for key in keys for i in model['rows'].get(key, []))


def test_every_model_of_the_module_is_covered(server):
    facts, sessions = server
    listed = {m['name'] for m in sessions['admin'].call(
            'ir.model', 'search_read', [('module', '=', MODULE)],
            0, None, None, ['name'])}
    assert listed == set(facts['models'])
    models = storage_models(facts)
    assert set(models) == set(EXPECTED), (
        "say who may read, write, create and delete the new models")
    for name, model in models.items():
        # every model has rows in both companies (or in none: global ones)
        assert model['rows'].get('A') and model['rows'].get('B') or (
            list(model['rows']) == ['none']), (name, model['rows'])
    methods = {(m, n) for m, names in facts['methods'].items()
        for n in names}
    assert methods == set(CALLS), "say how to call the new RPC methods"
    forms = {(m, n) for m, names in facts['forms'].items() for n in names}
    assert forms == {(m, n) for m, n, _ in FORM_METHODS}, (
        "say how to call the new methods of the wizards' forms")


def refused(outcome, model=None):
    """An access error for the user, or a model not served over RPC at all;
    for a report (a query), also: it has no such row in the user's company,
    or it cannot be written at all"""
    if not isinstance(outcome, rpc_server.RPCError):
        return False
    if outcome.access_error or outcome.forbidden:
        return True
    if model and model.get('report'):
        return (outcome.error[0] == 'On table_query'
            or outcome.user_error and "don't exist" in outcome.message)
    return False


def read_all(session, name, model):
    """What the user reads of model: its ids, or for a model without views
    (not served over RPC) one entry per row of its parent whose Many2Many
    field shows one of its rows (one relation row each in the fixture)"""
    if model['rpc']:
        outcome = session.outcome(
            name, 'search_read', [], 0, None, None, ['id', 'rec_name'])
        if isinstance(outcome, rpc_server.RPCError):
            return outcome
        return sorted(r['id'] for r in outcome)
    parent, field = model['through']
    outcome = session.outcome(
        parent, 'search_read', [], 0, None, None, [field])
    if isinstance(outcome, rpc_server.RPCError):
        return outcome
    return len([r for r in outcome if r[field]])


@pytest.mark.parametrize('login', USERS)
def test_what_each_user_reads(server, login):
    facts, sessions = server
    session = sessions[login]
    problems = []
    for name, model in sorted(storage_models(facts).items()):
        readers = EXPECTED[name][0]
        outcome = read_all(session, name, model)
        if login in readers:
            own = rows(model, 'A', 'none')
            if not model['rpc']:
                own = len(own)
            if isinstance(outcome, rpc_server.RPCError):
                problems.append(f"{name}: cannot read: {outcome.message}")
            elif outcome != own:
                problems.append(f"{name}: reads {outcome}, not {own}")
        elif not refused(outcome):
            problems.append(f"{name}: reads {outcome!r}")
        # company B's rows, asked for by id
        others = rows(model, 'B')
        if others:
            outcome = session.outcome(name, 'read', others, ['id'])
            if not refused(outcome, model):
                problems.append(f"{name}: reads company B's {outcome!r}")
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('login', USERS)
def test_what_each_user_changes(server, login):
    facts, sessions = server
    session = sessions[login]
    models = storage_models(facts)
    access = session.call('ir.model.access', 'get_access', list(models))
    problems = []
    for name, model in sorted(models.items()):
        readers, writers, creators, deleters = EXPECTED[name]
        expected = {
            'read': login in readers, 'write': login in writers,
            'create': login in creators, 'delete': login in deleters}
        if {k: bool(v) for k, v in access[name].items()} != expected:
            problems.append(f"{name}: access {access[name]}, not {expected}")
        own, others = rows(model, 'A', 'none'), rows(model, 'B')
        refusals = []
        if login not in writers:
            refusals.append(('write', own, {}))
        if login not in creators:
            refusals.append(('create', [{}]))
        if login not in deleters:
            refusals.append(('delete', own))
        # nobody of company A changes company B's rows
        if others:
            refusals += [('write', others, {}), ('delete', others)]
        for method, *args in refusals:
            outcome = session.outcome(name, method, *args)
            if not refused(outcome, model):
                problems.append(f"{name}: {method} {args}: {outcome!r}")
        if login in writers and model['rpc']:
            outcome = session.outcome(name, 'write', own, {})
            if isinstance(outcome, rpc_server.RPCError):
                problems.append(f"{name}: cannot write: {outcome.message}")
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('login', USERS)
def test_nobody_but_the_administrator_reads_card_tokens(server, login):
    facts, sessions = server
    name = 'sale.subscription.payment_method'
    own = rows(facts['models'][name], 'A')
    outcome = sessions[login].outcome(name, 'read', own, ['token'])
    assert isinstance(outcome, rpc_server.RPCError) and outcome.access_error
    outcome = sessions[login].outcome(
        name, 'search_read', [('token', '!=', None)], 0, None, None, ['id'])
    assert isinstance(outcome, rpc_server.RPCError) and outcome.access_error
    if login in SALES:
        # the rest of the card is theirs to see, and the form has no token
        method, = sessions[login].call(
            name, 'read', own, ['rec_name', 'last4', 'brand'])
        assert method['rec_name'].endswith('0002')
        view = sessions[login].call(name, 'fields_view_get', None, 'form')
        assert 'token' not in view['fields']


def test_the_administrator_reads_the_secrets(server):
    facts, sessions = server
    admin = sessions['admin']
    for name in ['sale.subscription.access_token',
            'sale.subscription.test_card', 'sale.subscription.test_charge']:
        model = facts['models'][name]
        assert set(admin.search_ids(name)) >= set(rows(model, 'A', 'none'))
    name = 'sale.subscription.payment_method'
    method, = admin.call(name, 'read', rows(facts['models'][name], 'A'),
        ['token'])
    assert method['token']


def _calls(facts):
    for (model, method), args in sorted(CALLS.items()):
        records = facts['records'].get(model) or facts['models'][model]['rows']
        yield model, method, args, records


@pytest.mark.parametrize('login', sorted(SALES))
def test_reports_refuse_company_b_put_in_the_context(server, login):
    """A user of A who names company B in the reports' context (as the
    filters' form would send it) gets none of B's figures, nor the MRR
    events behind a row (the drill-down)"""
    facts, sessions = server
    session = sessions[login]
    b = facts['companies']['B']
    own = session.context
    session.context = dict(own, company=b, companies=[b])
    problems = []
    try:
        for name, model in sorted(storage_models(facts).items()):
            if not model['report']:
                continue
            outcome = session.outcome(
                name, 'search_read', [], 0, None, None, ['id', 'company'])
            if not refused(outcome) and any(
                    r['company'] == b for r in outcome):
                problems.append(f"{name}: reads company B's {outcome!r}")
            for row in rows(model, 'B'):
                events = session.outcome('sale.subscription.mrr_event',
                    'search', [('reporting_row', '=', [name, row])])
                if not refused(events) and events:
                    problems.append(f"{name}: opens B's events {events}")
    finally:
        session.context = own
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('login', USERS)
def test_the_module_methods_refuse_other_companies(server, login):
    "Every RPC method of the module on company B's records: an access error"
    facts, sessions = server
    problems = []
    for model, method, args, records in _calls(facts):
        outcome = sessions[login].outcome(
            model, method, records['B'][:1], *args)
        if not refused(outcome):
            problems.append(f"{model}.{method}: {outcome!r}")
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('login', USERS)
def test_invoice_preview_of_an_own_contract(server, login):
    "The sales preview their company's contracts; others are refused"
    facts, sessions = server
    contract = facts['records']['sale.subscription']['A'][0]
    outcome = sessions[login].outcome(
        'sale.subscription', 'preview_invoices', [contract], 2)
    if login in SALES:
        (first, second), = outcome
        assert first['lines'] and first['total_amount']
        assert second['period_start'] != first['period_start']
    else:
        assert isinstance(outcome, rpc_server.RPCError)
        assert outcome.access_error, outcome.message


@pytest.mark.parametrize('login', ['nogroup', 'accounting'])
def test_users_without_sales_cannot_open_contract_wizards(server, login):
    facts, sessions = server
    contract = facts['records']['sale.subscription']['A'][0]
    for method in ['preview', 'change_wizard', 'close_wizard',
            'pause_wizard']:
        outcome = sessions[login].outcome(
            'sale.subscription', method, [contract])
        assert isinstance(outcome, rpc_server.RPCError), method
        assert outcome.access_error, outcome.message


def run_wizard(session, wizard, model, record, states):
    """Run wizard on record as the client does: states is [(state, data)]
    executed in turn; returns the last answer"""
    context = dict(session.context, active_model=model, active_id=record,
        active_ids=[record])
    session_id, _, _ = session._call(f'wizard.{wizard}.create', [context])
    try:
        for state, data in states:
            answer = session._call(f'wizard.{wizard}.execute',
                [session_id, data, state, context])
    finally:
        session._call(f'wizard.{wizard}.delete', [session_id, context])
    return answer


def test_sales_close_a_contract_of_their_company(server):
    "The Close wizard as a salesperson: the machinery writes what it must"
    facts, sessions = server
    sales = sessions['sales']
    contract = facts['records']['sale.subscription']['A'][-1]
    reason = rows(facts['models']['sale.subscription.close_reason'], 'none')[0]
    start = run_wizard(sales, 'sale.subscription.close', 'sale.subscription',
        contract, [('start', {})])['view']['defaults']
    # as the client sends it back: without the names of the relations
    start = {k: v for k, v in start.items() if '.' not in k}
    start.update(reason=reason, timing='today')
    run_wizard(sales, 'sale.subscription.close', 'sale.subscription',
        contract, [('close', {'start': start})])
    closed, = sales.call('sale.subscription', 'read', [contract],
        ['state', 'mrr_events'])
    assert closed['state'] == 'closed'
    events = sales.call('sale.subscription.mrr_event', 'read',
        closed['mrr_events'], ['kind'])
    assert 'churn' in {e['kind'] for e in events}


# the wizards' forms compute from a contract the client names: the values
# of a contract of company B are refused like the contract itself
FORM_METHODS = [
    ('sale.subscription.preview.start', 'on_change_with_invoices',
        {'count': 2}),
    ('sale.subscription.preview.start', 'on_change_with_lines',
        {'count': 2}),
    ('sale.subscription.close.start', 'on_change_with_end_date',
        {'timing': 'period_end'}),
    ]


@pytest.mark.parametrize('login', USERS)
def test_wizard_forms_refuse_other_companies_contracts(server, login):
    facts, sessions = server
    contracts = facts['records']['sale.subscription']
    problems = []
    for model, method, values in FORM_METHODS:
        for company in ['A', 'B']:
            outcome = sessions[login].outcome(model, method,
                dict(values, contract=contracts[company][0]))
            if login in SALES and company == 'A':
                if isinstance(outcome, rpc_server.RPCError) or not outcome:
                    problems.append(f"{model}.{method}: {outcome!r}")
            elif not refused(outcome):
                problems.append(
                    f"{model}.{method} of {company}: {outcome!r}")
    assert not problems, '\n'.join(problems)


ADD_CARD = 'sale.subscription.payment_method.add_card'


def add_card(session, contract, journal=None, number='4242 4242 4242 4242'):
    """The Add Card wizard on contract as the client runs it: the form's
    defaults, then the card typed in and Add Card"""
    start = run_wizard(session, ADD_CARD, 'sale.subscription', contract,
        [('start', {})])['view']['defaults']
    start = {k: v for k, v in start.items() if '.' not in k}
    start.update(holder="Erika Mustermann", number=number, exp_month=12,
        exp_year=2031, cvc='123')
    if journal:
        start['journal'] = journal
    return run_wizard(session, ADD_CARD, 'sale.subscription', contract,
        [('add', {'start': start})])


@pytest.mark.parametrize('login', USERS)
def test_sales_administrators_add_a_card_by_the_wizard(server, login):
    """Sales administrators store a card for a contract of their company
    over RPC as sao does; nobody else may start the wizard, nor use another
    company's journal; the new card's token stays the administrator's"""
    facts, sessions = server
    session = sessions[login]
    contract = facts['records']['sale.subscription']['A'][0]
    journals = facts['card_journals']
    if login not in ADMIN:
        # the button is for sales administrators (Tryton's own refusal)
        outcome = session.outcome('sale.subscription', 'add_card_wizard',
            [contract])
        assert isinstance(outcome, rpc_server.RPCError) and (
            outcome.user_error and 'not allowed' in outcome.message), (
            outcome)
        try:
            add_card(session, contract)
        except rpc_server.RPCError as error:
            assert refused(error), error
        else:
            raise AssertionError(f"{login} added a card")
        return
    # a mistyped number: a user error, nothing stored
    with pytest.raises(rpc_server.RPCError) as error:
        add_card(session, contract, number='4242 4242 4242 4241')
    assert error.value.user_error and not error.value.access_error
    assert "not a valid card number" in error.value.message
    # another company's card journal
    with pytest.raises(rpc_server.RPCError) as error:
        add_card(session, contract, journal=journals['B'])
    assert error.value.user_error
    assert "Cards cannot be stored on the payment journal" in (
        error.value.message)

    add_card(session, contract)
    method, = session.call('sale.subscription', 'read', [contract],
        ['payment_method', 'payment_method.rec_name'])
    assert method['payment_method.']['rec_name'] == "Visa •••• 4242"
    card, = session.call('sale.subscription.payment_method', 'read',
        [method['payment_method']], ['holder', 'exp_year', 'last4'])
    assert (card['holder'], card['exp_year'], card['last4']) == (
        "Erika Mustermann", 2031, '4242')
    outcome = session.outcome('sale.subscription.payment_method', 'read',
        [method['payment_method']], ['token'])
    assert refused(outcome), outcome
    token, = sessions['admin'].call('sale.subscription.payment_method',
        'read', [method['payment_method']], ['token'])
    assert token['token'].startswith('tok_test_')


def json_date(date):
    "A date as Tryton's JSON-RPC carries it"
    return {'__class__': 'date', 'year': date.year, 'month': date.month,
        'day': date.day}


@pytest.mark.parametrize('login', USERS)
def test_kpi_report_prints_only_the_users_company_to_sales(server, login):
    """Print KPI Report as the client runs it (the report with the wizard's
    data): sales users of A get A's PDF; nobody gets company B's figures,
    users without sales get none"""
    facts, sessions = server
    session = sessions[login]
    today = datetime.date.today()
    data = {'from_date': json_date(today.replace(day=1)),
        'to_date': json_date(today), 'period': 'month',
        'cohort_measure': 'logo'}
    for key in ['A', 'B']:
        try:
            answer = session._call(
                'report.sale.subscription.reporting.kpi_report.execute',
                [[], dict(data, company=facts['companies'][key]),
                    dict(session.context)])
        except rpc_server.RPCError as error:
            assert refused(error), (key, error.error)
            assert key == 'B' or login not in SALES, (key, error.error)
            continue
        assert key == 'A' and login in SALES, (key, answer[0])
        extension, content = answer[0], answer[1]
        assert extension == 'pdf'
        pdf = base64.b64decode(content['base64']) if isinstance(
            content, dict) else content
        assert bytes(pdf).startswith(b'%PDF'), pdf[:20]
