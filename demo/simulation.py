"""Run simulated days through the ERP as its server processes would:
`trytond-cron`'s daily jobs, then the business of the day, then the tasks
they queued, run by a worker.

The work is done in few large SQLite transactions (the caller chooses, the
history takes one per month): a transaction costs little by itself, but a
restarted one does its work twice. Tryton restarts a transaction that locks
a record or a table it did not declare from its start (the invoice and move
sequences, a contract being renewed); SQLite has one writer, whose
transaction holds the whole database, and locks nothing: each transaction
of the build declares the tables Tryton asked to lock so far (USUAL_LOCKS
from the start), so that no work is done twice.
"""
import contextlib
import datetime
import time
from collections import Counter
from unittest.mock import patch

from sql import Null

from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError

ADMIN = 1  # the user trytond-admin creates first
# the tables the module's and the ERP's code lock: the gapless invoice and
# move sequences, the accounting configuration and journal periods, the
# contracts (renewals), sales (contracts made from them) and payments
# (charges)
USUAL_LOCKS = ['ir_sequence_strict', 'account_configuration',
    'account_journal_period', 'sale_subscription', 'sale_sale',
    'account_payment']
# the queue tasks that only fill a cache: account_invoice renders each
# posted invoice's report for the record (0.15 s each); the history's
# reports are rendered when first printed
CACHE_TASKS = {('account.invoice', 'print_invoice')}
EMAIL_TASK = ('sale.subscription.customer_email', 'deliver')


class Engine:
    "Transactions, the clock, the cron jobs and the worker of the build"

    def __init__(self, database):
        self.database = database
        self.context = {}
        # the tables Tryton asked to lock, declared up front
        self.locks = {'_lock_tables': list(USUAL_LOCKS)}
        self.transactions = self.restarts = 0
        self.cpu = Counter()  # CPU seconds by phase
        self.wall = Counter()
        self.today = None
        # the e-mails from this day on are held back; release() sends them
        # but the last few, left in ir.queue for trytond-worker
        self.hold_from = None
        self.held = []  # e-mail tasks left in the queue for trytond-worker

    # -- transactions and time -------------------------------------------

    def transaction(self, func, *args):
        "Return func(*args) called in one committed transaction"
        self.transactions += 1
        while True:
            held = len(self.held)
            with Transaction().start(self.database, ADMIN,
                    context=self.context, **self.locks) as transaction:
                try:
                    result = func(*args)
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    del self.held[held:]
                    self.learn(error)
                    continue
                except Exception:
                    transaction.rollback()
                    raise
                # every task ran (or was left on purpose in ir.queue)
                assert not transaction.tasks, transaction.tasks
                transaction.commit()
                return result

    def learn(self, error):
        """Hold from now on the table a lock error names (a record lock
        becomes its table's: on SQLite, the one writer holds them all)"""
        asked = {}
        error.fix(asked)
        tables = set(asked.get('_lock_tables', [])) | set(
            asked.get('_lock_records', {}))
        held = self.locks.setdefault('_lock_tables', [])
        held.extend(t for t in tables if t not in held)
        self.restarts += 1
        print(f"  (transaction restarted to lock {', '.join(tables)})",
            flush=True)

    @contextlib.contextmanager
    def on(self, date):
        "The ERP's today is date"
        Date = Pool().get('ir.date')
        previous, self.today = self.today, date
        with patch.object(Date, 'today', return_value=date):
            yield
        self.today = previous

    @contextlib.contextmanager
    def phase(self, name):
        "Count the CPU and wall time of the block under name"
        cpu, wall = time.process_time(), time.monotonic()
        try:
            yield
        finally:
            self.cpu[name] += time.process_time() - cpu
            self.wall[name] += time.monotonic() - wall

    def do(self, name, date, func, *args):
        "func(*args) on date, then the tasks it queued, timed as name"
        with self.phase(name), self.on(date):
            result = func(*args)
        self.work(date)
        return result

    # -- the server's processes ------------------------------------------

    def work(self, date):
        """Run the queued tasks as trytond-worker would, first queued first,
        each as of date"""
        pool = Pool()
        Queue = pool.get('ir.queue')
        tasks = Transaction().tasks
        while tasks:
            task = Queue(tasks.pop(0))
            kind = (task.data['model'], task.data['method'])
            if kind in CACHE_TASKS:
                Queue.delete([task])
                continue
            if kind == EMAIL_TASK and self.hold_from and (
                    date >= self.hold_from):
                self.held.append(task.id)
                continue
            name = ('e-mails' if kind == EMAIL_TASK
                else 'task ' + task.data['method'])
            with self.phase(name), self.on(date):
                task.run()

    def release(self, keep):
        """Send the e-mails held back but the last keep, as the worker
        would: the others stay queued for trytond-worker"""
        Queue = Pool().get('ir.queue')
        cut = len(self.held) - keep
        held, self.held = self.held[:max(cut, 0)], self.held[max(cut, 0):]
        for task in Queue.browse(held):
            with self.phase('e-mails'):
                task.run()

    def cron(self, date):
        """The module's daily jobs as trytond-cron runs them on date (the
        billing run queues its batches; the worker runs them), and the
        ERP's posting of the card charges' clearing moves"""
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Payment = pool.get('account.payment')
        Journal = pool.get('account.payment.journal')
        self.do('billing', date, Contract.bill_due_contracts, date)
        self.do('dunning', date, Contract.run_payment_dunning, date)
        self.do('dunning', date, Payment.subscription_janitor)
        self.do('clearing', date, Journal.cron_post_clearing_moves, date)

    @staticmethod
    def next_due(after):
        """The first day from after on which the daily jobs have work: an
        invoice due, a payment to retry, the day after a term or a
        scheduled close ends"""
        Contract = Pool().get('sale.subscription')
        table = Contract.__table__()
        cursor = Transaction().connection.cursor()
        days = []
        for column, where, shift in [
                (table.next_billing_date,
                    table.state.in_(['running', 'closed']), 0),
                (table.next_payment_retry, table.dunning_invoice != Null, 0),
                (table.end_date, table.state == 'running', 1),
                ]:
            cursor.execute(*table.select(column,
                    where=where & (column != None)  # noqa: E711
                    & (column >= after - datetime.timedelta(days=shift)),
                    order_by=[column.asc], limit=1))
            days.extend(day + datetime.timedelta(days=shift)
                for day, in cursor)
        return min(days, default=None)

    def report(self):
        "Lines of CPU and wall seconds by phase, the largest first"
        return [f"  {name:<28} {self.cpu[name]:7.1f} s CPU "
            f"{self.wall[name]:7.1f} s wall"
            for name, _ in self.cpu.most_common()]
