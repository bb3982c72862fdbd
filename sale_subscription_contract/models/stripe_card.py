# A card a customer enters in a portal page (the quotation's, a contract's
# card page) through Stripe (registered with the ERP's
# account_payment_stripe): the browser turns the card into a Stripe payment
# method (pm_...) with Stripe Elements, so the card number never reaches our
# server; the page posts only that id.  Before anything of ours is written,
# Stripe is asked to:
#   1. attach it to the party's Stripe customer (created with it, as the
#      ERP's own customers are, when the party has none yet): a card its bank
#      declines is refused here;
#   2. confirm a SetupIntent for off-session use: the bank's authentication
#      (3-D Secure) is asked now, while the customer is on the page, not at
#      the first charge.  When the bank asks for it, nothing is stored yet:
#      the page lets Stripe.js show the bank's window with the intent's
#      client secret (confirmCardSetup) and posts again with the intent's
#      id, which the server reads back from Stripe: confirmed, of this
#      document, for this card, of the party's Stripe customer;
#   3. tell brand, last 4 digits and expiry (add_stripe_method).
# Any refusal or an unreachable Stripe raises a translated message of the
# page (purpose): the portal rolls back, nothing is stored.
import logging
import re

import stripe

from trytond.i18n import gettext
from trytond.modules.account_payment_stripe.payment import STRIPE_VERSION
from trytond.pool import Pool, PoolMeta

from ..exceptions import (
    CardAuthenticationRequired, StripeCardError, StripeMethodError)
from .payment_stripe import _plain

logger = logging.getLogger(__name__)

# Stripe's ids are its prefix and letters and digits
PAYMENT_METHOD_ID = re.compile(r'^pm_[A-Za-z0-9]{8,100}$')
SETUP_INTENT_ID = re.compile(r'^seti_[A-Za-z0-9]{8,100}$')
# the fields a page posts: the payment method, and the setup intent once the
# bank's window confirmed the card
STRIPE_FIELDS = ['stripe_payment_method', 'stripe_setup_intent']


def stripe_journal(company):
    """The company's Stripe journal whose account has a publishable key
    (Stripe Elements needs it), or None"""
    Journal = Pool().get('account.payment.journal')
    journals = Journal.search([
            ('company', '=', company.id),
            ('process_method', '=', 'stripe'),
            ('stripe_account', '!=', None),
            ('stripe_account.publishable_key', '!=', None),
            ], limit=1)
    return journals[0] if journals else None


class PaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.subscription.payment_method'

    @classmethod
    def add_stripe_card(cls, journal, party, posted, metadata, purpose):
        """Store the card posted by a portal page (the values of
        STRIPE_FIELDS) for party through the Stripe journal; metadata names
        the document on the setup intent; purpose ('quotation', 'card')
        chooses the page's messages"""
        def error(reason):
            return StripeCardError(gettext(
                    'sale_subscription_contract.msg_%s_stripe_%s'
                    % (purpose, reason)))
        method_id = posted.get('stripe_payment_method') or ''
        setup_id = posted.get('stripe_setup_intent')
        if set(posted) - set(STRIPE_FIELDS) \
                or not PAYMENT_METHOD_ID.match(method_id) \
                or (setup_id is not None
                    and not SETUP_INTENT_ID.match(setup_id)):
            # card fields or a made-up id: never sent to Stripe
            raise error('card_invalid')
        account = journal.stripe_account
        options = {'api_key': account.secret_key,
            'stripe_version': STRIPE_VERSION}
        try:
            if setup_id:
                # the second post, once the bank's window confirmed the card
                customer = cls._stripe_confirmed(account, party, method_id,
                    setup_id, metadata, options, error)
            else:
                customer = cls._stripe_attach(
                    account, party, method_id, options)
                cls._stripe_setup(customer, method_id, metadata, options,
                    purpose, error)
            return cls.add_stripe_method(journal, customer, method_id)
        except stripe.CardError as exception:
            logger.info("Stripe refused the card of %s: %s",
                party.rec_name, exception)
            raise error('card_declined')
        except stripe.InvalidRequestError as exception:
            # an unknown id, another account's, another customer's
            logger.warning("Stripe refused the payment method %s of %s: %s",
                method_id, party.rec_name, exception)
            raise error('card_invalid')
        except (stripe.StripeError, StripeMethodError) as exception:
            logger.warning("Stripe failed for %s: %s",
                party.rec_name, exception)
            raise error('unavailable')

    @classmethod
    def _stripe_customer(cls, account, party):
        "The party's Stripe customer at account, or None"
        Customer = Pool().get('account.payment.stripe.customer')
        customers = Customer.search([
                ('party', '=', party.id),
                ('stripe_account', '=', account.id),
                ('stripe_customer_id', 'not in', [None, '']),
                ], order=[('id', 'ASC')], limit=1)
        return customers[0] if customers else None

    @classmethod
    def _stripe_attach(cls, account, party, method_id, options):
        """The party's Stripe customer at account with the payment method
        attached (the customer created with it if the party has none)"""
        Customer = Pool().get('account.payment.stripe.customer')
        customer = cls._stripe_customer(account, party)
        if customer:
            stripe.PaymentMethod.attach(method_id,
                customer=customer.stripe_customer_id, **options)
            return customer
        customer = Customer(party=party, stripe_account=account)
        created = stripe.Customer.create(payment_method=method_id,
            **customer._customer_parameters(), **options)
        customer.stripe_customer_id = created.id
        customer.save()
        return customer

    @classmethod
    def _stripe_setup(cls, customer, method_id, metadata, options, purpose,
            error):
        """Have the bank accept the card for off-session charges, or refuse,
        or ask the page to have the customer confirm it"""
        intent = _plain(stripe.SetupIntent.create(
                customer=customer.stripe_customer_id,
                payment_method=method_id, confirm=True, usage='off_session',
                payment_method_types=['card'], metadata=metadata,
                **options))
        status = intent.get('status')
        if status == 'succeeded':
            return
        logger.info("Stripe setup intent %s of %s is %s",
            intent.get('id'), customer.party.rec_name, status)
        if status == 'requires_action' and intent.get('client_secret'):
            raise CardAuthenticationRequired(
                gettext('sale_subscription_contract.msg_%s_stripe_'
                    'authentication' % purpose),
                intent['id'], intent['client_secret'])
        raise error('card_declined')

    @classmethod
    def _stripe_confirmed(cls, account, party, method_id, setup_id,
            metadata, options, error):
        """The party's Stripe customer of the setup intent setup_id, which
        the customer confirmed in the bank's window: read back from Stripe,
        it must be confirmed, of the document (metadata), for the card
        posted and of the party's Stripe customer (kept now if the first
        post made it at Stripe and was rolled back)"""
        Customer = Pool().get('account.payment.stripe.customer')
        intent = _plain(stripe.SetupIntent.retrieve(setup_id, **options))
        customer_id = intent.get('customer')
        known = cls._stripe_customer(account, party)
        if (intent.get('payment_method') != method_id
                or (intent.get('metadata') or {}) != metadata
                or intent.get('usage') != 'off_session'
                or not customer_id
                or (known and known.stripe_customer_id != customer_id)):
            logger.warning("Stripe setup intent %s does not fit %s",
                setup_id, party.rec_name)
            raise error('card_invalid')
        if intent.get('status') != 'succeeded':
            logger.info("Stripe setup intent %s of %s is %s",
                setup_id, party.rec_name, intent.get('status'))
            raise error('authentication_failed')
        if known:
            return known
        customer = Customer(party=party, stripe_account=account,
            stripe_customer_id=customer_id)
        customer.save()
        return customer


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    def portal_card_journal(self):
        """Without a card in use, a Stripe journal of the company wins: the
        test processor is for test and demo databases only"""
        if not (self.payment_method and self.payment_method.active):
            journal = stripe_journal(self.company)
            if journal:
                return journal
        return super().portal_card_journal()

    def portal_stripe_key(self):
        journal = self.portal_card_journal()
        if (journal and journal.process_method == 'stripe'
                and journal.stripe_account
                and journal.stripe_account.publishable_key):
            return journal.stripe_account.publishable_key
        return super().portal_stripe_key()
