"""trytond-subscription given a wrong argument, a configuration file or a
database that is not there: one clear line on stderr, a non-zero exit, at
once — no traceback, no hang, and nothing billed."""
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT, backend_name
from trytond.tests.test_tryton import DB_NAME

# the command re-executes itself under -O and imports trytond: a few
# seconds; the connection pool's timeout, which this replaces, is 30
FAST = 20


def run(*args):
    command = [sys.executable, '-m',
        'trytond.modules.sale_subscription_contract.cli', 'bill', *args]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
        timeout=120)
    return done, time.monotonic() - started


def assert_refused(done, seconds, *texts):
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Contracts billed" not in done.stdout
    for text in texts:
        assert text in done.stderr, done.stderr
    assert seconds < FAST, f"took {seconds:.0f} s"


@pytest.fixture
def config(tmp_path):
    "A configuration of the test database's server"
    path = tmp_path / 'trytond.conf'
    uri = os.environ['TRYTOND_DATABASE_URI']
    text = f"[database]\nuri = {uri}\n"
    if backend_name() == 'sqlite':
        # the test database lives in memory: this directory has none
        text += f"path = {tmp_path}\n"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('size, text', [
        ('0', "must be at least 1, not 0"),
        ('-5', "must be at least 1, not -5"),
        ('zehn', "'zehn' is not a whole number"),
        ])
def test_batch_size_must_be_positive(config, size, text):
    # on the real test database: a negative size billed nothing and said
    # all was well, 0 ended in a traceback
    database = DB_NAME if backend_name() == 'postgresql' else 'missing'
    done, seconds = run('-c', config, '-d', database, '--batch-size', size,
        '--date', '2026-01-01', '--quiet')
    assert_refused(done, seconds, "--batch-size", text)


def test_missing_configuration_file(tmp_path):
    missing = str(tmp_path / 'nowhere.conf')
    done, seconds = run('-c', missing, '-d', DB_NAME)
    assert_refused(done, seconds,
        f"cannot read the configuration file {missing}: "
        "No such file or directory")


def test_missing_database(config):
    done, seconds = run('-c', config, '-d', 'no_such_database_badinput')
    assert_refused(done, seconds,
        "cannot connect to the database 'no_such_database_badinput'")


@pytest.mark.skipif(backend_name() != 'postgresql',
    reason="a server that does not answer")
def test_database_server_that_does_not_answer(tmp_path):
    # nothing listens on port 9 (discard) of this machine
    path = tmp_path / 'trytond.conf'
    path.write_text(
        "[database]\nuri = postgresql://postgres@127.0.0.1:9/\n")
    done, seconds = run('-c', str(path), '-d', DB_NAME)
    assert_refused(done, seconds,
        f"cannot connect to the database {DB_NAME!r}")
