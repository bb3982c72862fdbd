# Card processors behind one small interface, so that the charging code
# (payment.py) never knows which gateway it talks to.  A processor answers
# charge(payment, idempotency_key) and lookup(idempotency_key) with a
# ChargeResult; a gateway that sees the same key twice must return the first
# result instead of charging again (Stripe does, and so does the test
# processor below).  Stripe plugs in by registering a processor for its
# process_method in PROCESSORS.
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from stdnum import luhn

import trytond.config as config
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from ..exceptions import (
    CardNumberError, ProcessorError, ProcessorTimeout,
    TestProcessorDisabledError)

# the outcome of a charge as the charging code understands it
SUCCEEDED, FAILED, UNKNOWN = 'succeeded', 'failed', 'unknown'
# error codes (Stripe's names) a retry with the same card cannot fix
HARD_DECLINES = {
    'card_declined', 'expired_card', 'incorrect_number', 'stolen_card',
    'lost_card', 'invalid_payment_method',
    # the bank wants the customer to authenticate (3-D Secure): an
    # off-session retry of the same card meets the same demand
    'authentication_required'}


@dataclass
class ChargeResult:
    status: str  # SUCCEEDED, FAILED or UNKNOWN
    code: str = None  # the gateway's error code
    message: str = None  # the gateway's message, for the log
    reference: str = None  # the gateway's id of the charge

    @property
    def retryable(self):
        return self.status == FAILED and self.code not in HARD_DECLINES


class PaymentProcessor:
    "What a gateway offers to the charging code"

    def __init__(self, journal):
        self.journal = journal

    def charge(self, payment, idempotency_key):
        "Charge payment.amount on its method; raise on no or bad answer"
        raise NotImplementedError

    def lookup(self, idempotency_key):
        "The result of an earlier charge with that key, None if unknown"
        raise NotImplementedError


# Stripe's well-known test numbers (https://docs.stripe.com/testing) and
# what the test processor does with them
TEST_CARDS = {
    '4242424242424242': 'succeed',  # Visa, success
    '5555555555554444': 'succeed',  # Mastercard, success
    '4000000000000002': 'card_declined',  # hard decline
    '4000000000009995': 'insufficient_funds',  # soft decline, retryable
    '4000000000000069': 'expired_card',  # the bank says expired
    # not Stripe's: a charge that is booked at the gateway but whose answer
    # never arrives (timeout); the janitor finds it by its key
    '4000000000000119': 'timeout',
    # not Stripe's: the gateway answers garbage
    '4000000000000101': 'garbage',
    }
_MESSAGES = {
    'card_declined': "Your card was declined.",
    'insufficient_funds': "Your card has insufficient funds.",
    'expired_card': "Your card has expired.",
    }


def card_brand(number):
    if number.startswith('4'):
        return 'visa'
    if number[:2] in {'51', '52', '53', '54', '55'} or number[:4].isdigit() \
            and 2221 <= int(number[:4]) <= 2720:
        return 'mastercard'
    if number[:2] in {'34', '37'}:
        return 'amex'
    return 'other'


class TestCard(ModelSQL, ModelView):
    "The test gateway's card vault: what it knows behind a token"
    __name__ = 'sale.subscription.test_card'

    token = fields.Char("Token", required=True, readonly=True)
    behaviour = fields.Selection([
            ('succeed', "Succeed"),
            ('card_declined', "Card Declined"),
            ('insufficient_funds', "Insufficient Funds"),
            ('expired_card', "Expired Card"),
            ('timeout', "Timeout"),
            ('garbage', "Garbage Answer"),
            ], "Behaviour", required=True,
        help="What the test gateway does when the card is charged; change it "
        "to simulate e.g. a customer whose account was topped up.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'sale_subscription_contract.msg_test_card_token_unique'),
            ]


class TestCharge(ModelSQL, ModelView):
    "A charge booked by the test gateway, keyed by its idempotency key"
    __name__ = 'sale.subscription.test_charge'

    idempotency_key = fields.Char("Idempotency Key", required=True,
        readonly=True)
    token = fields.Char("Token", required=True, readonly=True)
    amount = fields.Numeric("Amount", required=True, readonly=True)
    currency = fields.Char("Currency", required=True, readonly=True)
    status = fields.Selection([
            (SUCCEEDED, "Succeeded"),
            (FAILED, "Failed"),
            ], "Status", required=True, readonly=True)
    code = fields.Char("Code", readonly=True)
    message = fields.Char("Message", readonly=True)
    reference = fields.Char("Reference", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.idempotency_key),
                'sale_subscription_contract.msg_test_charge_key_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.token, Index.Equality())))

    def result(self):
        return ChargeResult(self.status, self.code, self.message,
            self.reference)


class TestProcessor(PaymentProcessor):
    """A card gateway in the database for the demo and the tests.

    It keeps only a token and its behaviour per card (see TEST_CARDS), and
    its charges keyed by idempotency key, so charging twice with one key
    returns the first result and books nothing more.

    It works only where the server's configuration says the databases are
    for tests or a demo (`[subscription] test_processor = True`): a
    production database must never take a fake payment for a real one.
    """

    def __init__(self, journal):
        super().__init__(journal)
        if not config.getboolean(
                'subscription', 'test_processor', default=False):
            raise TestProcessorDisabledError(gettext(
                    'sale_subscription_contract'
                    '.msg_test_processor_disabled',
                    journal=journal.rec_name))

    def tokenise(self, number, exp_month, exp_year):
        "Return (token, brand, last4) of a card number; never keep it"
        Card = Pool().get('sale.subscription.test_card')
        number = ''.join(number.split())
        if not number.isdigit() or not 12 <= len(number) <= 19 \
                or not luhn.is_valid(number):
            raise CardNumberError(gettext(
                    'sale_subscription_contract.msg_card_number_invalid',
                    last4=number[-4:]))
        token = 'tok_test_' + uuid.uuid4().hex[:24]
        Card(token=token,
            behaviour=TEST_CARDS.get(number, 'succeed')).save()
        return token, card_brand(number), number[-4:]

    @staticmethod
    @contextmanager
    def _gateway():
        """The transaction the gateway books in.

        A real gateway is an external system: a charge it booked stays
        booked when the worker that asked dies before committing. On
        PostgreSQL with queue workers the test gateway books in a
        transaction of its own, committed before it answers, so that a
        killed worker is retried against a gateway that remembers the key
        (tests/test_worker_crash.py would prove nothing otherwise).
        When tasks run in-process (the test suite, whose transactions are
        rolled back, and SQLite, which has one writer) it books in the
        caller's transaction.
        """
        if (backend.name == 'postgresql'
                and config.getboolean('queue', 'worker', default=False)):
            # committed on leaving the block, rolled back on an exception
            with Transaction().new_transaction():
                yield
        else:
            yield

    def charge(self, payment, idempotency_key):
        method = payment.subscription_payment_method
        token, amount = method.token, Decimal(payment.amount)
        currency = payment.currency.code
        with self._gateway():
            charge, behaviour = self._book(
                idempotency_key, token, amount, currency)
            # read before the gateway's transaction ends
            result = charge.result() if charge else None
        if charge is None:
            raise ProcessorError('<html>502 Bad Gateway</html>')
        if behaviour == 'timeout':
            # booked, but the answer is lost on the way back
            raise ProcessorTimeout(idempotency_key)
        return result

    def _book(self, idempotency_key, token, amount, currency):
        """Return (charge, behaviour): the charge booked with the key, the
        first one if the key was seen before; None for a garbage answer"""
        pool = Pool()
        Card = pool.get('sale.subscription.test_card')
        Charge = pool.get('sale.subscription.test_charge')
        previous = Charge.search(
            [('idempotency_key', '=', idempotency_key)], limit=1)
        if previous:
            return previous[0], None
        cards = Card.search([('token', '=', token)], limit=1)
        behaviour = cards[0].behaviour if cards else 'invalid'
        if behaviour == 'garbage':
            return None, behaviour
        if behaviour in {'succeed', 'timeout'}:
            values = {'status': SUCCEEDED}
        elif behaviour == 'invalid':
            values = {'status': FAILED, 'code': 'invalid_payment_method',
                'message': "No such token."}
        else:
            values = {'status': FAILED, 'code': behaviour,
                'message': _MESSAGES[behaviour]}
        charge = Charge(idempotency_key=idempotency_key, token=token,
            amount=amount, currency=currency,
            reference='ch_test_' + uuid.uuid4().hex[:24], **values)
        charge.save()
        return charge, behaviour

    def lookup(self, idempotency_key):
        Charge = Pool().get('sale.subscription.test_charge')
        with self._gateway():
            charges = Charge.search(
                [('idempotency_key', '=', idempotency_key)], limit=1)
            result = charges[0].result() if charges else None
        return result


# process_method of account.payment.journal → processor class
PROCESSORS = {
    'subscription_test': TestProcessor,
    }


class Journal(metaclass=PoolMeta):
    __name__ = 'account.payment.journal'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.process_method.selection.append(
            ('subscription_test', "Subscription Test Card Processor"))

    def subscription_processor(self):
        "The processor that charges the payments of this journal or None"
        processor = PROCESSORS.get(self.process_method)
        return processor(self) if processor else None


class Group(metaclass=PoolMeta):
    __name__ = 'account.payment.group'

    def process_subscription_test(self):
        # the gateway is called by a queue task after the transaction that
        # created the payments committed (see payment.py), never here
        pass
