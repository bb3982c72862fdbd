"""A trytond server process on a database of its own, and a JSON-RPC client
that talks to it as the Tryton clients do: log in, then call
`model.<name>.<method>` with the session, the user's preferences as context.

Used by tests/test_access.py: what a user reads, writes and calls is checked
through the real RPC layer (the dispatcher, its access checks and record
rules), not by Python calls as the administrator.
"""
import base64
import itertools
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# appended: scripts/demo.py must not hide the demo package
sys.path.append(str(ROOT / 'scripts'))
from serve import free_port  # noqa: E402


def database_for(tmp, suffix):
    """The name of a database of its own for this session: a file in tmp on
    SQLite, `<DB_NAME>_<suffix>` on PostgreSQL; returns (name, uri, path)"""
    uri = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
    if uri.startswith('sqlite'):
        return suffix, 'sqlite://', str(tmp)
    return f"{os.environ['DB_NAME']}_{suffix}", uri, None


def drop_postgresql(uri, name):
    "Drop our own database name (left by an aborted run) if it exists"
    import psycopg
    with psycopg.connect(uri + 'postgres', autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(script, name, path, args, log):
    """Run script in its own process on database name (its set-up as the
    administrator, in Python) and return what it wrote as JSON"""
    env = dict(os.environ, DB_NAME=name)
    if path:
        env['TRYTOND_DATABASE__PATH'] = path
    out = Path(log).with_suffix('.json')
    with open(log, 'w') as file:
        subprocess.run([sys.executable, str(script), *args, str(out)],
            env=env, check=True, stdout=file, stderr=subprocess.STDOUT,
            cwd=ROOT)
    return json.loads(out.read_text())


def start(tmp, name, uri, path):
    "Start trytond on database name; return (process, url)"
    port = free_port()
    config = Path(tmp) / 'trytond.conf'
    lines = ['[database]', f'uri = {uri}', 'list = False']
    if path:
        lines.append(f'path = {path}')
    lines += ['[web]', f'listen = 127.0.0.1:{port}',
        # the tests log in once per user
        '[session]', 'max_attempt = 100',
        # a test server: cards are stored and charged by the test processor
        '[subscription]', 'test_processor = True']
    config.write_text('\n'.join(lines) + '\n')
    # the server's configuration is its file, not the tests' environment
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
    log = open(Path(tmp) / 'server.log', 'w')
    process = subprocess.Popen(
        [str(BIN / 'trytond'), '-c', str(config), '-d', name],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_http(f'http://127.0.0.1:{port}/', process)
    except Exception:
        process.terminate()
        process.wait(10)
        raise
    return process, f'http://127.0.0.1:{port}/{name}/rpc/'


def wait_http(url, process, timeout=60):
    "Wait until the server answers HTTP (any status: it has no web client)"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class RPCError(Exception):
    "The server answered an error: (kind, details) as sent over JSON-RPC"

    def __init__(self, error):
        super().__init__(error)
        self.error = error

    @property
    def user_error(self):
        "A message for the user (UserError and its kinds), not a traceback"
        return (isinstance(self.error, list) and len(self.error) == 2
            and self.error[0] == 'UserError')

    @property
    def access_error(self):
        "Tryton's access refusal: the user may not read or change this"
        return self.user_error and self.error[1][0].startswith(
            "You are not allowed")

    @property
    def forbidden(self):
        "The method is not served over RPC at all"
        return self.error == ['HTTP', 403]

    @property
    def message(self):
        return self.error[1][0] if self.user_error else str(self.error)


class Session:
    "A logged-in user of the server"
    _ids = itertools.count(1)

    def __init__(self, url, login, password):
        self.url = url
        self.login = login
        self.authorization = None
        user_id, token, _ = self._call(
            'common.db.login', [login, {'password': password}, 'en'])
        self.user_id = user_id
        self.authorization = 'Session ' + base64.b64encode(
            f'{login}:{user_id}:{token}'.encode()).decode()
        self.context = self._call('model.res.user.get_preferences',
            [True, {}])

    def _call(self, method, params):
        body = json.dumps({
                'id': next(self._ids), 'method': method, 'params': params,
                }).encode()
        request = urllib.request.Request(self.url, data=body, headers={
                'Content-Type': 'application/json'})
        if self.authorization:
            request.add_header('Authorization', self.authorization)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            # e.g. 403: the method is not served over RPC
            raise RPCError(['HTTP', error.code]) from None
        if 'error' in answer:
            raise RPCError(answer['error'])
        return answer['result']

    def call(self, model, method, *args):
        "model.<model>.<method>(*args) with the user's context"
        return self._call(f'model.{model}.{method}',
            [*args, dict(self.context)])

    def outcome(self, model, method, *args):
        "The result, or the RPCError the call raised"
        try:
            return self.call(model, method, *args)
        except RPCError as error:
            return error

    def search_ids(self, model, domain=()):
        return sorted(r['id'] for r in self.call(
                model, 'search_read', list(domain), 0, None, None, ['id']))
