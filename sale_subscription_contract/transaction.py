"""Run a function in a Tryton transaction outside a request (the command
line, the demo, the tests, the benches), restarting it as the server does.

The queue's workers learn their locks in ir.queue's run (models/queue.py)."""
import random
import time


def in_transaction(database, func, user=0, context=None, commit=True,
        locks=None, retries=0):
    """Call func() in a transaction on database and return its result.

    Tryton asks for a restart (TransactionError) when records or a table
    must be locked from the start of a transaction (e.g. the invoice and
    move sequences, a singleton's first write). locks keeps what it asked:
    passing the same dict to the calls of one kind takes these locks up
    front the next time, so that their work is not done twice.

    retries: how often a database error of a concurrent transaction (e.g.
    one holding the invoice sequence: numbers are gapless, posting is
    serial) restarts the call, after a random back-off.

    Without commit, the transaction is rolled back, its tasks forgotten and
    the caches dropped.
    """
    from trytond import backend
    from trytond.cache import Cache
    from trytond.transaction import Transaction, TransactionError
    locks = {} if locks is None else locks
    attempt = 0
    while True:
        try:
            with Transaction().start(database, user, context=context or {},
                    **locks) as transaction:
                try:
                    result = func()
                except TransactionError as error:
                    transaction.rollback()
                    transaction.tasks.clear()
                    error.fix(locks)
                    continue
                except Exception:
                    transaction.rollback()
                    transaction.tasks.clear()
                    raise
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                    transaction.tasks.clear()
                    Cache.drop(database)
                return result
        except backend.DatabaseOperationalError:
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(random.uniform(0, min(0.5, 0.02 * 2 ** attempt)))
