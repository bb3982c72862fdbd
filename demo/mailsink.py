"""A mail server for the demo: an SMTP server on localhost that delivers
nothing and keeps every message it accepts as an .eml file (open it with
any mail program, or read it as text).

    .venv/bin/python -m demo.mailsink --dir var/mail [--port 8025]
"""
import argparse
import email
import os
import re
import signal
import socket
import threading
import time
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    "Keep each message as DIR/<time>-<n>-<subject>.eml"

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content, policy=policy.default)
        subject = re.sub(r'[^\w.-]+', '-', str(message['Subject'] or ''),
            flags=re.ASCII).strip('-')[:60]
        with self.lock:
            self.count += 1
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:05d}"
        path = os.path.join(self.directory, f"{name}-{subject}.eml")
        with open(path, 'wb') as fp:
            fp.write(envelope.original_content)
        return '250 Message accepted for delivery'


def free_port(host='127.0.0.1'):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start(directory, port, host='127.0.0.1'):
    "Start the sink in a thread of this process; return its controller"
    controller = Controller(Sink(directory), hostname=host, port=port)
    controller.start()
    return controller


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dir', required=True,
        help="where the messages are kept")
    parser.add_argument('--port', type=int, default=8025)
    parser.add_argument('--host', default='127.0.0.1')
    options = parser.parse_args(argv)
    controller = start(options.dir, options.port, options.host)
    print(f"mail sink: smtp://{options.host}:{options.port} → "
        f"{os.path.abspath(options.dir)}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == '__main__':
    main()
