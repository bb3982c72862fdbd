"""The daily cron queues the due contracts as a chain of small batches, each
queuing the next; a worker (here run in place) invoices them once, however
often the cron runs, and a batch that fails does not stop the run."""
import datetime
import os
from decimal import Decimal
from unittest.mock import patch

import pytest

from conftest import backend_name
from helpers import confirm, customer, make_catalogue, make_sale, monthly_plan
from trytond.exceptions import UserError
from trytond.modules.sale_subscription_contract.models import (
    billing as billing_module, queue as queue_module)

D = datetime.date


def seat_contracts(env, date, names, seats=1):
    "The monthly contracts of customers names, each sold seats on date"
    plan = monthly_plan(env)
    products = make_catalogue(env)
    contracts = []
    with env.on(date):
        for name in names:
            sale = confirm(env, make_sale(env, customer(env, name), plan,
                    [(products['seat'], seats)], sale_date=date))
            contracts.extend(sale.subscriptions)
    return contracts


def test_daily_cron_bills_through_the_queue_once(env):
    Contract = env.get('sale.subscription')
    Cron = env.get('ir.cron')
    contract, = seat_contracts(env, D(2026, 5, 4), ["Müller GmbH"], seats=2)
    method = 'sale.subscription|bill_due_contracts'
    assert method in dict(Cron.fields_get(['method'])['method']['selection'])
    Invoice = env.get('account.invoice')
    mine = [('party', '=', contract.party.id)]
    with env.on(D(2026, 6, 4)):
        Contract.bill_due_contracts()
        env.run_tasks()
    contract = Contract(contract.id)
    assert sorted(p.start_date for p in contract.periods) == [
        D(2026, 5, 4), D(2026, 6, 4)]
    invoices = Invoice.search(mine)
    assert sorted(i.total_amount for i in invoices) == [
        Decimal('71.16'), Decimal('71.16')]  # 2 × 29.90 + 19 % VAT
    assert {i.state for i in invoices} == {'posted'}
    assert contract.next_billing_date == D(2026, 7, 4)

    # the cron running again on the same day invoices nothing more
    with env.on(D(2026, 6, 4)):
        Contract.bill_due_contracts()
        env.run_tasks()
    assert Invoice.search(mine) == invoices
    assert len(Contract(contract.id).periods) == 2


def test_the_run_bills_its_batches_one_after_the_other(env):
    Contract = env.get('sale.subscription')
    Queue = env.get('ir.queue')
    seat_contracts(env, D(2026, 5, 4),
        ["Kunde A", "Kunde B", "Kunde C", "Kunde D", "Kunde E"])
    # the tasks of this run (on PostgreSQL other tests commit theirs)
    last = max([q.id for q in Queue.search([])], default=0)
    run = [('id', '>', last), ('data.method', '=', 'bill_batch')]
    with patch.object(billing_module, 'BATCH_SIZE', 2), \
            env.on(D(2026, 6, 4)):
        Contract.bill_due_contracts()
        # the cron queues the first batch only
        first, = Queue.search(run)
        env.run_tasks()
    batches = Queue.search(run, order=[('id', 'ASC')])
    assert [len(b.data['instances']) for b in batches] == [2, 2, 1]
    assert [b.data['kwargs'] for b in batches] == [{'chain': True}] * 3
    contracts = Contract.search([('party.name', 'like', 'Kunde _')])
    assert [len(c.periods) for c in contracts] == [2] * 5
    assert {c.next_billing_date for c in contracts} == {D(2026, 7, 4)}


@pytest.mark.skipif(backend_name() != 'postgresql',
    reason="the batch's rollback needs a transaction of its own per task")
def test_a_failing_contract_is_reported_alone_and_the_run_goes_on(
        database):
    from bench.billing import Server
    from trytond import backend
    from trytond.pool import Pool
    from trytond.tests.test_tryton import USER

    # a copy of the test database: what the run commits (posted invoices,
    # e-mails that failed) stays out of the other tests' sight
    server = Server(os.environ['TRYTOND_DATABASE_URI'])
    name = f'{database}_chain'
    backend.Database(database).close()
    server.create(name, database)
    try:
        Pool(name).init()
        _bill_with_a_failing_contract(name, USER)
    finally:
        backend.Database(name).close()
        Pool.stop(name)
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _bill_with_a_failing_contract(name, user):
    from test_concurrent_billing import create_contracts
    from trytond.modules.sale_subscription_contract.transaction import (
        in_transaction)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    with patch('test_concurrent_billing.CONTRACTS', 5):
        company_id, ids = in_transaction(name, create_contracts, user=user)
    context = {'company': company_id, 'companies': [company_id]}
    pool = Pool(name)
    Contract = pool.get('sale.subscription')
    Invoice = pool.get('account.invoice')
    Error = pool.get('ir.error')
    post = Invoice.post

    def post_refusing_kunde_2(invoices):
        # a check of the ERP's posting that the run's own checks missed
        if any(i.party.name == "Parallel Kunde 2" for i in invoices):
            raise UserError("Kunde 2 kann nicht gebucht werden")
        return post(invoices)

    tasks = Transaction().tasks
    tasks.clear()
    # the locks this company's sequences need are learnt by this process
    # (queue.py): forgotten after, the other tests do not ask for them
    with patch.object(billing_module, 'BATCH_SIZE', 2), \
            patch.object(Invoice, 'post', post_refusing_kunde_2), \
            patch.dict(queue_module._LEARNED_LOCKS), \
            patch.dict(queue_module._ASKED):
        in_transaction(name,
            lambda: Contract.bill_due_contracts(D(2026, 2, 10)),
            user=user, context=context)
        while tasks:  # as the cron runs queued tasks without a worker
            run_task(name, tasks.pop())

    def check():
        contracts = Contract.browse(ids)
        billed = {c.party.name: [p.invoice.state for p in c.periods]
            for c in contracts}
        # the batch of Kunde 2 and 3 failed: Kunde 3 was billed by a task
        # of its own, and the batch after it by the chain
        assert billed == {
            "Parallel Kunde 0": ['posted', 'posted'],
            "Parallel Kunde 1": ['posted', 'posted'],
            "Parallel Kunde 2": [],
            "Parallel Kunde 3": ['posted', 'posted'],
            "Parallel Kunde 4": ['posted', 'posted'],
            }
        assert contracts[2].next_billing_date == D(2026, 1, 10)
        errors = Error.search([
                ('message', '=', "Kunde 2 kann nicht gebucht werden")])
        assert [list(e.origin.data['instances']) for e in errors] == [[ids[2]]]
        amounts = {i.total_amount for c in contracts for i in c.invoices}
        assert amounts and all(a > Decimal(0) for a in amounts)
    in_transaction(name, check, user=user, context=context,
        commit=False)
