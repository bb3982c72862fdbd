# The quotation page's card through Stripe (registered with the ERP's
# account_payment_stripe): the browser turns the card into a Stripe payment
# method (pm_...) with Stripe Elements, so the card number never reaches our
# server; the page posts only that id.  On acceptance, before anything of
# ours is written, Stripe is asked to:
#   1. attach it to the party's Stripe customer (created with it, as the
#      ERP's own customers are, when the party has none yet): a card its bank
#      declines is refused here;
#   2. confirm a SetupIntent for off-session use: the bank's authentication
#      (3-D Secure) is asked now, while the customer is on the page, not at
#      the first charge; a card that needs it is refused with a message (the
#      page does not run stripe.confirmCardSetup);
#   3. tell brand, last 4 digits and expiry (add_stripe_method).
# Any refusal or an unreachable Stripe raises a translated message: the
# portal rolls back, the sale stays a quotation.  The accepted sale's first
# invoice is then charged off-session by StripeProcessor (payment_stripe.py)
# after the commit, as any contract's.
import logging
import re

import stripe

from trytond.i18n import gettext
from trytond.modules.account_payment_stripe.payment import STRIPE_VERSION
from trytond.pool import Pool, PoolMeta

from ..exceptions import QuotationPortalError, StripeMethodError
from .payment_stripe import _plain

logger = logging.getLogger(__name__)

# Stripe's ids are its prefix and letters and digits
PAYMENT_METHOD_ID = re.compile(r'^pm_[A-Za-z0-9]{8,100}$')


def _error(message_id):
    return QuotationPortalError(gettext(
            'sale_subscription_contract.' + message_id))


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    def portal_payment_journal(self):
        """A Stripe journal of the company wins: the test processor is for
        test and demo databases only"""
        Journal = Pool().get('account.payment.journal')
        journals = Journal.search([
                ('company', '=', self.company.id),
                ('process_method', '=', 'stripe'),
                ('stripe_account', '!=', None),
                ('stripe_account.publishable_key', '!=', None),
                ], limit=1)
        if journals:
            return journals[0]
        return super().portal_payment_journal()

    def portal_stripe_key(self):
        journal = self.portal_payment_journal()
        if journal and journal.process_method == 'stripe':
            return journal.stripe_account.publishable_key
        return super().portal_stripe_key()

    def _portal_payment_method(self, journal, card):
        if journal.process_method != 'stripe':
            return super()._portal_payment_method(journal, card)
        method_id = card.get('stripe_payment_method') or ''
        if set(card) != {'stripe_payment_method'} \
                or not PAYMENT_METHOD_ID.match(method_id):
            # card fields or a made-up id: never sent to Stripe
            raise _error('msg_quotation_stripe_card_invalid')
        options = {'api_key': journal.stripe_account.secret_key,
            'stripe_version': STRIPE_VERSION}
        try:
            customer = self._portal_stripe_attach(
                journal.stripe_account, method_id, options)
            self._portal_stripe_setup(customer, method_id, options)
            return Pool().get('sale.subscription.payment_method'
                ).add_stripe_method(journal, customer, method_id)
        except stripe.CardError as exception:
            logger.info("Stripe refused the card of %s: %s",
                self.rec_name, exception)
            raise _error('msg_quotation_stripe_card_declined')
        except stripe.InvalidRequestError as exception:
            # an unknown id, another account's, another customer's
            logger.warning("Stripe refused the payment method %s of %s: %s",
                method_id, self.rec_name, exception)
            raise _error('msg_quotation_stripe_card_invalid')
        except (stripe.StripeError, StripeMethodError) as exception:
            logger.warning("Stripe failed for %s: %s",
                self.rec_name, exception)
            raise _error('msg_quotation_stripe_unavailable')

    def _portal_stripe_attach(self, account, method_id, options):
        """The party's Stripe customer at account with the payment method
        attached (the customer created with it if the party has none)"""
        Customer = Pool().get('account.payment.stripe.customer')
        customers = Customer.search([
                ('party', '=', self.party.id),
                ('stripe_account', '=', account.id),
                ('stripe_customer_id', 'not in', [None, '']),
                ], order=[('id', 'ASC')], limit=1)
        if customers:
            customer, = customers
            stripe.PaymentMethod.attach(method_id,
                customer=customer.stripe_customer_id, **options)
            return customer
        customer = Customer(party=self.party, stripe_account=account)
        created = stripe.Customer.create(payment_method=method_id,
            **customer._customer_parameters(), **options)
        customer.stripe_customer_id = created.id
        customer.save()
        return customer

    def _portal_stripe_setup(self, customer, method_id, options):
        "Have the bank accept the card for off-session charges, or refuse"
        intent = _plain(stripe.SetupIntent.create(
                customer=customer.stripe_customer_id,
                payment_method=method_id, confirm=True, usage='off_session',
                payment_method_types=['card'],
                metadata={'sale': self.number or str(self.id)},
                **options))
        status = intent.get('status')
        if status == 'succeeded':
            return
        logger.info("Stripe setup intent %s of %s is %s",
            intent.get('id'), self.rec_name, status)
        if status == 'requires_action':
            raise _error('msg_quotation_stripe_authentication')
        raise _error('msg_quotation_stripe_card_declined')
