#!/usr/bin/env python3
"""trytond-worker for an SQLite database (the demo's).

trytond-worker sleeps until PostgreSQL notifies it of a new task: it
registers its database connection with a selector. An SQLite connection has
no file descriptor to wait on, so trytond-worker 8.0 stops at once on
SQLite ("Invalid file object"). This runs the same trytond-worker
(trytond.cli.worker, same options) with a selector that registers nothing
and only waits: the worker then looks at the queue every -t seconds, as it
does when no notification comes.

    .venv/bin/python scripts/sqlite_worker.py -c trytond.conf -d demo -n 1 -t 2
"""
import selectors
import sys
import time
import types


class PollingSelector:
    "A selector without anything to select: select() only waits"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def register(self, fileobj, events, data=None):
        pass

    def select(self, timeout=None):
        time.sleep(timeout if timeout is not None else 1)
        return []


def main():
    import trytond.worker as worker
    worker.selectors = types.SimpleNamespace(
        DefaultSelector=PollingSelector, EVENT_READ=selectors.EVENT_READ)
    from trytond.cli.worker import main as worker_main
    return worker_main()


if __name__ == '__main__':
    sys.exit(main())
