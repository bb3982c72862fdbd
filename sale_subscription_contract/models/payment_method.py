# Stored payment methods: a customer's tokenised card at a processor, and
# the method each contract charges.  Only the token, brand, last 4 digits and
# expiry are kept; the card number never reaches the database.
import calendar
import datetime

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from ..exceptions import (
    CardExpiredError, CardNumberError, PaymentMethodPartyError)

_BRANDS = {
    'visa': "Visa",
    'mastercard': "Mastercard",
    'amex': "American Express",
    'other': "Card",
    }


class PaymentMethod(DeactivableMixin, ModelSQL, ModelView):
    "A customer's stored card, known to its processor by a token"
    __name__ = 'sale.subscription.payment_method'

    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    party = fields.Many2One('party.party', "Customer", required=True,
        readonly=True, ondelete='CASCADE',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The customer who owns the card.")
    journal = fields.Many2One('account.payment.journal', "Payment Journal",
        required=True, readonly=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The journal whose processor holds the card.")
    token = fields.Char("Token", required=True, readonly=True,
        help="The processor's reference of the card; "
        "the card number itself is never stored.")
    brand = fields.Selection(list(_BRANDS.items()), "Brand", readonly=True)
    last4 = fields.Char("Last 4 Digits", size=4, readonly=True)
    exp_month = fields.Integer("Expiry Month", readonly=True,
        domain=[If(Eval('exp_month'), [
                    ('exp_month', '>=', 1), ('exp_month', '<=', 12)], [])])
    exp_year = fields.Integer("Expiry Year", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('party', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        # masked as customers know it from their statements
        return f"{_BRANDS.get(self.brand, 'Card')} •••• {self.last4 or '????'}"

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('last4', *clause[1:])]

    @property
    def expires_on(self):
        "The last day the card can be charged"
        if not self.exp_year or not self.exp_month:
            return None
        return datetime.date(self.exp_year, self.exp_month,
            calendar.monthrange(self.exp_year, self.exp_month)[1])

    def is_expired(self, date):
        return bool(self.expires_on and self.expires_on < date)

    def usable(self, date):
        return bool(self.active and self.token and not self.is_expired(date))

    @classmethod
    def add_card(cls, party, journal, number, exp_month, exp_year):
        """Tokenise a card at the journal's processor and store the method.

        Refused, and nothing stored, for an invalid number or a card that has
        already expired.
        """
        Date = Pool().get('ir.date')
        number = ''.join(str(number).split())
        processor = journal.subscription_processor()
        if processor is None or not hasattr(processor, 'tokenise'):
            raise CardNumberError(gettext(
                    'sale_subscription_contract.msg_journal_no_tokenise',
                    journal=journal.rec_name))
        try:
            expiry = datetime.date(int(exp_year), int(exp_month), 1)
        except (TypeError, ValueError):
            raise CardExpiredError(gettext(
                    'sale_subscription_contract.msg_card_expiry_invalid',
                    party=party.rec_name, month=exp_month, year=exp_year))
        method = cls(company=journal.company, party=party, journal=journal,
            exp_month=expiry.month, exp_year=expiry.year)
        if method.is_expired(Date.today()):
            raise CardExpiredError(gettext(
                    'sale_subscription_contract.msg_card_expired',
                    party=party.rec_name, last4=number[-4:],
                    expiry=f"{expiry.month:02d}/{expiry.year}"))
        method.token, method.brand, method.last4 = processor.tokenise(
            number, expiry.month, expiry.year)
        method.save()
        return method


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    payment_method = fields.Many2One(
        'sale.subscription.payment_method', "Payment Method",
        ondelete='RESTRICT',
        domain=[
            ('party', '=', Eval('party', -1)),
            ('company', '=', Eval('company', -1)),
            ],
        help="The customer's stored card charged for each invoice "
        "when the plan charges a payment method.")

    def has_payment_method(self):
        "Whether a usable payment method is set to charge"
        return bool(self.payment_method
            and self.payment_method.party == self.party
            and self.payment_method.usable(self._today()))

    @classmethod
    def validate_fields(cls, contracts, field_names):
        super().validate_fields(contracts, field_names)
        if field_names and not (field_names & {'payment_method', 'party'}):
            return
        for contract in contracts:
            method = contract.payment_method
            if method and method.party != contract.party:
                raise PaymentMethodPartyError(gettext(
                        'sale_subscription_contract'
                        '.msg_payment_method_other_party',
                        contract=contract.rec_name,
                        method=method.rec_name,
                        owner=method.party.rec_name,
                        party=contract.party.rec_name))
