"""Speed of the subscription reports on a large book, on PostgreSQL.

    .venv/bin/python bench/analytics.py [--contracts 100000] [--months 24]
        [--repeat 3] [--uri postgresql://postgres@/] [--keep-template]

A database gets one company with the module (bench/billing.py's set-up for
one contract), then a synthetic book inserted directly in SQL: customers
(about three contracts in four are a customer's first), contracts, and
their MRR event log over --months months: each contract starts in a random
month with a random MRR, may grow or shrink in later months and churns
with a monthly probability; a customer whose contracts all ended may come
back with a later contract (a reactivation). Sales teams, salespeople and
close reasons are spread over the events. The customers' classified book
(sale.subscription.mrr_book), which the module keeps as events are
written, is then computed once for the whole log (its time is printed).

Then each report of *Subscription Contracts > Reporting* (every
`sale.subscription.reporting.*` model with a table query) is read whole
for the full range, per month, as the client reads a list (search_read of
all its fields), --repeat times; beside it, in the same run, the floor: a
plain GROUP BY over the event table (MRR change per month and kind).
Printed: rows, the median time of each and its ratio to the floor.
Target: every report under 1 s and at most 5x the floor. Asserts nothing.
"""
import argparse
import datetime
import io
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'bench'), os.path.join(ROOT, 'tests'),
    os.path.join(ROOT, 'scripts')]

import billing  # noqa: E402
from billing import (  # noqa: E402
    Server, admin_config, build_template, in_tx)

FIRST_MONTH = datetime.date(2025, 1, 1)
PRICES = [Decimal(p) for p in ['9.90', '29.90', '49.00', '99.00', '199.00']]
# monthly probabilities of a running contract
EXPANSION, CONTRACTION, CHURN = 0.03, 0.02, 0.025
# the share of contracts that are a customer's second or later
EXTRA_CONTRACTS = 0.25
TEAMS, SALESPEOPLE_PER_TEAM = 4, 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--contracts', type=int, default=100000)
    parser.add_argument('--months', type=int, default=24)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--uri', default='postgresql://postgres@/')
    parser.add_argument('--database', default='bench_analytics')
    parser.add_argument('--keep-template', action='store_true',
        help="reuse the activated template if it exists")
    return parser.parse_args()


def month(index):
    "The first day of the index-th month of the book"
    year, month_ = divmod(FIRST_MONTH.month - 1 + index, 12)
    return FIRST_MONTH.replace(year=FIRST_MONTH.year + year,
        month=month_ + 1)


def company_facts(database):
    """The company, its currency, the plan, the template contract and the
    sales teams with their salespeople (made with the ORM)"""
    from trytond.pool import Pool

    context, _ = billing.setup(database, 1, twins=False)

    def facts():
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        Team = pool.get('sale.team')
        Reason = pool.get('sale.subscription.close_reason')
        contract, = Contract.search([])
        salespeople = []
        for t in range(TEAMS):
            people = [Party(name=f"Verkauf {t}-{s}")
                for s in range(SALESPEOPLE_PER_TEAM)]
            Party.save(people)
            members = [Employee(party=p, company=contract.company)
                for p in people]
            Employee.save(members)
            team = Team(name=f"Team {t}", company=contract.company,
                members=members)
            team.save()
            salespeople += [(team.id, m.id) for m in members]
        return {
            'company': contract.company.id,
            'currency': contract.company.currency.id,
            'plan': contract.plan.id,
            'contract': contract.id,
            'party': contract.party.id,
            'salespeople': salespeople,
            'reasons': [r.id for r in Reason.search([])],
            }
    return in_tx(database, facts, context)


def copies(cursor, table, template_id, overrides, rows):
    """Insert one copy of the template row per row of values (a list of
    tuples matching overrides: column -> position); return their ids in
    order"""
    cursor.execute("SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position", [table])
    columns = [c for c, in cursor.fetchall()]
    names = list(overrides)
    select = ', '.join(
        f'v.c{names.index(c)}' if c in overrides else f't."{c}"'
        for c in columns)
    values = ', '.join(f'c{i}' for i in range(len(names)))
    quoted = ', '.join(f'"{c}"' for c in columns)
    ids = []
    for start in range(0, len(rows), 10000):
        chunk = rows[start:start + 10000]
        arrays = [[row[i] for row in chunk] for i in range(len(names))]
        unnest = ', '.join(f'%s::{overrides[n]}[]' for n in names)
        cursor.execute(
            f'INSERT INTO "{table}" ({quoted}) '
            f'SELECT {select} FROM "{table}" t, '
            f'unnest({unnest}) WITH ORDINALITY AS v({values}, n) '
            f'WHERE t.id = %s ORDER BY v.n RETURNING id',
            arrays + [template_id])
        ids += [i for i, in cursor.fetchall()]
    return ids


def book(n, months, facts, seed=2026):
    """The synthetic book: (customer index of each contract, the events of
    each contract as (date, before, after, kind, reason, team, salesperson))
    """
    rng = random.Random(seed)
    firsts = int(n * (1 - EXTRA_CONTRACTS))
    owners = list(range(firsts)) + [rng.randrange(firsts)
        for _ in range(n - firsts)]
    # a customer's later contracts start after their first
    started = {}
    contracts = []
    for index, owner in enumerate(owners):
        earliest = started.get(owner, -1) + 1
        if earliest >= months:
            earliest = months - 1
        first = rng.randrange(earliest, months) if index >= firsts else (
            rng.randrange(months))
        started.setdefault(owner, first)
        team, salesperson = rng.choice(facts['salespeople'])
        mrr = rng.choice(PRICES) * rng.randint(1, 5)
        day = rng.randint(1, 28)
        events = [(month(first).replace(day=day), Decimal(0), mrr, 'new',
                None, team, salesperson)]
        for m in range(first + 1, months):
            date = month(m).replace(day=rng.randint(1, 28))
            draw = rng.random()
            if draw < CHURN:
                events.append((date, mrr, Decimal(0), 'churn',
                        rng.choice(facts['reasons']), team, salesperson))
                break
            elif draw < CHURN + EXPANSION:
                after = mrr + rng.choice(PRICES)
                events.append((date, mrr, after, 'expansion', None, team,
                        salesperson))
                mrr = after
            elif draw < CHURN + EXPANSION + CONTRACTION and mrr > PRICES[0]:
                after = max(PRICES[0], mrr - rng.choice(PRICES))
                events.append((date, mrr, after, 'contraction', None, team,
                        salesperson))
                mrr = after
        contracts.append((owner, events))
    return firsts, contracts


def fill(uri, database, facts, n, months):
    "Insert the customers, contracts and events; return their counts"
    import psycopg
    customers, contracts = book(n, months, facts)
    with psycopg.connect(uri + database) as conn:
        cursor = conn.cursor()
        party_ids = copies(cursor, 'party_party', facts['party'],
            {'name': 'varchar', 'code': 'varchar'},
            [(f"Bench-Kunde {i}", f"BK{i}") for i in range(customers)])
        contract_ids = copies(cursor, 'sale_subscription', facts['contract'],
            {'party': 'integer', 'number': 'varchar',
                'state': 'varchar', 'start_date': 'date'},
            [(party_ids[owner], f"BV{i}",
                    'closed' if events[-1][3] == 'churn' else 'running',
                    events[0][0])
                for i, (owner, events) in enumerate(contracts)])
        buffer = io.StringIO()
        count = 0
        for contract_id, (owner, events) in zip(contract_ids, contracts):
            for date, before, after, kind, reason, team, person in events:
                buffer.write('\t'.join(map(str, [
                                date, contract_id, facts['company'],
                                party_ids[owner], facts['plan'], person,
                                team, kind, facts['currency'], before,
                                after, after - before,
                                reason if reason else r'\N', 0,
                                datetime.datetime.now()])) + '\n')
                count += 1
        buffer.seek(0)
        with cursor.copy('COPY sale_subscription_mrr_event (date, '
                'subscription, company, party, plan, salesperson, '
                'sales_team, kind, currency, mrr_before, mrr_after, '
                'mrr_change, close_reason, create_uid, create_date) '
                'FROM STDIN') as copy:
            while data := buffer.read(1 << 20):
                copy.write(data)
        conn.commit()
    return customers, len(contract_ids), count


def store_customer_book(uri, database, facts):
    """The customers' classified MRR book (sale.subscription.mrr_book)
    that the module keeps as events are written, computed once for the
    events inserted in SQL; then the planner's statistics"""
    import psycopg
    from trytond.pool import Pool

    def refresh():
        Pool().get('sale.subscription.mrr_book').refresh(
            facts['company'])
    in_tx(database, refresh, {'company': facts['company']})
    with psycopg.connect(uri + database, autocommit=True) as conn:
        conn.execute('ANALYZE')


def reports():
    "The reporting models of the module (table queries), by name"
    from trytond.pool import Pool
    pool = Pool()
    return sorted(name for name, model in pool.iterobject()
        if name.startswith('sale.subscription.reporting.')
        and getattr(model, 'table_query', None)
        and callable(model.table_query)
        and not name.endswith('.context'))


def measure(database, facts, months, repeat):
    "{name: (rows, median seconds)}, the floor first"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    context = {'company': facts['company'], 'companies': [facts['company']],
        'from_date': FIRST_MONTH, 'to_date': month(months) - datetime.
        timedelta(days=1), 'period': 'month'}

    def timed(function):
        times, rows = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            rows = function()
            times.append(time.perf_counter() - start)
        return rows, statistics.median(times)

    def run():
        pool = Pool()
        cursor = Transaction().connection.cursor()

        def floor():
            cursor.execute('SELECT date_trunc(\'month\', date), kind, '
                'SUM(mrr_change) FROM sale_subscription_mrr_event '
                'WHERE company = %s GROUP BY 1, 2', [facts['company']])
            return len(cursor.fetchall())
        results = {'floor: GROUP BY month, kind': timed(floor)}
        for name in reports():
            Model = pool.get(name)
            fields_ = [f for f in Model._fields
                if f not in {'create_uid', 'create_date', 'write_uid',
                    'write_date', 'rec_name'}]
            results[name] = timed(
                lambda: len(Model.search_read([], fields_names=fields_)))
        return results
    return in_tx(database, run, context)


def main():
    options = parse_args()
    server = Server(options.uri)
    template = f'{options.database}_template'
    database = f'{options.database}_{options.contracts}'
    with tempfile.TemporaryDirectory() as tmp:
        cfg = admin_config(options.uri, tmp)
        build_template(server, template, cfg, options.keep_template)
        server.create(database, template)
        from trytond.pool import Pool
        Pool(database).init()
        start = time.monotonic()
        facts = company_facts(database)
        customers, contracts, events = fill(
            options.uri, database, facts, options.contracts, options.months)
        setup = time.monotonic() - start
        start = time.monotonic()
        store_customer_book(options.uri, database, facts)
        stored = time.monotonic() - start
        results = measure(database, facts, options.months, options.repeat)
    print(f"\nPostgreSQL, {os.cpu_count()} CPUs; {customers} customers, "
        f"{contracts} contracts, {events} MRR events over {options.months} "
        f"months (set-up {setup:.0f} s, the customers' book stored in "
        f"{stored:.1f} s); median of {options.repeat}")
    floor = next(iter(results.values()))[1]
    print(f"{'report':48} {'rows':>6} {'ms':>9} {'x floor':>8}")
    for name, (rows, seconds) in results.items():
        print(f"{name:48} {rows:>6} {seconds * 1000:>9.1f} "
            f"{seconds / floor:>8.2f}")


if __name__ == '__main__':
    main()
