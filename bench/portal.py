"""Speed of the customer portal's pages against the back office's own
JSON-RPC read of the same contract, on PostgreSQL.

    .venv/bin/python bench/portal.py [--contracts 10000] [--clients 1,32]
        [--seconds 10] [--uri postgresql://postgres@/] [--keep-template]
        [--profile]

A database gets N running contracts (bench/billing.py's set-up: one
company, a monthly plan, 1-3 lines each); one of them is billed and its
customer gets a portal account; another customer gets a quotation with its
secure link. One trytond process serves them (as `make demo` does). For
each target and each number of concurrent clients, the clients request it
in a loop for --seconds; printed: requests/s, p50 and p95 latency, errors.

The targets:
- baseline: `model.sale.subscription.read` of the contract over JSON-RPC
  (the fields its form shows), as sao does, logged in as the administrator;
- contract page: the signed-in customer's contract page;
- quotation page: the quotation opened with its link;
- portal frame: a signed-in page without content (an unknown contract's
  404): what any portal page costs before it reads its records.
Prints figures, asserts nothing. With --profile, each page is instead
requested in this process: SQL queries and time per request, and the
functions that take the time.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'bench'), os.path.join(ROOT, 'tests'),
    os.path.join(ROOT, 'scripts')]

import billing  # noqa: E402
from billing import (  # noqa: E402
    Server, admin_config, build_template, in_tx)

PASSWORD = 'bench-portal-2026'
READ_FIELDS = ['number', 'state', 'party', 'plan', 'start_date',
    'next_invoice_date', 'lines', 'invoice_address', 'payment_method',
    'recurring_amount', 'mrr', 'currency']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--contracts', type=int, default=10000)
    parser.add_argument('--clients', default='1,32',
        type=lambda s: [int(n) for n in s.split(',')])
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--uri', default='postgresql://postgres@/')
    parser.add_argument('--database', default='bench_portal')
    parser.add_argument('--keep-template', action='store_true',
        help="reuse the activated template and the built database if "
        "they exist")
    parser.add_argument('--profile', action='store_true',
        help="count the queries of each page and profile it in-process")
    return parser.parse_args()


def prepare(database, n):
    """N contracts, one billed with a portal account, one quotation;
    returns what the clients need"""
    from trytond.pool import Pool

    context, _ = billing.setup(database, n, twins=False)

    def customer_and_quotation():
        from demo.portal import portal_account, quotation_link
        pool = Pool()
        Contract = pool.get('sale.subscription')
        contract, = Contract.search([], order=[('id', 'ASC')], limit=1)
        Contract.bill(Contract.claim([contract.id], billing.DATE),
            billing.DATE)
        email = portal_account(contract.party, PASSWORD)
        other, = Contract.search([('party', '!=', contract.party.id)],
            order=[('id', 'ASC')], limit=1)
        return {
            'contract': contract.id, 'email': email,
            'quotation': quotation_link(other),
            }
    return in_tx(database, customer_and_quotation, context)


def start_trytond(uri, database, tmp):
    from rpc_server import wait_http
    from serve import free_port
    port = free_port()
    config = os.path.join(tmp, 'trytond.conf')
    with open(config, 'w') as file:
        file.write(f'[database]\nuri = {uri}\nlist = False\n'
            f'[web]\nlisten = 127.0.0.1:{port}\n'
            '[session]\nmax_attempt = 1000\n')
    log = open(os.path.join(tmp, 'server.log'), 'w')
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}
    process = subprocess.Popen([os.path.join(os.path.dirname(
                    sys.executable), 'trytond'), '-c', config, '-d',
            database], stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_http(f'http://127.0.0.1:{port}/', process, timeout=120)
    return process, f'http://127.0.0.1:{port}/{database}'


def portal_client(base, facts):
    "An opener signed in to the portal as the contract's customer"
    from urllib.parse import urlencode
    jar = CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + '/portal/sign-in').read()
    csrf, = [c.value for c in jar if c.name == 'portal_csrf']
    opener.open(base + '/portal/sign-in', data=urlencode({
                'csrf_token': csrf, 'email': facts['email'],
                'password': PASSWORD}).encode()).read()
    assert any(c.name == 'portal_session' for c in jar), "not signed in"
    return opener


def targets(base, facts):
    "{name: a function making one request, returning the HTTP status}"
    from rpc_server import Session
    admin = Session(base + '/rpc/', 'admin', 'admin')
    portal = portal_client(base, facts)
    contract_url = f"{base}/portal/contracts/{facts['contract']}"
    # the link as e-mailed carries the server's configured name: here the
    # path on this server
    from demo.portal import url_path
    quotation_url = base.rsplit('/', 1)[0] + url_path(facts['quotation'])

    def rpc_read():
        admin.call('sale.subscription', 'read', [facts['contract']],
            READ_FIELDS)
        return 200

    def get(opener, url):
        with opener.open(url) as response:
            response.read()
            return response.status

    def not_found(opener, url):
        try:
            opener.open(url)
        except urllib.error.HTTPError as error:
            error.read()
            return 200 if error.code == 404 else error.code
        return 500

    plain = urllib.request.build_opener()
    return {
        'JSON-RPC read (baseline)': rpc_read,
        'contract page': lambda: get(portal, contract_url),
        'quotation page': lambda: get(plain, quotation_url),
        # what every signed-in page costs before its content: the session,
        # the language, a search and the frame (an unknown contract's 404)
        'portal frame (404 page)': lambda: not_found(
            portal, f"{base}/portal/contracts/999999999"),
        }


def profile(database, facts, rounds=20):
    "Queries and time per page, requested in this process; the top callers"
    import cProfile
    import logging
    import pstats
    from urllib.parse import urlencode

    from werkzeug.test import Client

    import trytond.modules.sale_subscription_contract  # noqa: F401 routes
    from demo.portal import url_path
    from trytond.wsgi import app

    queries = []

    class Count(logging.Handler):
        def emit(self, record):
            queries.append(record.getMessage())
    sql = logging.getLogger('trytond.backend.postgresql.database')
    sql.setLevel(logging.DEBUG)
    sql.addHandler(Count())

    client = Client(app)
    base = f'/{database}/portal'
    client.get(base + '/sign-in')
    csrf = client.get_cookie('portal_csrf', path=base + '/').value
    client.post(base + '/sign-in', data=urlencode({'csrf_token': csrf,
                'email': facts['email'], 'password': PASSWORD}),
        content_type='application/x-www-form-urlencoded')
    pages = {
        'contract page': f"{base}/contracts/{facts['contract']}",
        'quotation page': url_path(facts['quotation']),
        }
    for name, url in pages.items():
        assert client.get(url).status_code == 200, name
        del queries[:]
        profiler = cProfile.Profile()
        start = time.monotonic()
        profiler.enable()
        for _ in range(rounds):
            client.get(url)
        profiler.disable()
        elapsed = (time.monotonic() - start) / rounds
        print(f"{name}: {elapsed * 1000:.1f} ms, "
            f"{len(queries) / rounds:.0f} queries per request")
        if os.environ.get('PROFILE_QUERIES'):
            for query in queries[:len(queries) // rounds]:
                print('   ', query[:300])
        stats = pstats.Stats(profiler)
        stats.sort_stats('cumulative').print_stats(40)
        stats.sort_stats('tottime').print_stats(25)


def load(request, clients, seconds):
    "Run clients loops of request for seconds; return the figures"
    latencies, errors = [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        mine, failed = [], 0
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                ok = request() == 200
            except Exception:
                ok = False
            if ok:
                mine.append(time.monotonic() - start)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    quantile = (lambda q: latencies[min(len(latencies) - 1,
                int(q * len(latencies)))] * 1000 if latencies else 0)
    return {'requests': len(latencies), 'per_second': len(latencies) / elapsed,
        'p50': quantile(.5), 'p95': quantile(.95), 'errors': errors[0],
        'mean': statistics.mean(latencies) * 1000 if latencies else 0}


def main():
    options = parse_args()
    server = Server(options.uri)
    template = f'{options.database}_template'
    database = f'{options.database}_{options.contracts}'
    with tempfile.TemporaryDirectory() as tmp:
        cfg = admin_config(options.uri, tmp)
        activation = build_template(
            server, template, cfg, options.keep_template)
        facts_file = os.path.join(ROOT, '.cache', f'{database}.json')
        from trytond.pool import Pool
        if options.keep_template and server.exists(database) and (
                os.path.exists(facts_file)):
            Pool(database).init()
            with open(facts_file) as file:
                facts = json.load(file)
            setup = 0.
        else:
            server.create(database, template)
            Pool(database).init()
            start = time.monotonic()
            facts = prepare(database, options.contracts)
            setup = time.monotonic() - start
            os.makedirs(os.path.dirname(facts_file), exist_ok=True)
            with open(facts_file, 'w') as file:
                json.dump(facts, file)
        if options.profile:
            profile(database, facts)
            return
        process, base = start_trytond(options.uri, database, tmp)
        try:
            requests = targets(base, facts)
            for request in requests.values():
                request()  # warm the caches
            results = {name: {clients: load(request, clients,
                            options.seconds)
                    for clients in options.clients}
                for name, request in requests.items()}
        finally:
            process.terminate()
            process.wait(10)
    print(json.dumps(results))
    print(f"\nPostgreSQL, {os.cpu_count()} CPUs, one trytond process; "
        f"{options.contracts} contracts (set-up {setup:.0f} s, activation "
        f"{activation:.0f} s); {options.seconds:.0f} s per line")
    print(f"{'target':28} {'clients':>7} {'req/s':>8} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'errors':>7} {'p95/baseline':>13}")
    baseline = results['JSON-RPC read (baseline)']
    for name, by_clients in results.items():
        for clients, figures in by_clients.items():
            ratio = figures['p95'] / baseline[clients]['p95'] if (
                baseline[clients]['p95']) else 0
            print(f"{name:28} {clients:>7} {figures['per_second']:>8.1f} "
                f"{figures['p50']:>8.1f} {figures['p95']:>8.1f} "
                f"{figures['errors']:>7} {ratio:>13.2f}")


if __name__ == '__main__':
    main()
