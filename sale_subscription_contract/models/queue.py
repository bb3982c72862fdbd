# Tasks of a killed worker.  trytond-worker marks a task dequeued when it
# pulls it, in autocommit, before running it in a transaction of its own: a
# worker killed (SIGKILL, OOM, lost machine) while running a task leaves it
# dequeued and never finished, and no worker pulls it again.  A billing batch
# left so waits for the next day's run, a charge for the janitor's grace.
# On PostgreSQL a running task holds the lock of its queue row until it
# commits, so a dequeued, unfinished row that is not locked belongs to a dead
# worker: the cron puts it back in the queue.  Rerunning a task is what
# Tryton does itself when a task's transaction fails; the module's tasks are
# safe to rerun (claimed rows, unique period key, the charge's idempotency
# key).  A task that failed is not a dead worker's: Tryton pushed a copy of
# it (database errors) or reported it in ir.error (user errors), so the cron
# leaves it alone.
#
# Locks: Tryton takes a table or record lock only at the start of a
# transaction; a task that needs one (the invoice and move sequences) does
# its work, is told to restart with the lock and does it all again.  A
# worker learns the records each kind of task asked to lock twice (the
# sequences: every billing batch asks for them) and asks for them before the
# next such task starts working, so the restart costs nothing.  Records
# asked once (the payment a charge locks) and table locks (a journal's first
# move in a period) are not learnt: taken by every task, they would make the
# workers wait for each other.
import datetime

from sql import Literal, Null
from sql.functions import CurrentTimestamp
from sql.operators import Concat, Exists

from trytond import backend
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, TransactionError

# a task is pulled, then handed to a process of the worker's pool that locks
# its row: left unlocked longer than this, its worker is gone
REQUEUE_GRACE = datetime.timedelta(minutes=2)
# per process: (model, method) of a task -> the record locks learnt, and
# how often each (table, id) was asked for
_LEARNED_LOCKS = {}
_ASKED = {}
# (model, method) of the module's own tasks, all safe to rerun: only these
# learn locks and are put back in the queue when their worker died; the
# tasks of other modules run as Tryton runs them
MODULE_TASKS = {
    ('sale.subscription', 'bill_batch'),
    ('account.payment', 'subscription_charge'),
    ('sale.subscription.customer_email', 'deliver'),
    }


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    def run(self):
        transaction = Transaction()
        kind = (self.data['model'], self.data['method'])
        if kind not in MODULE_TASKS:
            return super().run()
        learned = _LEARNED_LOCKS.setdefault(kind, {})
        # raises TransactionError before any work when a lock is missing
        for table, ids in learned.items():
            transaction.lock_records(table, ids)
        if backend.name == 'postgresql':
            # held until the task's transaction ends: the row of a task being
            # run is locked, the row of a task whose worker died is not
            table = self.__table__()
            cursor = Transaction().connection.cursor()
            query = table.select(table.id, where=table.id == self.id)
            statement, params = tuple(query)
            cursor.execute(statement + ' FOR UPDATE', params)
        try:
            super().run()
        except TransactionError as error:
            self._learn_lock(kind, error)
            raise

    @staticmethod
    def _learn_lock(kind, error):
        "Learn the records a lock error asks for when asked a second time"
        asks = {}
        error.fix(asks)  # what the restarted transaction will lock
        asked = _ASKED.setdefault(kind, {})
        for table, ids in asks.get('_lock_records', {}).items():
            for id_ in ids:
                asked[table, id_] = asked.get((table, id_), 0) + 1
                if asked[table, id_] == 2:
                    _LEARNED_LOCKS[kind].setdefault(table, []).append(id_)

    @classmethod
    def requeue_dead_tasks(cls, grace=None):
        """Cron: put back in the queue the tasks pulled by a worker that
        died before finishing them (PostgreSQL); return their ids"""
        if backend.name != 'postgresql':
            # no row locks to tell a running task from a dead one
            return []
        if grace is None:
            grace = REQUEUE_GRACE
        Error = Pool().get('ir.error')
        table = cls.__table__()
        copy = cls.__table__()
        error = Error.__table__()
        cursor = Transaction().connection.cursor()
        query = table.select(table.id,
            where=(table.dequeued_at != Null) & (table.finished_at == Null)
            & (table.dequeued_at
                < CurrentTimestamp() - Literal(grace))
            # failed, not lost: Tryton queued it again after database errors
            & ~Exists(copy.select(copy.id,
                    where=(copy.id > table.id) & (copy.name == table.name)
                    & (copy.data == table.data)))
            # failed on a user error: reported, rerun from ir.error
            & ~Exists(error.select(error.id,
                    where=error.origin == Concat(
                        cls.__name__ + ',', table.id))))
        statement, params = tuple(query)
        cursor.execute(statement + ' FOR UPDATE SKIP LOCKED', params)
        ids = [i for i, in cursor]
        # only the module's tasks are known to be safe to rerun
        ids = [t.id for t in cls.browse(ids)
            if (t.data['model'], t.data['method']) in MODULE_TASKS]
        if ids:
            cursor.execute(*table.update([table.dequeued_at], [Null],
                    where=table.id.in_(ids)))
            database = Transaction().database
            if database.has_channel():
                # wake the idle workers up, as a push does
                database.notify(Transaction().connection, cls.__name__, '')
        return ids
