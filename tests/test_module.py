"""Tryton's standard ModuleTestCase for the module (tests/module_case.py),
in a process of its own on a database of its own: it drops and creates its
database, which must not be the suite's (see conftest.py)."""
import os
import subprocess
import sys

import rpc_server


def test_tryton_module_test_case(tmp_path):
    name, uri, path = rpc_server.database_for(tmp_path, 'module')
    env = dict(os.environ)
    if path:
        # SQLite: the process's own in-memory database
        name = ':memory:'
    env['DB_NAME'] = name
    result = subprocess.run([sys.executable, '-m', 'pytest', '-q',
            '-p', 'no:cacheprovider', 'tests/module_case.py'],
        cwd=rpc_server.ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr
