"""Billing and charging by trytond-worker processes on PostgreSQL: 1 worker
against 2 workers on the same data.

    .venv/bin/python bench/workers.py [--contracts 10000] [--periods 1]
        [--uri postgresql://postgres@/] [--database bench_workers]
        [--keep-template]

A template activated by trytond-admin (bench/billing.py build_template)
gets N customers with a test card that succeeds and N monthly contracts on
a plan that charges it (bench/billing.py setup), due for PERIODS months.
That database is cloned once per run so both runs start from the same rows.
For each run the workers (processes of `python -O trytond-worker -n 1`, with
[queue] worker = True) are started and left to initialise, then the
billing cron (bill_due_contracts) queues the batches; the clock runs from
there until no task is left in ir.queue: every batch billed and posted,
every invoice charged at the test gateway and its payment booked, the
ERP's invoice tasks (paid state) done.  Prints figures, asserts nothing.
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.billing import (  # noqa: E402
    DATE, Server, build_template, in_tx, setup)

WARM_UP = 15  # seconds for the workers to load the pool before the run


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--contracts', type=int, default=10000)
    parser.add_argument('--periods', type=int, default=1,
        help="months due per contract")
    parser.add_argument('--workers', default='1,2',
        type=lambda s: [int(n) for n in s.split(',')])
    parser.add_argument('--uri', default='postgresql://postgres@/')
    parser.add_argument('--database', default='bench_workers')
    parser.add_argument('--keep-template', action='store_true',
        help="reuse the activated template database if it exists")
    return parser.parse_args()


def run(server, data, name, workers, config, bill_date, context, n):
    "Bill and charge the clone name of data with workers; return figures"
    from trytond import backend
    from trytond.pool import Pool
    server.create(name, data)
    Pool(name).init()
    logs = [open(f'{config}.{name}.{i}.log', 'w') for i in range(workers)]
    processes = [subprocess.Popen([sys.executable, '-O', os.path.join(
                    os.path.dirname(sys.executable), 'trytond-worker'),
                '-c', config, '-d', name, '-n', '1', '-t', '2', '-v'],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for log in logs]
    try:
        time.sleep(WARM_UP)
        Contract = Pool(name).get('sale.subscription')
        start = time.monotonic()
        in_tx(name, lambda: Contract.bill_due_contracts(bill_date), context)
        while server.pending_tasks(name):
            assert all(p.poll() is None for p in processes), "worker died"
            time.sleep(0.2)
        seconds = time.monotonic() - start
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        for log in logs:
            log.close()
    (invoices,), = server.execute("SELECT count(*) FROM account_invoice "
        "WHERE state = 'paid'", database=name)
    (charges,), = server.execute("SELECT count(*) FROM account_payment "
        "WHERE state = 'succeeded'", database=name)
    (tasks,), = server.execute('SELECT count(*) FROM ir_queue',
        database=name)
    # per kind of task: the runs that failed (e.g. a lock held by the other
    # worker; Tryton queued them again) and where the workers' time went
    # (runs that finished and the seconds in them)
    failed_by_task, time_by_task = {}, {}
    for task, failed_runs, runs, busy in server.execute(
            "SELECT (data->>'model') || '.' || (data->>'method'), "
            'count(*) FILTER (WHERE finished_at IS NULL), '
            'count(finished_at), '
            'sum(extract(epoch FROM finished_at - dequeued_at)) '
            'FROM ir_queue GROUP BY 1 ORDER BY 4 DESC NULLS LAST',
            database=name):
        if failed_runs:
            failed_by_task[task] = failed_runs
        if runs:
            time_by_task[task] = (runs, float(busy))
    failed = sum(failed_by_task.values())
    backend.Database(name).close()
    Pool.stop(name)
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {'workers': workers, 'seconds': seconds, 'invoices': invoices,
        'charges': charges, 'tasks': tasks, 'failed': failed,
        'failed_by_task': failed_by_task, 'time_by_task': time_by_task,
        'rate': n / seconds}


def main():
    options = parse_args()
    server = Server(options.uri)
    n = options.contracts
    template = f'{options.database}_template'
    data = f'{options.database}_data'
    bill_date = DATE.replace(month=DATE.month + options.periods - 1)
    with tempfile.NamedTemporaryFile('w', suffix='.conf',
            delete=False) as cfg:
        cfg.write(f'[database]\nuri = {options.uri}\n'
            '[queue]\nworker = True\n'
            '[subscription]\ntest_processor = True\n')
    try:
        template_seconds = build_template(
            server, template, cfg.name, options.keep_template)
        from trytond import config
        config.update_etc(cfg.name)
        # the backend is chosen from the configuration when first imported
        from trytond import backend
        from trytond.pool import Pool
        # the bench process only queues: the workers run the tasks
        server.create(data, template)
        Pool(data).init()
        start = time.monotonic()
        context, _ = setup(data, n, twins=False, charge=True)
        setup_seconds = time.monotonic() - start
        backend.Database(data).close()
        Pool.stop(data)
        results = []
        for workers in options.workers:
            result = run(server, data, f'{options.database}_{workers}w',
                workers, cfg.name, bill_date, context, n)
            print(f"{workers} worker(s) done: {result}", file=sys.stderr)
            results.append(result)
        server.execute(f'DROP DATABASE IF EXISTS "{data}" WITH (FORCE)')
    finally:
        os.unlink(cfg.name)
    print(f"\nPostgreSQL, {os.cpu_count()} CPUs; {n} contracts due for "
        f"{options.periods} month(s) on {bill_date}; template "
        f"{template_seconds:.0f} s, setup {setup_seconds:.0f} s; "
        "timed from queuing the billing to an empty ir.queue "
        "(billing, posting, charging, paid state)")
    head = "{:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>12} {:>8}"
    print(head.format('workers', 'seconds', 'invoices', 'charges', 'tasks',
            'failed', 'contracts/s', 'ratio'))
    base = results[0]['rate']
    for r in results:
        print(head.format(r['workers'], f"{r['seconds']:.1f}", r['invoices'],
                r['charges'], r['tasks'], r['failed'], f"{r['rate']:.2f}",
                f"{r['rate'] / base:.2f}"))
    for r in results:
        if r['failed']:
            print(f"{r['workers']} worker(s), runs queued again after a "
                f"lock was found taken: {r['failed_by_task']}")
    for r in results:
        print(f"{r['workers']} worker(s), finished runs and seconds in "
            "them per task:")
        for method, (runs, seconds) in r['time_by_task'].items():
            print(f"    {method:<40} {runs:>6} {seconds:>9.1f}")
    print(f"({datetime.datetime.now():%Y-%m-%d %H:%M})")


if __name__ == '__main__':
    main()
