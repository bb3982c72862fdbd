# The quotation page's card through Stripe (stripe_card.py): where the
# company has a Stripe journal with a publishable key, the quotation page
# takes the card with Stripe Elements and posts only Stripe's ids; the card
# is stored for the party by PaymentMethod.add_stripe_card before the sale
# is accepted (a refusal or the bank's confirmation pending: nothing is
# accepted).  The accepted sale's first invoice is then charged off-session
# by StripeProcessor (payment_stripe.py) after the commit, as any
# contract's.
from trytond.pool import Pool, PoolMeta

from .stripe_card import stripe_journal


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    def portal_payment_journal(self):
        """A Stripe journal of the company wins: the test processor is for
        test and demo databases only"""
        return (stripe_journal(self.company)
            or super().portal_payment_journal())

    def portal_stripe_key(self):
        journal = self.portal_payment_journal()
        if journal and journal.process_method == 'stripe':
            return journal.stripe_account.publishable_key
        return super().portal_stripe_key()

    def _portal_payment_method(self, journal, card):
        if journal.process_method != 'stripe':
            return super()._portal_payment_method(journal, card)
        Method = Pool().get('sale.subscription.payment_method')
        return Method.add_stripe_card(journal, self.party, card,
            metadata={'sale': self.number or str(self.id)},
            purpose='quotation')
