#!/usr/bin/env python3
"""Run trytond with the sao web client for one database.

    .venv/bin/python scripts/serve.py --db /tmp/db/demo.sqlite --port 8000
    .venv/bin/python scripts/serve.py --db demo \\
        --uri postgresql://postgres@localhost:5432/ --port 8000

Run scripts/install_sao.sh first. write_config() and start_server() are
reused by the test fixtures.
"""
import argparse
import configparser
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAO_ROOT = os.path.join(ROOT, '.cache', 'sao')
BIN = os.path.dirname(sys.executable)


def resolve_db(db, uri=None):
    """Return (database name, uri, sqlite dir or None).

    For SQLite trytond wants uri 'sqlite://' plus [database] path=DIR and
    the name without '.sqlite'; accept a file path or sqlite:///DIR.
    """
    uri = uri or ('sqlite://' if db.endswith('.sqlite') else None)
    if not uri:
        raise ValueError('--uri is required unless --db is a .sqlite file')
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != 'sqlite':
        return db, uri, None
    path = parsed.path if parsed.path not in ('', '/') else None
    if db.endswith('.sqlite'):
        path, db = os.path.split(os.path.abspath(db))
        db = db[:-len('.sqlite')]
    if not path:
        raise ValueError('SQLite needs a directory: sqlite:///DIR or a path')
    return db, 'sqlite://', os.path.abspath(path)


def write_config(path, uri, port, db_path=None, sao_root=SAO_ROOT,
        host='127.0.0.1', extra=None):
    """Write a trytond config file and return its path.

    extra: {section: {option: value}} merged over the defaults.
    """
    if not os.path.isfile(os.path.join(sao_root, 'index.html')):
        raise FileNotFoundError(
            f'sao not found in {sao_root}; run scripts/install_sao.sh')
    cfg = configparser.ConfigParser(interpolation=None)
    cfg['database'] = {'uri': uri, 'list': 'False'}
    if db_path:
        cfg['database']['path'] = db_path
    # hostname: the links e-mailed to customers (portal pages) point here
    cfg['web'] = {'listen': f'{host}:{port}', 'root': sao_root,
        'hostname': f'{host}:{port}'}
    # tests log in repeatedly from 127.0.0.1; don't get rate limited
    cfg['session'] = {'max_attempt': '100'}
    # this script serves the demo and the test databases: their cards are
    # the test processor's (never set on a production server)
    cfg['subscription'] = {'test_processor': 'True'}
    for section, options in (extra or {}).items():
        if not cfg.has_section(section):
            cfg.add_section(section)
        cfg[section].update({k: str(v) for k, v in options.items()})
    with open(path, 'w') as fp:
        cfg.write(fp)
    return path


def wait_port(host, port, timeout=60, proc=None):
    deadline = time.monotonic() + timeout
    url = f'http://{host}:{port}/'
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'trytond exited with {proc.returncode}')
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f'{url} did not answer within {timeout}s')


def free_port(host='127.0.0.1'):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_server(config, database, port, host='127.0.0.1', timeout=60,
        log=None, env=None):
    """Start trytond in the background; return once HTTP answers.

    trytond 8.0 must get -d DATABASE, otherwise logins fail with 'res.user'.
    """
    cmd = [os.path.join(BIN, 'trytond'), '-c', config, '-d', database]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT
        if log else None, env=env)
    try:
        wait_port(host, port, timeout=timeout, proc=proc)
    except Exception:
        proc.terminate()
        proc.wait(10)
        raise
    return proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--db', required=True,
        help='database name, or path to a .sqlite file')
    parser.add_argument('--uri', help='sqlite:///DIR or postgresql://...')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--config-out', help='where to write the config')
    args = parser.parse_args()

    database, uri, db_path = resolve_db(args.db, args.uri)
    config = args.config_out or os.path.join(
        tempfile.mkdtemp(prefix='trytond-'), 'trytond.conf')
    write_config(config, uri, args.port, db_path, host=args.host)
    print(f'config: {config}\nsao: http://{args.host}:{args.port}/ '
        f'(database {database})', flush=True)
    cmd = [os.path.join(BIN, 'trytond'), '-c', config, '-d', database]
    os.execv(cmd[0], cmd)


if __name__ == '__main__':
    main()
