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
#      the first charge.  When the bank asks for it, nothing is accepted
#      yet: the page lets Stripe.js show the bank's window with the intent's
#      client secret (confirmCardSetup) and posts the acceptance again with
#      the intent's id, which the server reads back from Stripe: confirmed,
#      of this sale, for this card, of the party's Stripe customer;
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

from ..exceptions import (
    QuotationAuthenticationRequired, QuotationPortalError, StripeMethodError)
from .payment_stripe import _plain

logger = logging.getLogger(__name__)

# Stripe's ids are its prefix and letters and digits
PAYMENT_METHOD_ID = re.compile(r'^pm_[A-Za-z0-9]{8,100}$')
SETUP_INTENT_ID = re.compile(r'^seti_[A-Za-z0-9]{8,100}$')


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
        setup_id = card.get('stripe_setup_intent')
        if set(card) - {'stripe_payment_method', 'stripe_setup_intent'} \
                or not PAYMENT_METHOD_ID.match(method_id) \
                or (setup_id is not None
                    and not SETUP_INTENT_ID.match(setup_id)):
            # card fields or a made-up id: never sent to Stripe
            raise _error('msg_quotation_stripe_card_invalid')
        options = {'api_key': journal.stripe_account.secret_key,
            'stripe_version': STRIPE_VERSION}
        try:
            if setup_id:
                # the second post, once the bank's window confirmed the card
                customer = self._portal_stripe_confirmed(
                    journal.stripe_account, method_id, setup_id, options)
            else:
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

    def _portal_stripe_customer(self, account):
        "The party's Stripe customer at account, or None"
        Customer = Pool().get('account.payment.stripe.customer')
        customers = Customer.search([
                ('party', '=', self.party.id),
                ('stripe_account', '=', account.id),
                ('stripe_customer_id', 'not in', [None, '']),
                ], order=[('id', 'ASC')], limit=1)
        return customers[0] if customers else None

    def _portal_stripe_attach(self, account, method_id, options):
        """The party's Stripe customer at account with the payment method
        attached (the customer created with it if the party has none)"""
        Customer = Pool().get('account.payment.stripe.customer')
        customer = self._portal_stripe_customer(account)
        if customer:
            stripe.PaymentMethod.attach(method_id,
                customer=customer.stripe_customer_id, **options)
            return customer
        customer = Customer(party=self.party, stripe_account=account)
        created = stripe.Customer.create(payment_method=method_id,
            **customer._customer_parameters(), **options)
        customer.stripe_customer_id = created.id
        customer.save()
        return customer

    def _portal_stripe_reference(self):
        "What the setup intents of the sale carry as their metadata's sale"
        return self.number or str(self.id)

    def _portal_stripe_setup(self, customer, method_id, options):
        """Have the bank accept the card for off-session charges, or refuse,
        or ask the page to have the customer confirm it"""
        intent = _plain(stripe.SetupIntent.create(
                customer=customer.stripe_customer_id,
                payment_method=method_id, confirm=True, usage='off_session',
                payment_method_types=['card'],
                metadata={'sale': self._portal_stripe_reference()},
                **options))
        status = intent.get('status')
        if status == 'succeeded':
            return
        logger.info("Stripe setup intent %s of %s is %s",
            intent.get('id'), self.rec_name, status)
        if status == 'requires_action' and intent.get('client_secret'):
            raise QuotationAuthenticationRequired(
                gettext('sale_subscription_contract.'
                    'msg_quotation_stripe_authentication'),
                intent['id'], intent['client_secret'])
        raise _error('msg_quotation_stripe_card_declined')

    def _portal_stripe_confirmed(self, account, method_id, setup_id,
            options):
        """The party's Stripe customer of the setup intent setup_id, which
        the customer confirmed in the bank's window: read back from Stripe,
        it must be confirmed, of this sale, for the card posted and of the
        party's Stripe customer (kept now if the first post made it at
        Stripe and was rolled back)"""
        Customer = Pool().get('account.payment.stripe.customer')
        intent = _plain(stripe.SetupIntent.retrieve(setup_id, **options))
        customer_id = intent.get('customer')
        known = self._portal_stripe_customer(account)
        if (intent.get('payment_method') != method_id
                or (intent.get('metadata') or {}).get('sale')
                != self._portal_stripe_reference()
                or intent.get('usage') != 'off_session'
                or not customer_id
                or (known and known.stripe_customer_id != customer_id)):
            logger.warning("Stripe setup intent %s does not fit %s",
                setup_id, self.rec_name)
            raise _error('msg_quotation_stripe_card_invalid')
        if intent.get('status') != 'succeeded':
            logger.info("Stripe setup intent %s of %s is %s",
                setup_id, self.rec_name, intent.get('status'))
            raise _error('msg_quotation_stripe_authentication_failed')
        if known:
            return known
        customer = Customer(party=self.party, stripe_account=account,
            stripe_customer_id=customer_id)
        customer.save()
        return customer
