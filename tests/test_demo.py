"""The demo database is built from scratch by the real confirmation and
billing code, and the server it is served with answers a JSON-RPC login."""
import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, backend_name

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(backend_name() != 'sqlite',
        reason="the demo runs on SQLite"),
    ]


def _serve():
    spec = importlib.util.spec_from_file_location(
        'serve', Path(ROOT) / 'scripts' / 'serve.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_env():
    "The demo uses its own SQLite file, not the suite's database"
    return {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}


def test_demo_builds_and_serves_a_login(tmp_path):
    database = tmp_path / 'demo.sqlite'
    build = subprocess.run([sys.executable, '-m', 'demo.build',
            '--database', str(database), '--customers', '12',
            '--months', '3', '--until', '2026-11-27'],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        timeout=1200)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "contracts running" in build.stdout
    assert "0 billing errors" in build.stdout, build.stdout

    serve = _serve()
    port = serve.free_port()
    config = tmp_path / 'trytond.conf'
    name, uri, path = serve.resolve_db(str(database))
    serve.write_config(str(config), uri, port, path)
    server = serve.start_server(str(config), name, port=port,
        env=clean_env())
    try:
        request = urllib.request.Request(
            f'http://127.0.0.1:{port}/{name}/rpc/',
            data=json.dumps({'id': 1, 'method': 'common.db.login',
                    'params': ['admin', {'password': 'admin'}]}).encode(),
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert 'error' not in answer or not answer['error'], answer
        user_id, session = answer['result'][:2]
        assert user_id > 0 and len(session) > 20
    finally:
        server.terminate()
        server.wait(30)
