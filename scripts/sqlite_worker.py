#!/usr/bin/env python3
"""trytond-worker for an SQLite database (the demo's).

trytond-worker 8.0 cannot run on SQLite: it waits for PostgreSQL's
notifications by registering its database connection with a selector (an
SQLite connection has none to give: "Invalid file object"), and the queue's
pull (ir.queue) marks a task as taken, then fails on SQLite ("no such
table", a WITH clause left out of its last query) before returning it: the
task would never run. This is the worker in one process: trytond-worker's
options and its run_task, one task after the other, taken from the queue
in the queue's order (scheduled first, then expected), looking at it again
every -t seconds when it is empty.

    .venv/bin/python scripts/sqlite_worker.py -c trytond.conf -d demo -t 2
"""
import sys
import time


def pull(database, name=None):
    "Take the next task due of the queue and return its id, or None"
    from sql import Literal, Null
    from sql.functions import CurrentTimestamp

    from trytond.pool import Pool
    queue = Pool(database.name).get('ir.queue').__table__()
    connection = database.get_connection(autocommit=True)
    try:
        cursor = connection.cursor()
        cursor.execute(*queue.select(queue.id,
                where=((queue.name == name) if name else Literal(True))
                & (queue.dequeued_at == Null)
                & ((queue.scheduled_at <= CurrentTimestamp())
                    | (queue.scheduled_at == Null)),
                order_by=[queue.scheduled_at.nulls_first,
                    queue.expected_at.nulls_first, queue.id.asc],
                limit=1))
        row = cursor.fetchone()
        if row:
            cursor.execute(*queue.update([queue.dequeued_at],
                    [CurrentTimestamp()], where=(queue.id == row[0])
                    & (queue.dequeued_at == Null)))
            return row[0]
    finally:
        database.put_connection(connection)


def work(options):
    import trytond.worker as worker
    from trytond import backend
    from trytond.pool import Pool
    worker.initializer(options, worker=False)
    databases = [backend.Database(name).connect()
        for name in options.database_names]
    while True:
        ran = False
        for database in databases:
            try:
                task_id = pull(database, options.name)
            except backend.DatabaseOperationalError:
                continue  # the database is busy: next time
            if task_id:
                worker.run_task(Pool(database.name), task_id)
                ran = True
        if not ran:
            time.sleep(options.timeout)


def main():
    import trytond.commandline as commandline
    import trytond.config as config
    parser = commandline.get_parser_worker()
    options = parser.parse_args()
    config.update_etc(options.configfile)
    commandline.config_log(options)
    from trytond.pool import Pool
    with commandline.pidfile(options):
        try:
            Pool.start()
            work(options)
        except (KeyboardInterrupt, SystemExit):
            pass


if __name__ == '__main__':
    sys.exit(main())
