"Building blocks for the scenario tests: plans, products, customers, sales"
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from demo.company import (
    create_category, create_customer, create_payment_term, create_plan,
    create_product)


def monthly_plan(env, **values):
    return create_plan(env.company, "Monatlich", 'monthly', **values)


def make_catalogue(env):
    category = create_category(env.company, {'vat19': env.taxes['USt 19 %']})
    return {
        'seat': create_product(category, "Cloud-Arbeitsplatz", '29.90'),
        'backup': create_product(category, "Backup 100 GB", '9.99'),
        'setup': create_product(
            category, "Einrichtung", '149.00', recurring=False),
        }


def make_sale(env, party, plan, lines, sale_date, start_date=None):
    """A quotation for party: lines are (product, quantity[, unit price])"""
    Sale = env.get('sale.sale')
    SaleLine = env.get('sale.line')
    sale = Sale(party=party, company=env.company, sale_date=sale_date,
        subscription_plan=plan, subscription_start_date=start_date)
    sale.on_change_party()
    sale.payment_term = create_payment_term()
    sale_lines = []
    for product, quantity, *price in lines:
        line = SaleLine(sale=sale, type='line', product=product,
            quantity=quantity)
        line.on_change_product()
        if price:
            line.unit_price = Decimal(price[0])
        sale_lines.append(line)
    sale.lines = sale_lines
    sale.save()
    return sale


def confirm(env, sale):
    Sale = env.get('sale.sale')
    Sale.quote([sale])
    Sale.confirm([sale])
    env.run_tasks()
    return Sale(sale.id)


def customer(env, name="Müller GmbH", **values):
    return create_customer(name, **values)


def months(start, count):
    "The same day of each month from start, for count months"
    return [start + relativedelta(months=n) for n in range(count)]


def start_contract(env, plan, date, lines):
    "The contract a customer gets by confirming a quotation on date"
    Contract = env.get('sale.subscription')
    with env.on(date):
        sale = confirm(env, make_sale(env, customer(env), plan, lines,
                sale_date=date))
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


def bill(env, contract, date):
    "Run the billing of contract on date; return the invoices it made"
    Contract = env.get('sale.subscription')
    with env.on(date):
        invoices, errors = Contract.bill(
            Contract.claim([contract.id], date), date)
    assert not errors
    return invoices


def run_cron(env, date):
    """What the daily billing cron does on date, without the queue: the
    lifecycle run (in end_finished), then the billing of the due contracts"""
    Contract = env.get('sale.subscription')
    with env.on(date):
        Contract.end_finished(date)
        due = Contract.due_contract_ids(date)
        invoices, errors = Contract.bill(Contract.claim(due, date), date)
    assert not errors
    return invoices


def mrr_from_log(env, contract, date):
    "The MRR of contract on date as the analytics read it: the log's sum"
    Event = env.get('sale.subscription.mrr_event')
    events = Event.search([
            ('subscription', '=', contract.id),
            ('date', '<=', date),
            ])
    return sum((e.mrr_change for e in events), Decimal(0))


def assert_mrr_invariant(env, contract, today, future_events=False):
    """The contract's MRR (as shown on it today) is the sum of its MRR
    events up to today; without future_events no event lies after today
    (a churn that has not happened yet is not in the log)"""
    Contract = env.get('sale.subscription')
    Event = env.get('sale.subscription.mrr_event')
    contract = Contract(contract.id)
    logged = mrr_from_log(env, contract, today)
    assert (contract.mrr or Decimal(0)) == logged, (
        f"MRR {contract.mrr} on the contract, {logged} in the log "
        f"on {today}")
    if not future_events:
        later = Event.search([
                ('subscription', '=', contract.id),
                ('date', '>', today),
                ])
        assert not later, [(e.kind, e.date, e.mrr_change) for e in later]
    return logged
