"""A recorded Stripe for the tests: the stripe library's HTTP client
replaced by StripeServer, which answers with the JSON bodies in
tests/stripe_responses (in the shape of https://docs.stripe.com/api) and
keeps the payment intents it booked by idempotency key, as Stripe does.
Used in-process by test_payment_stripe.py and over HTTP, for a trytond
server process, by test_portal_stripe.py."""
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe
from stripe._http_client import HTTPClient

from demo.payment import create_card_journal

RESPONSES = os.path.join(os.path.dirname(__file__), 'stripe_responses')
SECRET_KEY = 'sk_test_51SubscriptionContractTests'
PUBLISHABLE_KEY = 'pk_test_51SubscriptionContractTests'


def recorded(name):
    """The recorded body name, or (name, {key: value}): the body with those
    keys replaced (a recorded intent of another sale or customer)"""
    name, replaced = name if isinstance(name, tuple) else (name, {})
    with open(os.path.join(RESPONSES, name), encoding='utf-8') as file:
        return dict(json.load(file), **replaced)


class StripeServer(HTTPClient):
    """Stripe as the stripe library sees it through its HTTP client.

    Each request takes the next queued answer: a recorded body with its HTTP
    status, 'lost' (Stripe books the intent, the answer never arrives) or
    'down' (the request never reaches Stripe).  A POST with a key Stripe
    already saw is answered with the first answer, books nothing."""
    name = 'recorded'

    def __init__(self):
        super().__init__()
        self.answers = []
        self.requests = []
        self.intents = {}  # idempotency key → (status, body) booked

    def forget_attempt(self):
        "The test is replayed from its start (see conftest.py)"
        self.answers.clear()
        self.requests.clear()
        self.intents.clear()

    def answer(self, method, path, answer, status=200):
        self.answers.append((method, path, answer, status))

    def posts(self):
        return [r for r in self.requests if r['method'] == 'post']

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urllib.parse.urlsplit(url)
        form = dict(urllib.parse.parse_qsl(post_data or ''))
        query = dict(urllib.parse.parse_qsl(parts.query))
        key = headers.get('Idempotency-Key')
        self.requests.append({'method': method, 'path': parts.path,
                'headers': dict(headers), 'form': form, 'query': query})
        down = bool(self.answers) and self.answers[0][2] == 'down'
        if method == 'post' and key in self.intents and not down:
            # Stripe's idempotency: a task restarted by trytond (to lock
            # tables first) charges again with its key, gets the first answer
            status, body = self.intents[key]
            return json.dumps(body), status, {}
        if not self.answers:
            raise AssertionError(f"unexpected request {method} {url}")
        expected, path, answer, status = self.answers.pop(0)
        assert (method, parts.path) == (expected, path), (
            f"{method} {parts.path} instead of {expected} {path}")
        if answer == 'down':
            raise stripe.APIConnectionError(
                "Network error: connection reset", should_retry=True)
        if method == 'post' and path == '/v1/payment_intents':
            if key in self.intents:  # Stripe's idempotency
                status, body = self.intents[key]
                return json.dumps(body), status, {}
            if isinstance(answer, dict):
                # {amount: body}: charges whose order is not the test's
                answer = answer[form['amount']]
            lost = answer == 'lost'
            if lost:
                answer = 'payment_intent_succeeded.json'
            body = recorded(answer)
            intent = body['error']['payment_intent'] if status == 402 \
                else body
            # Stripe echoes the metadata it was sent
            intent['metadata'] = {k[len('metadata['):-1]: v
                for k, v in form.items() if k.startswith('metadata[')}
            self.intents[key] = (status, body)
            if lost:
                raise stripe.APIConnectionError(
                    "Read timed out", should_retry=True)
            return json.dumps(body), status, {}
        if path == '/v1/payment_intents/search':
            # Stripe's search over what it booked
            body = recorded(answer)
            body['data'] = [
                b['error']['payment_intent'] if s == 402 else b
                for s, b in self.intents.values()
                if query['query'] == "metadata['idempotency_key']:'%s'" % (
                    (b['error']['payment_intent'] if s == 402 else b)
                    ['metadata']['idempotency_key'])]
            return json.dumps(body), status, {}
        return json.dumps(recorded(answer)), status, {}

    def request_stream(self, *args, **kwargs):
        raise AssertionError("no streaming")

    def _sleep_time_seconds(self, num_retries):
        return 0  # the library's retries, without waiting

    def close(self):
        pass


class StripeOverHTTP(ThreadingHTTPServer):
    """StripeServer on a port of 127.0.0.1, for a trytond server process
    whose stripe library is pointed at it (stripe_trytond.py); 'down'
    closes the connection without an answer"""

    def __init__(self):
        self.stripe = StripeServer()
        self.failures = []  # what the recorded Stripe did not expect
        super().__init__(('127.0.0.1', 0), _StripeHandler)
        self.url = 'http://127.0.0.1:%s' % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _StripeHandler(BaseHTTPRequestHandler):

    def answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode() if length else None
        try:
            text, status, _ = self.server.stripe.request(
                self.command.lower(), self.server.url + self.path,
                self.headers, body)
        except stripe.APIConnectionError:
            self.close_connection = True
            return
        except AssertionError as exception:
            self.server.failures.append(str(exception))
            text, status = json.dumps({'error': {
                        'type': 'api_error', 'message': str(exception)}}), 500
        data = text.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


def stripe_journal(env):
    Account = env.get('account.payment.stripe.account')
    PaymentJournal = env.get('account.payment.journal')
    account = Account(name="Stripe (Test)", secret_key=SECRET_KEY,
        publishable_key=PUBLISHABLE_KEY)
    account.save()
    # booked like the test processor's: on its clearing account
    card = create_card_journal(env.company)
    journal = PaymentJournal(name="Stripe", company=env.company,
        currency=env.company.currency, process_method='stripe',
        stripe_account=account, clearing_account=card.clearing_account,
        clearing_journal=card.clearing_journal,
        clearing_posting_delay=card.clearing_posting_delay)
    journal.save()
    return journal
