"""The demo database is built from scratch by the real sales, billing,
charging, dunning and e-mail code, with card payments, a declined charge in
dunning and e-mails sent to the mail sink; served as production runs
(trytond, trytond-cron, a worker, the mail sink), it answers a login and
its worker sends the e-mail left to it, with the invoice as PDF."""
import datetime
import email
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from email import policy

import pytest
import requests

from conftest import ROOT, backend_name

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(backend_name() != 'sqlite',
        reason="the demo runs on SQLite"),
    ]


def clean_env():
    "The demo uses its own SQLite file, not the suite's database"
    return {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def login(port, name):
    request = urllib.request.Request(
        f'http://127.0.0.1:{port}/{name}/rpc/',
        data=json.dumps({'id': 1, 'method': 'common.db.login',
                'params': ['admin', {'password': 'admin'}]}).encode(),
        headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def pdf_mails(folder):
    "The e-mails of folder that carry a PDF"
    found = []
    for path in folder.glob('*.eml'):
        message = email.message_from_bytes(path.read_bytes(),
            policy=policy.default)
        if any(part.get_content_type() == 'application/pdf'
                for part in message.iter_attachments()):
            found.append(message)
    return found


def test_demo_builds_and_runs_as_production(tmp_path):
    database, mail = tmp_path / 'demo.sqlite', tmp_path / 'mail'
    build = subprocess.run([sys.executable, '-m', 'demo.build',
            '--database', str(database), '--customers', '24',
            # until today: the demo's cron has nothing to catch up
            '--months', '3', '--held-emails', '1',
            '--mail', str(mail)],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    assert ", 0 restarted" in build.stdout, build.stdout
    summary = json.loads((tmp_path / 'demo.json').read_text())
    assert summary['invoices'] > 10 and summary['paid_invoices'] > 0
    assert summary['payment_methods'] > 0
    assert summary['failed_payments'] >= 2, summary
    tries = summary['try']
    assert tries['declined, retry pending'], tries
    assert tries['declined, waiting for a new card'], tries
    # every e-mail was sent to the sink, but the one left to the worker
    assert summary['emails_failed'] == 0
    assert summary['emails_pending'] == summary['held_emails'] == 1
    assert len(list(mail.glob('*.eml'))) == summary['emails_sent'] > 5
    with sqlite3.connect(database) as connection:
        in_dunning, = connection.execute(
            "SELECT COUNT(*) FROM sale_subscription "
            "WHERE dunning_invoice IS NOT NULL AND next_payment_retry > ?",
            (datetime.date.today().isoformat(),)).fetchone()
        assert in_dunning >= 1
        reminders, = connection.execute(
            "SELECT COUNT(*) FROM sale_subscription_customer_email "
            "WHERE kind IN ('payment_failed', 'payment_reminder')"
            ).fetchone()
        assert reminders >= 2

    port = free_port()
    demo = subprocess.Popen([sys.executable, 'scripts/demo.py',
            '--db', str(database), '--port', str(port), '--mail', str(mail)],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        banner = ''
        while 'Ctrl-C stops the demo' not in banner:
            line = demo.stdout.readline()
            assert line, banner + (tmp_path / 'log' / 'trytond.log'
                ).read_text()
            banner += line
        assert f'http://127.0.0.1:{port}/' in banner
        assert 'declined, retry pending' in banner
        answer = login(port, 'demo')
        assert not answer.get('error'), answer
        user_id, session = answer['result'][:2]
        assert user_id > 0 and len(session) > 20
        # the portal: the quotation links and the sign-in printed work
        portal = summary['portal']
        for quotation in portal['quotations']:
            assert quotation['path'] in banner
            page = requests.get(f'http://127.0.0.1:{port}'
                f"{quotation['path']}")
            assert page.status_code == 200
            assert quotation['customer'] in page.text
        assert portal['email'] in banner and portal['password'] in banner
        customer = requests.Session()
        customer.get(f'http://127.0.0.1:{port}/demo/portal/sign-in')
        home = customer.post(f'http://127.0.0.1:{port}/demo/portal/sign-in',
            data={'csrf_token': customer.cookies['portal_csrf'],
                'email': portal['email'], 'password': portal['password']})
        assert home.status_code == 200 and 'portal_session' in (
            customer.cookies), home.text
        # the worker sends the e-mail left to it, now with its PDF
        deadline = time.monotonic() + 90
        while not pdf_mails(mail) and time.monotonic() < deadline:
            assert demo.poll() is None, (tmp_path / 'log' / 'worker.log'
                ).read_text()
            time.sleep(1)
        assert pdf_mails(mail), (tmp_path / 'log' / 'worker.log'
            ).read_text()
    finally:
        demo.terminate()
        demo.wait(30)
