"""Billing throughput of the period billing run against the ERP's own
generate_invoice, on PostgreSQL.

    .venv/bin/python bench/billing.py [--sizes 1000,10000]
        [--uri postgresql://postgres@/] [--keep-template]

For each size N a fresh database is cloned from a template where
trytond-admin activated the module.  It gets one company
(demo.company.setup_company), a monthly plan, three recurring products, N
customers and, for each customer, two equivalent contracts starting on DATE:
ours on the plan, and a plain ERP twin whose lines are consumed monthly.
The plain twins are invisible to our run (no plan) and ours to the ERP's
(no consumption, no next invoice date).

Ours is billed (invoice + post) as `trytond-subscription bill` does: the due
ids in one transaction, then cli._bill_batch per batch of 50, each in its own
transaction.  The ERP twins are run in batches of ERP_BATCH because
generate_invoice takes no ids: each batch is run and consumed
(generate_consumption, timed apart), then generate_invoice(DATE) makes its
draft invoices in one transaction, then they are posted by 50 per
transaction for a like-for-like figure.

Queries are counted by wrapping the backend's cursor; rows read and written
come from pg_stat_database.  Prints figures, asserts nothing.
"""
import argparse
import cProfile
import datetime
import os
import pstats
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MODULE = 'sale_subscription_contract'
DATE = datetime.date(2026, 1, 1)
BATCH = 50  # as cli.BATCH_SIZE
ERP_BATCH = 200  # ERP subscriptions run and invoiced per transaction
SETUP_BATCH = 200
PRODUCTS = [("Cloud-Arbeitsplatz", '29.90'), ("Backup 100 GB", '9.99'),
    ("Support Plus", '49.00')]
QUERIES = [0]
RESTARTS = {}  # table: transactions restarted to lock it


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='1000,10000',
        type=lambda s: [int(n) for n in s.split(',')])
    parser.add_argument('--uri', default='postgresql://postgres@/')
    parser.add_argument('--database', default='bench_billing')
    parser.add_argument('--keep-template', action='store_true',
        help="reuse the activated template database if it exists")
    parser.add_argument('--no-profile', dest='profile', action='store_false',
        help="skip the cProfile of our last batch at the last size")
    return parser.parse_args()


class Server:
    "Administrative connection to the PostgreSQL server"

    def __init__(self, uri):
        self.uri = uri

    def execute(self, query, params=None, database='postgres'):
        uri = urlsplit(self.uri)._replace(path='/' + database).geturl()
        with psycopg.connect(uri, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else None

    def exists(self, name):
        return bool(self.execute(
                'SELECT 1 FROM pg_database WHERE datname = %s', [name]))

    def create(self, name, template=None):
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"'
            + (f' TEMPLATE "{template}"' if template else ''))

    def pending_tasks(self, name):
        """Queued tasks still to run: not finished, and not a failed run
        that Tryton queued again (a later copy) or reported in ir.error"""
        return self.execute('SELECT count(*) FROM ir_queue q '
            'WHERE q.finished_at IS NULL AND NOT EXISTS (SELECT 1 '
            'FROM ir_queue c WHERE c.id > q.id AND c.name = q.name '
            'AND c.data = q.data) AND NOT EXISTS (SELECT 1 FROM ir_error e '
            "WHERE e.origin = 'ir.queue,' || q.id)", database=name)[0][0]

    def stats(self, name):
        row, = self.execute('SELECT xact_commit, tup_returned, tup_fetched, '
            'tup_inserted, tup_updated, tup_deleted '
            'FROM pg_stat_database WHERE datname = %s', [name])
        return {'commits': row[0], 'read': row[1] + row[2],
            'written': sum(row[3:])}


def build_template(server, name, cfg, keep):
    if keep and server.exists(name):
        return 0.
    start = time.monotonic()
    server.create(name)
    with tempfile.NamedTemporaryFile('w') as password:
        password.write('admin\n')
        password.flush()
        subprocess.run([os.path.join(os.path.dirname(sys.executable),
                    'trytond-admin'), '-c', cfg, '-d', name, '-u', MODULE,
                '--activate-dependencies'],
            input=b'\n',  # no admin email
            env=dict(os.environ, TRYTONPASSFILE=password.name),
            check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def instrument():
    "Count the queries and the transactions restarted to lock a table"
    from trytond import transaction
    from trytond.backend.postgresql.database import LoggingCursor
    execute = LoggingCursor.execute

    def counted(self, *args, **kwargs):
        QUERIES[0] += 1
        return execute(self, *args, **kwargs)
    LoggingCursor.execute = counted
    for error in [transaction._TransactionLockError,
            transaction._TransactionLockRecordsError]:
        def fix(self, extras, fix=error.fix):
            RESTARTS[self._table] = RESTARTS.get(self._table, 0) + 1
            return fix(self, extras)
        error.fix = fix


class Measure:
    "Wall time, queries and pg_stat_database deltas of a block"

    def __init__(self, server, database):
        self.server, self.database = server, database

    def __enter__(self):
        self.flush()
        self.stats, self.queries = self.server.stats(self.database), QUERIES[0]
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start
        self.queries = QUERIES[0] - self.queries
        self.flush()
        after = self.server.stats(self.database)
        self.stats = {k: after[k] - v for k, v in self.stats.items()}

    def flush(self):
        "Close Tryton's connections: a backend reports its stats on exit"
        from trytond import backend
        backend.Database(self.database).close()
        time.sleep(0.5)


def admin_config(uri, folder):
    "Point this process's trytond at the server; return the file's path"
    from trytond import config
    path = os.path.join(folder, 'admin.conf')
    with open(path, 'w') as file:
        file.write(f'[database]\nuri = {uri}\n')
    config.update_etc(path)
    return path


def in_tx(database, func, context, locks=None):
    from trytond.modules.sale_subscription_contract.transaction import (
        in_transaction)
    return in_transaction(
        database, func, user=0, context=context, locks=locks)


def setup(database, n, twins=True, charge=False):
    """Company, plan, products, customers and 2×N draft contracts (N without
    the ERP twins); with charge, the plan charges a test card that
    succeeds, stored for each customer (bench/workers.py)"""
    from trytond.pool import Pool

    from demo.company import (
        create_category, create_payment_term, create_plan, create_product,
        get_country, setup_company)
    from demo.payment import add_card, create_card_journal

    def company():
        company, taxes = setup_company(2025, 2027)
        return company.id, taxes['vat19'].id
    company_id, tax_id = in_tx(database, company, {})
    context = {'company': company_id, 'companies': [company_id]}

    def catalogue():
        pool = Pool()
        Company = pool.get('company.company')
        Tax = pool.get('account.tax')
        company = Company(company_id)
        category = create_category(company, {'vat19': Tax(tax_id)})
        products = [create_product(category, name, price)
            for name, price in PRODUCTS]
        plan = create_plan(company, "Monatlich", 'monthly',
            **({'invoicing_mode': 'charge'} if charge else {}))
        journal = create_card_journal(company).id if charge else None
        return (plan.id, [p.id for p in products],
            create_payment_term().id, get_country('DE', "Germany").id,
            journal)
    plan_id, product_ids, term_id, country_id, journal_id = in_tx(
        database, catalogue, context)

    def contracts(start, stop):
        pool = Pool()
        Party = pool.get('party.party')
        Lang = pool.get('ir.lang')
        Contract = pool.get('sale.subscription')
        Line = pool.get('sale.subscription.line')
        Plan = pool.get('sale.subscription.plan')
        Product = pool.get('product.product')
        PaymentJournal = pool.get('account.payment.journal')
        lang, = Lang.search([('code', '=', 'de')])
        plan = Plan(plan_id)
        products = Product.browse(product_ids)
        parties = [Party(name=f"Kunde {i}", lang=lang, addresses=[{
                        'street': "Hauptstraße 1", 'postal_code': "80331",
                        'city': "München", 'country': country_id}])
            for i in range(start, stop)]
        Party.save(parties)
        ours, twins_ = [], []
        for i, party in enumerate(parties, start):
            kinds = [(plan, ours)] + ([(None, twins_)] if twins else [])
            for plan_, contracts in kinds:
                method = None
                if plan_ and journal_id:
                    method = add_card(PaymentJournal(journal_id), party)
                contracts.append(Contract(
                        company=company_id, party=party,
                        invoice_address=party.addresses[0],
                        currency=plan.company.currency, start_date=DATE,
                        payment_term=term_id, plan=plan_,
                        payment_method=method,
                        invoice_recurrence=plan.recurrence,
                        lines=[Line(service=p.subscription_services[0],
                                quantity=1 + (i + j) % 5, unit=p.default_uom,
                                unit_price=p.list_price_used, start_date=DATE,
                                consumption_recurrence=(
                                    None if plan_ else plan.recurrence))
                            for j, p in enumerate(products[:1 + i % 3])]))
        Contract.save(ours + twins_)
        Contract.quote(ours + twins_)
        Contract.run(ours)
        return [c.id for c in twins_]
    twin_ids = []
    for start in range(0, n, SETUP_BATCH):
        twin_ids += in_tx(database, lambda: contracts(
                start, min(start + SETUP_BATCH, n)), context)
    return context, twin_ids


def bill_ours(database, context, profile=False):
    "Our billing run as `trytond-subscription bill` does it"
    from sale_subscription_contract import cli
    from trytond.pool import Pool
    Contract = Pool(database).get('sale.subscription')
    ids = in_tx(database, lambda: Contract.due_contract_ids(DATE), context)
    if profile:  # the last batch is billed apart, under cProfile
        ids, profiled = ids[:-BATCH], ids[-BATCH:]
    totals = {'contracts': 0, 'invoices': 0, 'amount': 0}
    errors = []
    locks = {}  # as the command line: the sequences, locked up front
    for i in range(0, len(ids), BATCH):
        cli._bill_batch(database, context, ids[i:i + BATCH], DATE, totals,
            errors, locks)
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(cli._bill_batch, database, context, profiled, DATE,
            {'contracts': 0, 'invoices': 0, 'amount': 0}, errors, locks)
        return totals, errors, profiler
    return totals, errors, None


def bill_erp(database, context, twins, server):
    "The ERP's generate_invoice over the twins, ERP_BATCH at a time"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    Contract = pool.get('sale.subscription')
    Line = pool.get('sale.subscription.line')
    Invoice = pool.get('account.invoice')
    seconds = {'consume': 0., 'draft': 0., 'post': 0.}
    measures, invoices = {}, 0
    locks = {}  # as ours: the sequences Tryton asks to lock, taken up front

    def timed(key, func):
        start = time.monotonic()
        result = in_tx(database, func, context, locks=locks)
        seconds[key] += time.monotonic() - start
        return result

    def draft():
        Contract.generate_invoice(DATE)
        return [i.id for i in Invoice.search([('state', '=', 'draft')])]

    def post(ids):
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(Invoice.browse(ids))

    for start in range(0, len(twins), ERP_BATCH):
        batch = twins[start:start + ERP_BATCH]
        in_tx(database, lambda: Contract.run(Contract.browse(batch)), context)
        timed('consume', lambda: Line.generate_consumption(DATE))
        with Measure(server, database) as measure:
            drafts = timed('draft', draft)
        invoices += len(drafts)
        for i in range(0, len(drafts), BATCH):
            timed('post', lambda: post(drafts[i:i + BATCH]))
        for key, value in [('queries', measure.queries)] + list(
                measure.stats.items()):
            measures[key] = measures.get(key, 0) + value
    return invoices, seconds, measures


def run_size(server, template, n, profile):
    from trytond.pool import Pool
    database = f'{template[:-len("_template")]}_{n}'
    server.create(database, template)
    Pool(database).init()
    start = time.monotonic()
    context, twins = setup(database, n)
    setup_seconds = time.monotonic() - start

    restarts = [dict(RESTARTS)]
    with Measure(server, database) as ours:
        totals, errors, profiler = bill_ours(database, context, profile)
    restarts.append(dict(RESTARTS))
    erp_invoices, erp_seconds, erp = bill_erp(
        database, context, twins, server)
    restarts.append(dict(RESTARTS))
    restarts = [{t: after.get(t, 0) - before.get(t, 0) for t in after
            if after.get(t, 0) != before.get(t, 0)}
        for before, after in zip(restarts, restarts[1:])]
    lines = server.execute('SELECT count(*) FROM account_invoice_line',
        database=database)[0][0]
    return {
        'n': n, 'setup': setup_seconds, 'errors': errors, 'lines': lines,
        'ours': {'contracts': totals['contracts'],
            'invoices': totals['invoices'], 'seconds': ours.seconds,
            'queries': ours.queries, 'restarts': restarts[0], **ours.stats},
        'erp': {'invoices': erp_invoices, 'restarts': restarts[1],
            **erp_seconds, **erp},
        }, profiler


def report(results, template_seconds):
    print(f"\nPostgreSQL, {os.cpu_count()} CPUs; template activation "
        f"{template_seconds:.0f} s; ours: batches of {BATCH} "
        f"(claim+bill+post, one transaction each); ERP: generate_invoice "
        f"per {ERP_BATCH} subscriptions, post per {BATCH}.")
    head = ("{:>6} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} "
        "{:>8} {:>8}")
    print(head.format('N', 'setup s', 'ours s', 'contr/s', 'inv/s',
            'ms/inv', 'q/inv', 'rd/inv', 'wr/inv', 'commits', 'errors'))
    for r in results:
        o = r['ours']
        inv = max(o['invoices'], 1)
        print(head.format(r['n'], f"{r['setup']:.0f}", f"{o['seconds']:.1f}",
                f"{o['contracts'] / o['seconds']:.1f}",
                f"{o['invoices'] / o['seconds']:.1f}",
                f"{1000 * o['seconds'] / inv:.1f}",
                f"{o['queries'] / inv:.1f}", f"{o['read'] / inv:.0f}",
                f"{o['written'] / inv:.1f}", o['commits'], len(r['errors'])))
    print("\nERP baseline (sale.subscription.generate_invoice, drafts only; "
        "consume and post timed apart)")
    head = "{:>6} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}"
    print(head.format('N', 'drafts', 'consume s', 'draft s', 'draft/s',
            'ms/inv', 'q/inv', 'wr/inv', 'post s', 'draft+post'))
    for r in results:
        e = r['erp']
        inv = max(e['invoices'], 1)
        print(head.format(r['n'], e['invoices'], f"{e['consume']:.1f}",
                f"{e['draft']:.1f}", f"{e['invoices'] / e['draft']:.1f}",
                f"{1000 * e['draft'] / inv:.1f}", f"{e['queries'] / inv:.1f}",
                f"{e['written'] / inv:.1f}", f"{e['post']:.1f}",
                f"{1000 * (e['draft'] + e['post']) / inv:.1f}ms"))
    print("\nPer contract (ms): ours (invoice+post) vs ERP draft, ERP "
        "draft+post")
    head = "{:>6} {:>8} {:>9} {:>11} {:>14} {:>16}"
    print(head.format('N', 'ours', 'ERP draft', 'ERP d+post',
            'ours/ERP draft', 'ours/ERP d+post'))
    for r in results:
        o, e = r['ours'], r['erp']
        ours = 1000 * o['seconds'] / max(o['contracts'], 1)
        draft = 1000 * e['draft'] / max(e['invoices'], 1)
        both = 1000 * (e['draft'] + e['post']) / max(e['invoices'], 1)
        print(head.format(r['n'], f"{ours:.1f}", f"{draft:.1f}",
                f"{both:.1f}", f"{ours / draft:.2f}", f"{ours / both:.2f}"))
    for r in results:
        print(f"N={r['n']}: transactions restarted to lock a table: "
            f"ours {r['ours']['restarts']}, ERP {r['erp']['restarts']}")
        for contract, message in r['errors'][:5]:
            print(f"error N={r['n']} {contract}: {message}")


def main():
    options = parse_args()
    server = Server(options.uri)
    template = f'{options.database}_template'
    with tempfile.NamedTemporaryFile('w', suffix='.conf') as cfg:
        cfg.write(f'[database]\nuri = {options.uri}\n')
        cfg.flush()
        template_seconds = build_template(
            server, template, cfg.name, options.keep_template)
        from trytond import config
        config.update_etc(cfg.name)
    instrument()
    results = []
    for n in options.sizes:
        profile = options.profile and n == options.sizes[-1]
        result, profiler = run_size(server, template, n, profile)
        results.append(result)
        print(f"N={n} done: {result}", file=sys.stderr)
    report(results, template_seconds)
    if profiler:
        print(f"\ncProfile of one batch of {BATCH} (ours, last batch at "
            f"N={options.sizes[-1]}), top 15 by cumulative time:")
        pstats.Stats(profiler).sort_stats('cumulative').print_stats(15)


if __name__ == '__main__':
    main()
