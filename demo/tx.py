"Run a function in a Tryton transaction, restarting it as the server does"
from trytond.cache import Cache
from trytond.transaction import Transaction, TransactionError


def in_transaction(database, func, user=0, context=None, commit=True,
        extras=None):
    """Call func() in a transaction on database and return its result.

    Tryton asks for a restart (TransactionError) when a table must be locked
    from the start, e.g. the first time a singleton is written. Passing the
    same extras dict to similar calls takes those locks up front next time.
    """
    extras = {} if extras is None else extras
    while True:
        with Transaction().start(
                database, user, context=context or {},
                **extras) as transaction:
            try:
                result = func()
            except TransactionError as error:
                transaction.rollback()
                transaction.tasks.clear()
                error.fix(extras)
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
