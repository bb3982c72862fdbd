# Stripe behind the PaymentProcessor interface, through the ERP's
# account_payment_stripe: its Stripe account (secret key), customers and
# payment intent parameters are reused; only the charging is ours.
#
# Why not the ERP's Payment.stripe_charge: it commits the transaction after
# each payment, swallows connection errors into the log and fails the payment
# on any other error, and it charges from its own cron.  The charging code
# (payment.py) needs an answer per charge (succeeded, failed with a code, or
# unknown) to record the attempt, run the dunning and let the janitor settle
# unknown outcomes by key.  So our payments never carry what makes the ERP
# charge them: no stripe_customer_payment_method and no
# stripe_payment_intent_id are stored on them (its cron, webhooks and
# checkout e-mails look for those), and its process_stripe skips them.  Nor
# stripe_customer: saving a payment with it validates the payment method
# selection by listing the customer's methods at Stripe, a call in the
# billing transaction.
import logging

import stripe

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.account_payment_stripe.payment import STRIPE_VERSION
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from ..exceptions import ProcessorError, ProcessorTimeout, StripeMethodError
from .payment_processor import (
    FAILED, PROCESSORS, SUCCEEDED, UNKNOWN, ChargeResult, PaymentProcessor)

logger = logging.getLogger(__name__)

# Stripe's card brands (PaymentMethod.card.brand) → ours
_BRANDS = {'visa': 'visa', 'mastercard': 'mastercard', 'amex': 'amex'}


def _code(error):
    """Our error code of a Stripe error object: the decline code when the
    bank gave a specific one (insufficient_funds is card_declined with
    decline_code insufficient_funds at Stripe), else the error code"""
    code = error.get('code')
    decline = error.get('decline_code')
    if code == 'card_declined' and decline and decline != 'generic_decline':
        return decline
    return code or 'card_declined'


def _plain(answer):
    "The library's StripeObject as a dict (it has no dict methods)"
    return answer.to_dict() if hasattr(answer, 'to_dict') else answer


class StripeProcessor(PaymentProcessor):
    "Off-session payment intents on the customer's stored payment method"

    def _options(self):
        account = self.journal.stripe_account
        return {
            'api_key': account.secret_key,
            'stripe_version': STRIPE_VERSION,
            }

    def charge(self, payment, idempotency_key):
        method = payment.subscription_payment_method
        # the ERP builds amount (in the smallest unit), currency, customer
        # and description; the payment method is set on a copy in memory,
        # never stored on the payment (see the top of the file)
        intent_of = payment.__class__(payment.id)
        intent_of.stripe_customer = method.stripe_customer
        intent_of.stripe_customer_payment_method = method.token
        params = intent_of._payment_intent_parameters(off_session=True)
        params.update(self._options())
        params['idempotency_key'] = idempotency_key
        params['confirm'] = True
        # no customer is there to follow a redirect
        params['automatic_payment_methods'] = {
            'enabled': True, 'allow_redirects': 'never'}
        # the janitor finds the intent by this key (lookup)
        params['metadata'] = {
            'idempotency_key': idempotency_key,
            'invoice': payment.subscription_invoice.number,
            'contract': payment.subscription.rec_name,
            }
        try:
            intent = _plain(stripe.PaymentIntent.create(**params))
        except stripe.CardError as exception:
            error = (exception.json_body or {}).get('error') or {}
            intent = error.get('payment_intent') or {}
            return ChargeResult(FAILED, _code(error),
                error.get('message') or str(exception), intent.get('id'))
        except stripe.InvalidRequestError as exception:
            if exception.code == 'resource_missing':
                # the customer or the payment method is gone at Stripe
                return ChargeResult(FAILED, 'invalid_payment_method',
                    str(exception))
            # refused before anything was charged (e.g. a bad parameter)
            return ChargeResult(FAILED, exception.code or 'invalid_request',
                str(exception))
        except (stripe.APIConnectionError, stripe.RateLimitError) as exception:
            # the request may have reached Stripe: the outcome is unknown
            raise ProcessorTimeout(str(exception))
        except stripe.StripeError as exception:
            # an unreadable body, a server error, a wrong key: no result
            raise ProcessorError(str(exception))
        return self._result(intent, payment.stripe_amount,
            payment.currency.code)

    def lookup(self, idempotency_key):
        # Stripe has no look-up by idempotency key; the key is in the
        # metadata of the intents we create.  Search lags by up to a minute:
        # a miss sends payment.py to charge with the same key, which Stripe
        # answers with the first result for 24 hours instead of charging.
        query = "metadata['idempotency_key']:'%s'" % (
            idempotency_key.replace('\\', '\\\\').replace("'", "\\'"))
        try:
            found = _plain(stripe.PaymentIntent.search(query=query,
                    limit=10, **self._options()))
        except (stripe.APIConnectionError, stripe.RateLimitError) as exception:
            raise ProcessorTimeout(str(exception))
        except stripe.StripeError as exception:
            raise ProcessorError(str(exception))
        try:
            intents = [i for i in (found.get('data') or [])
                if (i.get('metadata') or {}).get('idempotency_key')
                == idempotency_key]
        except AttributeError:
            raise ProcessorError(repr(found)[:200])
        if not intents:
            return None
        # one key makes one intent; should there be more, a paid one wins
        intents.sort(key=lambda i: i.get('status') != 'succeeded')
        intent = intents[0]
        return self._result(intent, intent.get('amount'),
            (intent.get('currency') or '').upper())

    @staticmethod
    def _result(intent, amount, currency):
        "Map a payment intent to a ChargeResult"
        try:
            status = intent['status']
            reference = intent['id']
            ok = (intent['amount'] == amount
                and intent['currency'].upper() == currency.upper())
        except (KeyError, TypeError, AttributeError):
            raise ProcessorError(repr(intent)[:200])
        if not ok:
            # never book an intent for another amount as this payment
            raise ProcessorError(
                f"{reference}: {intent['amount']} {intent['currency']} "
                f"instead of {amount} {currency}")
        if status == 'succeeded':
            return ChargeResult(SUCCEEDED, reference=reference)
        if status in {'processing', 'requires_capture'}:
            # not final yet: the janitor looks it up again later
            return ChargeResult(UNKNOWN, status,
                f"Stripe payment intent {reference} is {status}.", reference)
        if status == 'requires_action':
            return ChargeResult(FAILED, 'authentication_required',
                "The bank asks the customer to authenticate the payment.",
                reference)
        if status == 'canceled':
            return ChargeResult(FAILED, 'payment_intent_canceled',
                f"Stripe payment intent {reference} was canceled.",
                reference)
        error = intent.get('last_payment_error') or {}
        if error:
            return ChargeResult(FAILED, _code(error), error.get('message'),
                reference)
        raise ProcessorError(f"{reference}: status {status}")


PROCESSORS['stripe'] = StripeProcessor


class PaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.subscription.payment_method'

    stripe_customer = fields.Many2One(
        'account.payment.stripe.customer', "Stripe Customer",
        readonly=True, ondelete='RESTRICT',
        domain=[('party', '=', Eval('party', -1))],
        states={'invisible': ~Eval('stripe_customer')},
        help="The customer at Stripe who holds the payment method; "
        "the token is then Stripe's payment method ID (pm_...).")

    @classmethod
    def add_stripe_method(cls, journal, customer, payment_method_id):
        """Store the Stripe payment method payment_method_id of customer
        (attached to it at Stripe, e.g. by the ERP's checkout) to charge
        through journal.  Stripe tells its brand, last 4 digits and expiry.
        """
        if (journal.process_method != 'stripe'
                or journal.stripe_account != customer.stripe_account
                or not customer.stripe_customer_id):
            raise StripeMethodError(gettext(
                    'sale_subscription_contract.msg_stripe_method_journal',
                    journal=journal.rec_name, customer=customer.rec_name))
        account = customer.stripe_account
        try:
            method = _plain(stripe.PaymentMethod.retrieve(payment_method_id,
                    api_key=account.secret_key,
                    stripe_version=STRIPE_VERSION))
        except stripe.StripeError as exception:
            raise StripeMethodError(gettext(
                    'sale_subscription_contract.msg_stripe_method_unknown',
                    method=payment_method_id, error=str(exception)))
        if method.get('customer') != customer.stripe_customer_id:
            raise StripeMethodError(gettext(
                    'sale_subscription_contract.msg_stripe_method_customer',
                    method=payment_method_id,
                    customer=customer.stripe_customer_id))
        card = method.get('card') or {}
        record = cls(company=journal.company, party=customer.party,
            journal=journal, stripe_customer=customer,
            token=method['id'], brand=_BRANDS.get(card.get('brand'), 'other'),
            last4=card.get('last4'), exp_month=card.get('exp_month'),
            exp_year=card.get('exp_year'))
        record.save()
        return record

    @classmethod
    def validate_fields(cls, methods, field_names):
        super().validate_fields(methods, field_names)
        for method in methods:
            if method.journal.process_method != 'stripe':
                continue
            customer = method.stripe_customer
            if (not customer or customer.party != method.party
                    or customer.stripe_account
                    != method.journal.stripe_account):
                raise StripeMethodError(gettext(
                        'sale_subscription_contract.msg_stripe_method_journal',
                        journal=method.journal.rec_name,
                        customer=customer.rec_name if customer else '-'))


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    def process_stripe(self):
        if self.subscription_key:
            # charged by payment.py's queue task after the commit, never by
            # the ERP's stripe_charge (see the top of the file)
            return
        super().process_stripe()

