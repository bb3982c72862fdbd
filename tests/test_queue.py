"""Tasks a dead worker left are put back in the queue; failed ones are not
(PostgreSQL: a running task holds the lock of its row)."""
import datetime

import pytest

from conftest import backend_name

pytestmark = pytest.mark.skipif(
    backend_name() != 'postgresql', reason="needs PostgreSQL row locks")


def test_requeue_takes_back_lost_tasks_only(env):
    Queue = env.get('ir.queue')
    Error = env.get('ir.error')
    long_ago = datetime.datetime.now() - datetime.timedelta(hours=1)

    def task(contract_id, model='sale.subscription', method='bill_batch',
            **values):
        data = {'model': model, 'method': method,
            'instances': [contract_id], 'args': [], 'kwargs': {},
            'user': 0, 'context': {}}
        return Queue.create([{'name': 'default', 'data': data,
                    'dequeued_at': long_ago, **values}])[0]

    # pulled by a worker that was killed: nothing says it ended
    lost = task(1)
    # failed on a lock three times: Tryton queued a copy of it
    failed = task(2)
    copy = task(2, dequeued_at=None)
    # failed on a user error: reported, rerun from the error list
    reported = task(3)
    Error.create([{'origin': str(reported), 'message': "Missing account",
                'description': ''}])
    done = task(4, finished_at=long_ago)
    # another module's task: not known to be safe to rerun, left as Tryton
    # leaves it
    foreign = task(5, model='account.invoice', method='post')

    requeued = Queue.requeue_dead_tasks(datetime.timedelta(minutes=2))

    assert requeued == [lost.id]
    # searched: the cursor, not the records cached at their creation
    waiting = Queue.search([('dequeued_at', '=', None)])
    assert set(waiting) >= {lost, copy}
    assert not set(waiting) & {failed, reported, done, foreign}
