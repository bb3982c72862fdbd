"""Build the demo database: a German SaaS company and months of subscription
business simulated through the module's own code.

    .venv/bin/python -m demo.build --database var/demo.sqlite \\
        [--customers 200] [--months 24] [--seed 1]

The database file is replaced. Every sale, change, close and billing run
goes through the ERP's API with the date patched to the simulated day, so
invoices, periods and MRR events are exactly what the module would record.
"""
import argparse
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from demo import data

MODULE = 'sale_subscription_contract'
ADMIN = 1  # the user trytond-admin creates first
BIN = os.path.dirname(sys.executable)


def create_database(directory, name):
    """Create the database with the module activated by trytond-admin and
    return its config file"""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + '.sqlite')
    if os.path.exists(path):
        os.remove(path)
    # trytond's SQLite backend opens but never creates the file
    import sqlite3
    sqlite3.connect(path).close()
    config = os.path.join(directory, name + '.cfg')
    with open(config, 'w') as fp:
        fp.write(f"[database]\nuri = sqlite://\npath = {directory}\n"
            # the demo's cards are the test processor's
            "[subscription]\ntest_processor = True\n")
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write('admin\n')
        passfile.flush()
        subprocess.run([os.path.join(BIN, 'trytond-admin'), '-c', config,
                '-d', name, '-u', MODULE, '--activate-dependencies',
                '-l', 'de', '--email', 'admin@example.com'],
            env=dict(os.environ, TRYTONPASSFILE=passfile.name), check=True)
    return config


def lock_upfront(records=()):
    """Lock the records and the strict sequences (for invoice and move
    numbers) a transaction will lock anyway.

    Tryton restarts a transaction that locks records it did not lock from
    its start; failing here, before any work, makes that restart cheap
    instead of doing a whole batch of invoices two or three times.
    """
    from trytond.pool import Pool
    Sequence = Pool().get('ir.sequence.strict')
    Sequence.lock(Sequence.search([]))
    if records:
        records[0].__class__.lock(records)


def month_starts(first, count):
    "The first of each month from first's month, for count months"
    first = first.replace(day=1)
    return [first + relativedelta(months=n) for n in range(count)]


def month_end(date):
    return date + relativedelta(day=31)


class Simulation:
    "The company's business, each step in its own committed transaction"

    def __init__(self, database, customers, months, seed, until):
        self.database = database
        self.rng = random.Random(seed)
        self.customers = customers
        self.until = until
        self.months = month_starts(until - relativedelta(months=months),
            months)
        self.context = {}
        self.ids = {}  # name → record id of the set-up records
        self.errors = []
        self.runs = self.calls = 0  # transactions and their attempts
        self.locks = {}  # per kind of call, what Tryton asked to lock

    # -- transactions ----------------------------------------------------

    def run(self, func, *args, date=None):
        """Call func(*args) in a committed transaction, as if today were
        date, then run the tasks it queued each in its own transaction, as
        the server does after a request"""
        from trytond.modules.sale_subscription_contract.transaction import (
            in_transaction)
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        tasks = []

        def call():
            Date = Pool().get('ir.date')
            with Transaction().set_context(self.context), \
                    patch.object(Date, 'today', return_value=date
                        or self.until):
                self.calls += 1
                result = func(*args)
                tasks[:] = Transaction().tasks
                Transaction().tasks.clear()
                return result
        self.runs += 1
        # what Tryton asked to lock for this kind of call is locked up front
        # the next time: no work is done twice
        locks = self.locks.setdefault(getattr(func, '__name__', ''), {})
        result = in_transaction(self.database, call, user=ADMIN, locks=locks)
        for task in tasks:
            self.run(self.run_task, task, date=date)
        return result

    @staticmethod
    def run_task(task_id):
        "Run a queued task as a worker would, but for invoice printing"
        from trytond.pool import Pool
        pool = Pool()
        task = pool.get('ir.queue')(task_id)
        # rendering each invoice's report for the record takes as long as
        # billing it: leave it to a worker, the report is made on demand;
        # the demo customers' e-mails stay in the outbox (pending)
        if (task.data.get('method') == 'print_invoice'
                or task.data.get('model')
                == 'sale.subscription.customer_email'):
            return
        instances = task.data['instances']
        lock_upfront(pool.get(task.data['model']).browse(
                [instances] if isinstance(instances, int) else instances))
        task.run()

    # -- set-up ----------------------------------------------------------

    def setup(self):
        from trytond.pool import Pool

        from demo.company import setup_company
        pool = Pool()
        company, taxes = setup_company(
            self.months[0].year, self.until.year + 1)
        # the demo opens on the application, in German, not on the
        # module configuration wizard of a fresh database
        Item = pool.get('ir.module.config_wizard.item')
        Item.write(Item.search([]), {'state': 'done'})
        User, Lang = pool.get('res.user'), pool.get('ir.lang')
        User.write([User(ADMIN)], {'language': Lang.get('de').id})
        return company.id

    def catalogue(self):
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        from demo.company import (
            create_category, create_payment_term, create_plan,
            create_product)
        pool = Pool()
        Company = pool.get('company.company')
        Tax = pool.get('account.tax')
        TaxRule = pool.get('account.tax.rule')
        Reason = pool.get('sale.subscription.close_reason')
        company = Company(Transaction().context['company'])
        taxes = {t.name: t for t in Tax.search([])}
        taxes = {'vat19': taxes["USt 19 %"], 'vat7': taxes["USt 7 %"]}
        categories = {
            'vat19': create_category(company, taxes, "Software-Abos"),
            'vat7': create_category(
                company, taxes, "Digitale Zeitungen", tax='vat7'),
            }
        ids = self.ids
        ids['eu_rule'], = [r.id for r in TaxRule.search(
                [('name', '=', "EU Reverse Charge")])]
        ids['term'] = create_payment_term().id
        ids['plans'] = {key: create_plan(company, name, freq, interval,
                **values).id
            for key, name, freq, interval, values, _ in data.PLANS}
        ids['services'] = {name: create_product(
                categories[tax], name, price).id
            for name, price, _, tax in data.SERVICES}
        ids['one_time'] = {name: create_product(
                categories['vat19'], name, price, recurring=False).id
            for name, price, _ in data.ONE_TIME}
        ids['reasons'] = {r.code: r.id for r in Reason.search([])}
        self.sales_force(company)
        self.quotation_templates(company)

    def quotation_templates(self, company):
        "Ready-made offers from the catalogue, for quotations in the demo"
        from trytond.pool import Pool
        Template = Pool().get('sale.subscription.quotation_template')
        ids = self.ids
        products = {**ids['services'], **ids['one_time']}
        templates = []
        for (name, plan, validity, confirmation, lines, options,
                terms) in data.QUOTATION_TEMPLATES:
            templates.append(Template(name=name, company=company,
                    plan=ids['plans'][plan], validity_days=validity,
                    online_confirmation=confirmation, terms=terms,
                    lines=[{'product': products[p], 'quantity': q}
                        for p, q in lines],
                    options=[{'product': products[p], 'quantity': q}
                        for p, q in options]))
        Template.save(templates)

    def sales_force(self, company):
        from trytond.pool import Pool
        pool = Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        Team = pool.get('sale.team')
        employees = {}
        for name, team in data.EMPLOYEES:
            party = Party(name=name)
            party.save()
            employee = Employee(party=party, company=company)
            employee.save()
            employees.setdefault(team, []).append(employee)
        for name, members in employees.items():
            Team(name=name, company=company, leader=members[0],
                members=members).save()
        self.ids['salespeople'] = [e.id for m in employees.values()
            for e in m]

    def make_customers(self):
        "Business customers in Germany and the EU, and private customers"
        from demo.company import create_customer
        rng = self.rng
        customers, names = [], set()
        for _ in range(self.customers):
            roll = rng.random()
            street = (f"{rng.choice(data.STREETS)} "
                f"{rng.randint(1, 120)}")
            if roll < 0.15:
                kind = 'b2c'
                name = (f"{rng.choice(data.FIRST_NAMES)} "
                    f"{rng.choice(data.SURNAMES)}")
                postal_code, city = rng.choice(data.DE_CITIES)
                values = dict(street=street, postal_code=postal_code,
                    city=city)
            elif roll < 0.32:
                kind = 'eu'
                (code, country, lang, postal_code, city, eu_street,
                    names_) = rng.choice(data.EU_CUSTOMERS)
                name = rng.choice(names_)
                values = dict(country_code=code, country_name=country,
                    lang_code=lang, tax_rule=self.ids['eu_rule'],
                    street=f"{eu_street} {rng.randint(1, 80)}",
                    postal_code=postal_code, city=city)
            else:
                kind = 'b2b'
                name = (f"{rng.choice(data.SURNAMES)} "
                    f"{rng.choice(data.TRADES)} "
                    f"{rng.choice(data.LEGAL_FORMS)}")
                postal_code, city = rng.choice(data.DE_CITIES)
                values = dict(street=street, postal_code=postal_code,
                    city=city)
            if name in names:  # keep names unique, like real customers
                name = f"{name} ({len(names) + 1})"
            names.add(name)
            customers.append((kind, name, values))

        def create():
            return [create_customer(name, **values).id
                for _, name, values in customers]
        ids = self.run(create)
        return [(kind, id_) for (kind, _, _), id_ in zip(customers, ids)]

    # -- the business ----------------------------------------------------

    def sell(self, kind, party_id, seed):
        """A quotation mixing recurring and one-time lines, confirmed today;
        seeded so that a restarted transaction sells the same"""
        from trytond.pool import Pool
        pool = Pool()
        date = pool.get('ir.date').today()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        Product = pool.get('product.product')
        rng, ids = random.Random(seed), self.ids

        lines = []  # (product id, quantity, unit price or None)
        if kind == 'b2c':
            service = rng.choice(data.B2C_SERVICES)
            weekly = service == "E-Paper-Abo" and rng.random() < 0.3
            plan = 'weekly' if weekly else 'monthly'
            lines.append((ids['services'][service], 1,
                    Decimal(data.EPAPER_WEEKLY) if weekly else None))
        else:
            plans = [(p[0], p[5]) for p in data.PLANS]
            plan, = rng.choices([p for p, _ in plans],
                weights=[w for _, w in plans])
            months = {'bimonthly': 2, 'yearly': 12}.get(plan, 1)
            # a yearly contract is paid for 11 months, i.e. ~8 % off
            factor = 11 if plan == 'yearly' else months
            offer = [s for s in data.SERVICES
                if s[0] not in data.B2C_SERVICES]
            for name, price, per_seat, _ in rng.sample(
                    offer, rng.choice([1, 1, 2, 2, 3])):
                quantity = rng.randint(2, 25) if per_seat else 1
                lines.append((ids['services'][name], quantity,
                        Decimal(price) * factor))
            for name, _, share in data.ONE_TIME:
                if rng.random() < share:
                    lines.append((ids['one_time'][name], 1, None))
        salesperson = rng.choice(ids['salespeople'])
        start = None
        if kind != 'b2c' and rng.random() < 0.2:
            # business customers often start on the first of next month
            start = month_end(date) + datetime.timedelta(days=1)

        sale = Sale(party=party_id, sale_date=date,
            subscription_plan=ids['plans'][plan],
            subscription_start_date=start, salesperson=salesperson)
        sale.on_change_party()
        sale.on_change_salesperson()
        sale.payment_term = ids['term']
        sale_lines = []
        for product, quantity, unit_price in lines:
            line = SaleLine(sale=sale, type='line',
                product=Product(product), quantity=quantity)
            line.on_change_product()
            if unit_price is not None:
                line.unit_price = unit_price
            sale_lines.append(line)
        sale.lines = sale_lines
        sale.save()
        Sale.quote([sale])
        Sale.confirm([sale])  # queues its processing
        return sale.id

    @staticmethod
    def post_sale_invoices(sale_id):
        "Post the invoice of the one-time lines on the sale date"
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        pool = Pool()
        Sale = pool.get('sale.sale')
        Invoice = pool.get('account.invoice')
        lock_upfront()
        invoices = [i for i in Sale(sale_id).invoices if i.state == 'draft']
        # reverse charge replaces the default taxes: the warning that the
        # taxes differ from the product's is expected
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(invoices)

    def change_quantity(self, contract_id, delta, pick):
        "An upsell or downgrade of seats, effective today"
        from trytond.pool import Pool
        Line = Pool().get('sale.subscription.line')
        Contract = Pool().get('sale.subscription')
        contract = Contract(contract_id)
        lines = [l for l in contract.lines if not l.end_date]
        if contract.state != 'running' or not lines:
            return
        line = lines[int(pick * len(lines))]
        quantity = max(1, line.quantity + delta)
        if quantity != line.quantity:
            Line.write([line], {'quantity': quantity})

    def end_terms(self):
        from trytond.pool import Pool
        pool = Pool()
        pool.get('sale.subscription').end_finished(pool.get('ir.date').today())

    def close(self, contract_id, reason):
        from trytond.pool import Pool
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Reason = pool.get('sale.subscription.close_reason')
        contract = Contract(contract_id)
        if contract.state != 'running':
            return
        Contract.close_contracts([contract], Reason(
                self.ids['reasons'][reason]),
            contract.close_end_date('period_end'))

    def bill(self, until):
        """The daily billing run for each day up to until that has due
        contracts, in batches of 25: a run catching up over several days
        would post invoices out of date order (see the report)"""
        from trytond.pool import Pool
        from trytond.modules.sale_subscription_contract.models.billing \
            import BATCH_SIZE

        def next_date():
            Contract = Pool().get('sale.subscription')
            contracts = Contract.search([
                    ('next_billing_date', '!=', None),
                    ('plan', '!=', None),
                    ('state', 'in', ['running', 'closed']),
                    ], order=[('next_billing_date', 'ASC')], limit=1)
            return contracts[0].next_billing_date if contracts else None

        def due(date):
            return Pool().get('sale.subscription').due_contract_ids(date)

        def bill(ids, date):
            Contract = Pool().get('sale.subscription')
            lock_upfront()
            invoices, errors = Contract.bill(
                Contract.claim(ids, date), date)
            return len(invoices), {c.id: m for c, m in errors.items()}
        count = 0
        while (date := self.run(next_date)) and date <= until:
            ids = self.run(due, date, date=date)
            for i in range(0, len(ids), BATCH_SIZE):
                done, errors = self.run(
                    bill, ids[i:i + BATCH_SIZE], date, date=date)
                count += done
                for contract_id, message in errors.items():
                    self.errors.append((date, contract_id, message))
                    print(f"  billing error {date} contract {contract_id}: "
                        f"{message}", file=sys.stderr)
            if errors:  # the errors stay due: don't loop on them
                break
        return count

    def running_contracts(self):
        "[(id, plan key, end date)] of the running contracts"
        from trytond.pool import Pool
        Contract = Pool().get('sale.subscription')
        plans = {v: k for k, v in self.ids['plans'].items()}
        return [(c.id, plans.get(c.plan.id), c.end_date)
            for c in Contract.search([('state', '=', 'running')],
                order=[('id', 'ASC')])]

    def month_events(self, month, signups):
        "[(date, order, function, args)] of what happens in the month"
        rng = self.rng
        last = min(month_end(month), self.until)

        def day():
            return month + datetime.timedelta(
                days=rng.randint(0, (last - month).days))
        events = [(day(), 0, self.sell, (kind, party, rng.random()))
            for kind, party in signups]
        reasons = ['too_expensive', 'missing_features', 'competitor',
            'not_needed', 'unpaid', 'other']
        for contract, plan, end in self.run(self.running_contracts):
            if plan == 'fixed' and end and end < last:
                # a fixed term ends: the module closes it the day after
                events.append((max(end + datetime.timedelta(days=1), month),
                        1, self.end_terms, ()))
                continue
            roll = rng.random()
            if roll < 0.025:
                reason, = rng.choices(reasons, weights=[30, 15, 20, 20, 5, 10])
                events.append((day(), 2, self.close, (contract, reason)))
            elif roll < 0.07:
                events.append((day(), 3, self.change_quantity,
                        (contract, rng.randint(1, 5), rng.random())))
            elif roll < 0.09:
                events.append((day(), 3, self.change_quantity,
                        (contract, -rng.randint(1, 3), rng.random())))
        events.sort(key=lambda e: (e[0], e[1]))
        return events

    def signups(self, customers):
        "Spread the customers' first sales over the months, growing"
        count = len(self.months)
        weights = [1 + m / count for m in range(count)]
        weights[0] += count * 0.1  # the customers of before the simulation
        months = self.rng.choices(range(count), weights=weights,
            k=len(customers))
        by_month = [[] for _ in range(count)]
        for customer, month in zip(customers, months):
            by_month[month].append(customer)
        return by_month

    def status(self, final=False):
        from trytond.pool import Pool
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Invoice = pool.get('account.invoice')
        Event = pool.get('sale.subscription.mrr_event')
        contracts = Contract.search([])
        states = Counter(c.state for c in contracts)
        mrr = sum((c.mrr or 0 for c in contracts if c.state == 'running'),
            Decimal(0))
        status = {
            'running': states['running'], 'closed': states['closed'],
            'invoices': Invoice.search_count([('type', '=', 'out')]),
            'mrr': mrr,
            }
        if final:
            invoices = Invoice.search([('type', '=', 'out')])
            status.update(
                invoiced=sum((i.untaxed_amount for i in invoices
                        if i.state == 'posted'), Decimal(0)),
                draft_invoices=sum(i.state == 'draft' for i in invoices),
                events=dict(Counter(e.kind for e in Event.search([]))))
        return status

    def simulate(self):
        company_id = self.run(self.setup)
        # German names are stored as the base language (English): the
        # company helpers look units up by their English symbol
        self.context = {'company': company_id, 'companies': [company_id]}
        self.run(self.catalogue)
        by_month = self.signups(self.make_customers())
        for month, signups in zip(self.months, by_month):
            started = time.monotonic()
            billed = 0
            for date, _, func, args in self.month_events(month, signups):
                # the daily billing run happens before the day's business
                billed += self.bill(date - datetime.timedelta(days=1))
                result = self.run(func, *args, date=date)
                if func == self.sell:
                    self.run(self.post_sale_invoices, result, date=date)
            last = min(month_end(month), self.until)
            billed += self.bill(last)
            status = self.run(self.status, date=last)
            print(f"{month:%Y-%m}: {len(signups):3d} new, "
                f"{status['running']:4d} running, {status['closed']:4d} "
                f"closed, {billed:4d} invoices ({status['invoices']} in "
                f"all), MRR {status['mrr']:10.2f} EUR "
                f"[{time.monotonic() - started:.1f}s]", flush=True)
        return self.run(self.status, True)


def build(database_name, customers=200, months=24, seed=1, until=None):
    """Build the demo database at database_name (a .sqlite path) and return
    its final status. until is the last simulated day, today by default."""
    path = os.path.abspath(database_name)
    if path.endswith('.sqlite'):
        path = path[:-len('.sqlite')]
    directory, name = os.path.split(path)
    started = time.monotonic()
    config_file = create_database(directory, name)
    print(f"database created [{time.monotonic() - started:.0f}s]",
        flush=True)
    # the configuration must be loaded before trytond picks its backend
    from trytond.config import update_etc
    update_etc(config_file)
    from trytond.pool import Pool
    Pool.start()
    Pool(name).init()

    simulation = Simulation(name, customers, months, seed,
        until or datetime.date.today())
    status = simulation.simulate()
    print(f"\n{name}: {status['running']} contracts running, "
        f"{status['closed']} closed; {status['invoices']} invoices "
        f"({status['draft_invoices']} draft), "
        f"{status['invoiced']:.2f} EUR invoiced untaxed; "
        f"MRR {status['mrr']:.2f} EUR; MRR events {status['events']}; "
        f"{len(simulation.errors)} billing errors; "
        f"{simulation.runs} transactions, "
        f"{simulation.calls - simulation.runs} restarted "
        f"[{time.monotonic() - started:.0f}s]")
    return status


def main(argv=None):
    if (argv is None and not sys.flags.optimize
            and os.environ.get('PYTHONOPTIMIZE') != '0'):
        # as trytond-subscription does: under -O Tryton skips the
        # assertions that make browsing a list quadratic in its length
        os.execv(sys.executable,
            [sys.executable, '-O', '-m', 'demo.build'] + sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', required=True,
        help="the SQLite file to (re)create, e.g. var/demo.sqlite")
    parser.add_argument('--customers', type=int, default=200)
    parser.add_argument('--months', type=int, default=24)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--until', type=datetime.date.fromisoformat,
        help="the last simulated day (YYYY-MM-DD), today by default")
    options = parser.parse_args(argv)
    build(options.database, customers=options.customers,
        months=options.months, seed=options.seed, until=options.until)


if __name__ == '__main__':
    main()
