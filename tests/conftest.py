"""Test set-up: one database per backend with the module activated and a
German company (see demo/company.py) committed once; each test then runs in
a transaction that is rolled back.

The backend comes from TRYTOND_DATABASE_URI (sqlite:// or postgresql://...),
as for Tryton's own tests; `make test` runs the suite once for each.
"""
import contextlib
import hashlib
import os
import sys
from decimal import Decimal
from unittest.mock import patch

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
if os.environ['TRYTOND_DATABASE_URI'].startswith('sqlite'):
    os.environ.setdefault('DB_NAME', ':memory:')
else:
    os.environ.setdefault('DB_NAME', 'test_subscription_contract')


def _module_hash():
    "Cached databases are keyed by the module's files: a change rebuilds"
    digest = hashlib.sha1()
    module = os.path.join(ROOT, 'sale_subscription_contract')
    for folder, _, files in sorted(os.walk(module)):
        for name in sorted(files):
            if name.endswith(('.py', '.xml', '.cfg', '.po')):
                with open(os.path.join(folder, name), 'rb') as file:
                    digest.update(file.read())
    return digest.hexdigest()[:12]


if 'DB_CACHE' not in os.environ:
    os.environ['DB_CACHE'] = os.path.join(
        ROOT, '.cache', 'db', _module_hash())
    os.makedirs(os.environ['DB_CACHE'], exist_ok=True)

import trytond.config as config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, USER, activate_module)
from trytond.transaction import Transaction  # noqa: E402

from demo.company import setup_company  # noqa: E402
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)

MODULE = 'sale_subscription_contract'
# a test server: cards are charged by the test processor (see
# test_payment.py for a server without this option)
if not config.has_section('subscription'):
    config.add_section('subscription')
config.set('subscription', 'test_processor', 'True')
# its optional dependency, activated so that the Stripe processor is tested
# (and the rest of the suite runs with it, as a customer with Stripe would)
EXTRAS = ['account_payment_stripe']
FIRST_YEAR, LAST_YEAR = 2023, 2028


def backend_name():
    from trytond import backend
    return backend.name


@pytest.fixture(scope='session')
def database():
    "The test database with the module and the company, committed"
    activate_module([MODULE, *EXTRAS])

    def setup():
        Company = Pool().get('company.company')
        if not Company.search([]):
            setup_company(FIRST_YEAR, LAST_YEAR)
    in_transaction(DB_NAME, setup, user=USER)
    return DB_NAME


class Env:
    "What a test needs: the pool, the company, its taxes and a date switch"

    def __init__(self, company):
        self.pool = Pool()
        self.company = company
        Tax = self.pool.get('account.tax')
        self.taxes = {t.name: t for t in Tax.search(
                [('company', '=', company.id)])}
        TaxRule = self.pool.get('account.tax.rule')
        self.eu_rule, = TaxRule.search([
                ('name', '=', "EU Reverse Charge"),
                ('company', '=', company.id),
                ])

    def get(self, name, type='model'):
        return self.pool.get(name, type=type)

    @contextlib.contextmanager
    def on(self, date):
        "Run as if today were date"
        Date = self.pool.get('ir.date')
        with patch.object(Date, 'today', return_value=date):
            yield

    def run_tasks(self):
        "Run the queued tasks as a worker would"
        Queue = self.pool.get('ir.queue')
        transaction = Transaction()
        while transaction.tasks:
            Queue(transaction.tasks.pop()).run()


@pytest.fixture
def env(database):
    "Replaced by an Env inside a rolled-back transaction (see below)"
    return database


def check_mrr_log():
    """After every scenario: the MRR stored on each contract is the sum of
    its MRR log (the analytics read the log, the screens the contract)"""
    connection = Transaction().connection
    info = getattr(connection, 'info', None)  # psycopg's, on PostgreSQL
    if info is not None and info.transaction_status.name == 'INERROR':
        return  # the scenario ended on a database error it expected
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Event = pool.get('sale.subscription.mrr_event')
    event = Event.__table__()
    cursor = connection.cursor()
    # summed here: SQLite sums NUMERIC columns as floats
    cursor.execute(*event.select(event.subscription, event.mrr_change))
    logged = {}
    for contract, change in cursor:
        logged[contract] = logged.get(contract, Decimal(0)) + Decimal(change)
    wrong = [(c.rec_name, c.mrr, logged.get(c.id, Decimal(0)))
        for c in Contract.search([('plan', '!=', None)])
        if (c.mrr or Decimal(0)) != logged.get(c.id, Decimal(0))]
    assert not wrong, f"contract, MRR, sum of its log: {wrong}"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run tests that take `env` in a transaction that is rolled back, and
    restart it when Tryton asks to (as its own with_transaction does)"""
    if 'env' not in pyfuncitem.funcargs:
        return None
    kwargs = {name: pyfuncitem.funcargs[name]
        for name in pyfuncitem._fixtureinfo.argnames}

    def run():
        Transaction().tasks.clear()  # only this test's tasks are run
        # a restart replays the test: what lives outside the database (a
        # mail server's inbox) forgets the abandoned attempt
        for value in kwargs.values():
            if hasattr(value, 'forget_attempt'):
                value.forget_attempt()
        pool = Pool()
        Company = pool.get('company.company')
        User = pool.get('res.user')
        company, = Company.search([], order=[('id', 'ASC')], limit=1)
        context = User.get_preferences(context_only=True)
        context.update(company=company.id, companies=[company.id])
        with Transaction().set_context(context):
            kwargs['env'] = Env(company)
            pyfuncitem.obj(**kwargs)
            check_mrr_log()
    # tests without env may commit on purpose (test_concurrent_billing)
    before = _committed_rows()
    in_transaction(DB_NAME, run, user=USER, commit=False, locks=_LOCKS)
    _rollback_memory_connection(pyfuncitem.nodeid)
    leaked = _committed_rows() - before
    assert not leaked, (
        "the test committed rows it should have rolled back: %s" % leaked)
    return True


# tables every billing or payment test writes to; a row left behind means
# something committed the test's transaction and later tests see its data
_WATCHED = ['sale_subscription', 'account_invoice', 'sale_sale',
    'party_party']
# the tables Tryton asked to lock from the start of a transaction: learnt
# once for the session instead of restarting each test that posts invoices
_LOCKS = {}


def _rollback_memory_connection(nodeid):
    """SQLite's :memory: database is one connection shared by every
    transaction of the thread: work still pending on it after the test's
    rollback would be seen, or committed, by the next test. Roll it back
    and say so in the summary."""
    if backend_name() != 'sqlite':
        return
    from trytond.backend.sqlite.database import Database
    memory = getattr(Database._local, 'memory_database', None)
    connection = memory._conn if memory else None
    if connection is not None and connection.in_transaction:
        connection.rollback()
        _PENDING_AFTER.append(nodeid)


_PENDING_AFTER = []


def pytest_terminal_summary(terminalreporter):
    for nodeid in _PENDING_AFTER:
        terminalreporter.write_line(
            "work left pending on the SQLite connection after %s "
            "was rolled back" % nodeid)


def _committed_rows():
    def count():
        cursor = Transaction().connection.cursor()
        rows = set()
        for table in _WATCHED:
            cursor.execute('SELECT id FROM "%s"' % table)
            rows.update((table, id_) for id_, in cursor)
        return rows
    return in_transaction(DB_NAME, count, user=USER, commit=False)
