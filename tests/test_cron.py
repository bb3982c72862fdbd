"""The daily cron queues the due contracts in small batches; a worker (here
run in place) invoices them once, however often the cron runs."""
import datetime

from helpers import confirm, customer, make_catalogue, make_sale, monthly_plan

D = datetime.date


def test_daily_cron_bills_through_the_queue_once(env):
    Contract = env.get('sale.subscription')
    Cron = env.get('ir.cron')
    plan = monthly_plan(env)
    products = make_catalogue(env)
    with env.on(D(2026, 5, 4)):
        sale = confirm(env, make_sale(env, customer(env), plan,
                [(products['seat'], 2)], sale_date=D(2026, 5, 4)))
    contract, = sale.subscriptions
    method = 'sale.subscription|bill_due_contracts'
    assert method in dict(Cron.fields_get(['method'])['method']['selection'])
    with env.on(D(2026, 6, 4)):
        for _ in range(2):  # the cron running twice bills nothing twice
            Contract.bill_due_contracts()
            env.run_tasks()
    contract = Contract(contract.id)
    assert sorted(p.start_date for p in contract.periods) == [
        D(2026, 5, 4), D(2026, 6, 4)]
    assert {p.invoice.state for p in contract.periods} == {'posted'}
    assert contract.next_billing_date == D(2026, 7, 4)
