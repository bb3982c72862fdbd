"""Build the demo database: a German SaaS company and months of subscription
business run through the module's own code.

    .venv/bin/python -m demo.build --database var/demo.sqlite \\
        [--customers 200] [--months 24] [--seed 1] [--mail var/mail]

The database file is replaced. Every sale, change, close, billing run,
card charge, dunning run and customer e-mail goes through the ERP's API as
its cron and worker would run it, with the date set to the simulated day
(demo/history.py); the e-mails are sent to a mail sink on localhost that
keeps them as .eml files in the --mail folder.
"""
import argparse
import datetime
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

from demo import data

MODULE = 'sale_subscription_contract'
BIN = os.path.dirname(sys.executable)
# the last e-mails of the build, left to the demo's trytond-worker
HELD_EMAILS = 4
EMAIL_FROM = "Abo Software GmbH <rechnung@abo-software.example>"


def create_database(directory, name):
    """Create the database with the module activated by trytond-admin and
    return its config file"""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + '.sqlite')
    for suffix in ['', '-wal', '-shm']:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    # trytond's SQLite backend opens but never creates the file
    import sqlite3
    sqlite3.connect(path).close()
    config = os.path.join(directory, name + '.cfg')
    with open(config, 'w') as fp:
        fp.write(f"[database]\nuri = sqlite://\npath = {directory}\n"
            # the demo's cards are the test processor's
            "[subscription]\ntest_processor = True\n"
            f"[email]\nfrom = {EMAIL_FROM}\n")
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write('admin\n')
        passfile.flush()
        subprocess.run([os.path.join(BIN, 'trytond-admin'), '-c', config,
                '-d', name, '-u', MODULE, '--activate-dependencies',
                '-l', 'de', '--email', 'admin@example.com'],
            env=dict(os.environ, TRYTONPASSFILE=passfile.name), check=True)
    return config


# -- the company before its first sale ------------------------------------

def set_up(first_year, last_year):
    """The company, its accounts, taxes and fiscal years; the application
    opens in German, not on the configuration wizard of a new database"""
    from trytond.pool import Pool

    from demo.company import setup_company
    from demo.simulation import ADMIN
    pool = Pool()
    company, _ = setup_company(first_year, last_year)
    Item = pool.get('ir.module.config_wizard.item')
    Item.write(Item.search([]), {'state': 'done'})
    User, Lang = pool.get('res.user'), pool.get('ir.lang')
    User.write([User(ADMIN)], {'language': Lang.get('de').id})
    return company.id


def catalogue():
    "Plans, products, sales force, quotation templates, the card journal"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from demo.company import (
        create_category, create_payment_term, create_plan, create_product)
    from demo.payment import create_card_journal
    pool = Pool()
    company = pool.get('company.company')(Transaction().context['company'])
    Tax = pool.get('account.tax')
    TaxRule = pool.get('account.tax.rule')
    Reason = pool.get('sale.subscription.close_reason')
    taxes = {t.name: t for t in Tax.search([])}
    taxes = {'vat19': taxes["USt 19 %"], 'vat7': taxes["USt 7 %"]}
    categories = {
        'vat19': create_category(company, taxes, "Software-Abos"),
        'vat7': create_category(
            company, taxes, "Digitale Zeitungen", tax='vat7'),
        }
    ids = {}
    ids['eu_rule'], = [r.id for r in TaxRule.search(
            [('name', '=', "EU Reverse Charge")])]
    ids['term'] = create_payment_term().id
    ids['plans'] = {key: create_plan(company, name, freq, interval,
            **values).id
        for key, name, freq, interval, values, _ in data.PLANS}
    services = {name: create_product(categories[tax], name, price)
        for name, price, _, tax in data.SERVICES}
    Template = pool.get('product.template')
    Template.write(*(a for name, fee in data.SETUP_FEES.items()
            for a in ([services[name].template],
                {'subscription_setup_fee': Decimal(fee)})))
    ids['services'] = {name: p.id for name, p in services.items()}
    ids['one_time'] = {name: create_product(
            categories['vat19'], name, price, recurring=False).id
        for name, price, _ in data.ONE_TIME}
    ids['reasons'] = {r.code: r.id for r in Reason.search([])}
    ids['salespeople'] = sales_force(company)
    quotation_templates(company, ids)
    ids['journal'] = create_card_journal(company).id
    return ids


def quotation_templates(company, ids):
    "Ready-made offers from the catalogue, for quotations in the demo"
    from trytond.pool import Pool
    Template = Pool().get('sale.subscription.quotation_template')
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


def sales_force(company):
    "The salespeople in their teams; returns their employee ids"
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    Employee = pool.get('company.employee')
    Team = pool.get('sale.team')
    parties = [Party(name=name) for name, _ in data.EMPLOYEES]
    Party.save(parties)
    employees = [Employee(party=p, company=company) for p in parties]
    Employee.save(employees)
    teams = {}
    for employee, (_, team) in zip(employees, data.EMPLOYEES):
        teams.setdefault(team, []).append(employee)
    Team.save([Team(name=name, company=company, leader=members[0],
                members=members) for name, members in teams.items()])
    return [e.id for e in employees]


def plan_customers(rng, count, eu_rule):
    """[(kind, name, values)] of business customers in Germany and the EU
    and private customers, each with an e-mail address"""
    customers, names = [], set()
    for _ in range(count):
        roll = rng.random()
        street = f"{rng.choice(data.STREETS)} {rng.randint(1, 120)}"
        if roll < 0.15:
            kind = 'b2c'
            first, last = (rng.choice(data.FIRST_NAMES),
                rng.choice(data.SURNAMES))
            name = f"{first} {last}"
            postal_code, city = rng.choice(data.DE_CITIES)
            values = dict(street=street, postal_code=postal_code, city=city)
        elif roll < 0.32:
            kind = 'eu'
            (code, country, lang, postal_code, city, eu_street,
                names_) = rng.choice(data.EU_CUSTOMERS)
            name = rng.choice(names_)
            values = dict(country_code=code, country_name=country,
                lang_code=lang, tax_rule=eu_rule,
                street=f"{eu_street} {rng.randint(1, 80)}",
                postal_code=postal_code, city=city)
        else:
            kind = 'b2b'
            name = (f"{rng.choice(data.SURNAMES)} "
                f"{rng.choice(data.TRADES)} "
                f"{rng.choice(data.LEGAL_FORMS)}")
            postal_code, city = rng.choice(data.DE_CITIES)
            values = dict(street=street, postal_code=postal_code, city=city)
        if name in names:  # keep names unique, like real customers
            name = f"{name} ({len(names) + 1})"
        names.add(name)
        values['email'] = email_address(kind, name, len(names))
        customers.append((kind, name, values))
    return customers


def email_address(kind, name, number):
    "rechnung@<company>.example, or first.last@example.de"
    import unicodedata
    ascii_ = unicodedata.normalize('NFKD', name).encode(
        'ascii', 'ignore').decode().lower()
    words = [w for w in ''.join(
            c if c.isalnum() else ' ' for c in ascii_).split()]
    if kind == 'b2c':
        return f"{'.'.join(words)}.{number}@example.de"
    return f"rechnung@{'-'.join(words[:3])}.example"


def create_customers(customers):
    from trytond.pool import Pool

    from demo.company import new_customer
    parties = [new_customer(name, **values) for _, name, values in customers]
    Pool().get('party.party').save(parties)
    return [(kind, p.id) for (kind, _, _), p in zip(customers, parties)]


def email_reports(attach):
    """Take the invoice report off the customer e-mail templates while the
    history is sent (LibreOffice needs seconds per PDF), or put it back
    (attach: the [(template id, report id)] taken off)"""
    from trytond.pool import Pool
    pool = Pool()
    Template = pool.get('ir.email.template')
    ModelData = pool.get('ir.model.data')
    templates = Template.browse([ModelData.get_id(MODULE, 'email_template_'
                + kind) for kind in ['invoice', 'payment_failed',
                'payment_reminder', 'closed_unpaid']])
    if attach:
        actions = []
        for template in templates:
            reports = [r for t, r in attach if t == template.id]
            actions.extend(([template], {'reports': [('add', reports)]}))
        Template.write(*actions)
        return []
    taken = [(t.id, r.id) for t in templates for r in t.reports]
    Template.write(templates, {'reports': [('remove',
                    [r for _, r in taken])]})
    return taken


def seed_portal():
    "A customer's portal account and quotations on secure links"
    from trytond.pool import Pool

    from demo import portal
    Contract = Pool().get('sale.subscription')
    return portal.seed(Contract.search([('state', '=', 'running')],
            order=[('id', 'ASC')], limit=10))


# -- what was built --------------------------------------------------------

def status(final=False):
    "Counts of the database, and with final what a visitor should try"
    from trytond.pool import Pool
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Invoice = pool.get('account.invoice')
    contracts = Contract.search([])
    states = Counter(c.state for c in contracts)
    result = {
        'running': states['running'], 'closed': states['closed'],
        'invoices': Invoice.search_count([('type', '=', 'out'),
                ('state', 'in', ['posted', 'paid'])]),
        'mrr': str(sum((c.mrr or 0 for c in contracts
                        if c.state == 'running'), Decimal(0))),
        }
    if final:
        from demo.report import final_status
        result.update(final_status(contracts))
    return result


def build(database_name, customers=200, months=24, seed=1, until=None,
        mail=None, held_emails=HELD_EMAILS):
    """Build the demo database at database_name (a .sqlite path) and return
    its final status. until is the last simulated day, today by default;
    e-mails go to the folder mail (default: mail/ next to the database)."""
    import random
    path = os.path.abspath(database_name)
    if path.endswith('.sqlite'):
        path = path[:-len('.sqlite')]
    directory, name = os.path.split(path)
    mail = mail or os.path.join(directory, 'mail')
    if os.path.isdir(mail):  # the e-mails of the database replaced
        for file in os.listdir(mail):
            if file.endswith('.eml'):
                os.remove(os.path.join(mail, file))
    until = until or datetime.date.today()
    started = time.monotonic()
    cpu = time.process_time()
    config_file = create_database(directory, name)
    print(f"database created [{time.monotonic() - started:.0f}s]",
        flush=True)
    # the configuration must be loaded before trytond picks its backend
    from trytond import config
    config.update_etc(config_file)
    from demo import mailsink
    port = mailsink.free_port()
    sink = mailsink.start(mail, port)
    config.set('email', 'uri', f'smtp://127.0.0.1:{port}')
    try:
        from trytond.pool import Pool
        Pool.start()
        Pool(name).init()
        from demo.history import History
        from demo.simulation import Engine
        engine = Engine(name)
        first = until.year - (months + 11) // 12
        with engine.phase('set-up'):
            company = engine.transaction(set_up, first, until.year + 1)
            engine.context = {'company': company, 'companies': [company]}
            ids = engine.transaction(catalogue)
            taken = engine.transaction(email_reports, None)
            people = plan_customers(random.Random(seed), customers,
                ids['eu_rule'])
            people = engine.transaction(create_customers, people)

        def progress(month, line):
            print(f"{month:%Y-%m}: {line['running']:4d} running, "
                f"{line['closed']:4d} closed, {line['invoices']:5d} invoices"
                f", MRR {Decimal(line['mrr']):10.2f} EUR "
                f"[{time.monotonic() - started:.0f}s]", flush=True)
        history = History(engine, ids, people, months, seed, until)
        engine.hold_from = history.months[-1]
        history.run(status, progress)
        # the e-mails of the last month but a few are sent as those before;
        # with the PDF back on the templates, trytond-worker sends the few
        # when the demo starts (LibreOffice: seconds each)
        engine.transaction(engine.release, held_emails)
        engine.transaction(email_reports, taken)
        result = engine.transaction(status, True)
        result['portal'] = engine.transaction(seed_portal)
    finally:
        sink.stop()
    result.update(seconds=round(time.monotonic() - started),
        cpu=round(time.process_time() - cpu), mail=mail,
        transactions=engine.transactions, restarts=engine.restarts,
        held_emails=len(engine.held))
    with open(os.path.join(directory, name + '.json'), 'w') as fp:
        json.dump(result, fp, indent=1, default=str)
    print(f"\n{name}: {result['running']} contracts running, "
        f"{result['closed']} closed; {result['invoices']} posted invoices "
        f"({result['paid_invoices']} paid), {result['payments']} card "
        f"payments ({result['failed_payments']} failed), "
        f"{result['emails_sent']} e-mails sent; MRR {result['mrr']} EUR; "
        f"{engine.transactions} transactions, {engine.restarts} restarted "
        f"[{result['seconds']}s, {result['cpu']}s CPU]")
    print("CPU and wall time by phase (database creation aside):")
    print('\n'.join(engine.report()), flush=True)
    return result


def main(argv=None):
    # Tryton makes millions of short-lived objects: with the collector's
    # default thresholds it runs a collection every 700 of them (measured:
    # a fifth of the build's CPU time less this way)
    gc.set_threshold(200000, 50, 1000)
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
    parser.add_argument('--held-emails', type=int, default=HELD_EMAILS,
        help="the last e-mails left for trytond-worker (default: "
        "%(default)s)")
    parser.add_argument('--mail',
        help="where the mail sink keeps the e-mails (default: mail/ next "
        "to the database)")
    options = parser.parse_args(argv)
    build(options.database, customers=options.customers,
        months=options.months, seed=options.seed, until=options.until,
        mail=options.mail, held_emails=options.held_emails)


if __name__ == '__main__':
    main()
