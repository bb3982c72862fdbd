#!/usr/bin/env python3
"""Serve the demo database as production runs: trytond (with the sao web
client), trytond-cron, a trytond-worker and a mail server on localhost that
keeps every e-mail as an .eml file. Ctrl-C stops them all.

    .venv/bin/python scripts/demo.py --db var/demo.sqlite [--port 8000] \\
        [--mail var/mail]

Built by `python -m demo.build` (`make demo` does both); what to try is read
from the build's summary next to the database (var/demo.json).
"""
import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import serve

ROOT = serve.ROOT
BIN = serve.BIN
EMAIL_FROM = "Abo Software GmbH <rechnung@abo-software.example>"


def start(name, cmd, log):
    "Start a process of the demo, its output appended to log"
    out = open(log, 'ab')
    return name, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
        cwd=ROOT, start_new_session=True)


def wait_smtp(port, proc, timeout=30):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the mail sink stopped")
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no SMTP server on port {port}")


def banner(url, database, mail, logs, summary):
    "What to open and what to try"
    lines = [
        "",
        "The demo is running:",
        f"  back office   {url}  (database {database}, login admin, "
        "password admin)",
        f"  e-mails       {mail}/*.eml  (every e-mail the demo sends, "
        "e.g. `ls -t` then open one)",
        f"  logs          {logs}/",
        "  processes     trytond, trytond-cron, trytond-worker (SQLite: "
        "scripts/sqlite_worker.py), mail sink",
        ]
    if summary:
        lines.append(
            f"  data          {summary['running']} contracts running, "
            f"{summary['closed']} closed, {summary['invoices']} posted "
            f"invoices ({summary['paid_invoices']} paid by card), "
            f"{summary['failed_payments']} declined charges, "
            f"{summary['emails_sent']} e-mails sent")
        portal = summary.get('portal')
        if portal:
            lines.append(
                f"  portal        {url}{database}/portal/  (sign in as "
                f"{portal['email']}, password {portal['password']}: "
                f"{portal['customer']}'s contracts and invoices)")
            for quotation in portal['quotations']:
                lines.append(f"  quotation     {url.rstrip('/')}"
                    f"{quotation['path']}  ({quotation['customer']}: "
                    "open, tick, sign, accept)")
        lines.append("")
        lines.append("What to try (menu Abonnementverträge › Verträge, "
            "search a contract by its number):")
        for what, contracts in summary['try'].items():
            if contracts:
                lines.append(f"  - {what}: {', '.join(contracts)}")
    lines.extend([
        "  - a contract on a card plan: tabs Zahlungsversuche (payment "
        "attempts), Zahlungsprotokoll (payment log), Kunden-E-Mails",
        "  - Abonnementverträge › Zahlung fehlgeschlagen: the contracts in "
        "dunning; › Kunden-E-Mails: every e-mail, sent; › MRR-Ereignisse",
        "  - close a contract (Kündigen) with a reason, reopen it "
        "(Wiedereröffnen): churn and reactivation in the MRR events",
        "  - Retry (Erneut senden) a customer e-mail: the worker sends it "
        f"within seconds, with the invoice as PDF, into {mail}",
        "",
        "Ctrl-C stops the demo.",
        ])
    print('\n'.join(lines), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--db', required=True,
        help="the demo database, a .sqlite file")
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--mail', help="where the e-mails are kept "
        "(default: mail/ next to the database)")
    parser.add_argument('--smtp-port', type=int, default=0,
        help="the mail sink's port (default: a free one)")
    options = parser.parse_args()
    # stopped like Ctrl-C: the processes started are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    database, uri, db_path = serve.resolve_db(options.db)
    var = db_path
    mail = os.path.abspath(options.mail or os.path.join(var, 'mail'))
    logs = os.path.join(var, 'log')
    os.makedirs(logs, exist_ok=True)
    smtp = options.smtp_port or serve.free_port()
    config = serve.write_config(os.path.join(var, database + '-serve.cfg'),
        uri, options.port, db_path, extra={
            # tasks go to the queue, for the worker
            'queue': {'worker': 'True'},
            'email': {'uri': f'smtp://127.0.0.1:{smtp}',
                'from': EMAIL_FROM},
            })
    python = [sys.executable, '-O']
    processes = [start('mail sink', python + ['-m', 'demo.mailsink',
                '--dir', mail, '--port', str(smtp)],
            os.path.join(logs, 'mail.log'))]
    try:
        wait_smtp(smtp, processes[0][1])
        processes.append(start('trytond', [os.path.join(BIN, 'trytond'),
                    '-c', config, '-d', database],
                os.path.join(logs, 'trytond.log')))
        processes.append(start('trytond-cron', python + [
                    os.path.join(BIN, 'trytond-cron'), '-c', config,
                    '-d', database], os.path.join(logs, 'cron.log')))
        processes.append(start('trytond-worker', python + [
                    os.path.join(ROOT, 'scripts', 'sqlite_worker.py'),
                    '-c', config, '-d', database, '-t', '2', '-vv'],
                os.path.join(logs, 'worker.log')))
        url = f'http://127.0.0.1:{options.port}/'
        serve.wait_port('127.0.0.1', options.port, timeout=120,
            proc=processes[1][1])
        summary_file = os.path.join(var, database + '.json')
        summary = None
        if os.path.exists(summary_file):
            with open(summary_file) as fp:
                summary = json.load(fp)
        banner(url, database, mail, logs, summary)
        while True:
            for name, proc in processes:
                if proc.poll() is not None:
                    print(f"{name} stopped ({proc.returncode}), see {logs}",
                        file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


def stop(processes):
    """Stop each process with the processes it started (the worker's and
    the cron's pools): each leads a process group of its own"""
    for _, proc in reversed(processes):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for _, proc in processes:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == '__main__':
    sys.exit(main())
