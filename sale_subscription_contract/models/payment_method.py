# Stored payment methods: a customer's tokenised card at a processor, and
# the method each contract charges.  Only the token, brand, last 4 digits and
# expiry are kept; the card number never reaches the database.
import calendar
import datetime

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from ..exceptions import (
    CardExpiredError, CardNumberError, CardSecurityCodeError,
    PaymentMethodPartyError)
from .payment_processor import PROCESSORS

# the name printed on a card has at most 26 characters (ISO/IEC 7813)
HOLDER_SIZE = 26

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
    holder = fields.Char("Cardholder", size=HOLDER_SIZE, readonly=True,
        help="The name on the card, as the customer gave it.")

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
    def add_card(cls, party, journal, number, exp_month, exp_year,
            cvc=None, holder=None):
        """Tokenise a card at the journal's processor and store the method.

        Refused, and nothing stored, for an invalid number, a security code
        (cvc, checked when given, never stored) that is not 3 or 4 digits or
        a card that has already expired. A two-digit year is of this
        century, as printed on cards.
        """
        Date = Pool().get('ir.date')
        number = ''.join(str(number).split())
        processor = journal.subscription_processor()
        if processor is None or not hasattr(processor, 'tokenise'):
            raise CardNumberError(gettext(
                    'sale_subscription_contract.msg_journal_no_tokenise',
                    journal=journal.rec_name))
        try:
            year = int(exp_year)
            if 0 <= year < 100:
                year += 2000
            expiry = datetime.date(year, int(exp_month), 1)
        except (TypeError, ValueError):
            raise CardExpiredError(gettext(
                    'sale_subscription_contract.msg_card_expiry_invalid',
                    party=party.rec_name, month=exp_month, year=exp_year))
        if cvc is not None:
            cvc = str(cvc).strip()
            if not cvc.isdigit() or len(cvc) not in {3, 4}:
                raise CardSecurityCodeError(gettext(
                        'sale_subscription_contract.msg_card_cvc_invalid',
                        party=party.rec_name, last4=number[-4:]))
        method = cls(company=journal.company, party=party, journal=journal,
            exp_month=expiry.month, exp_year=expiry.year,
            holder=(holder or '').strip() or None)
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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'add_card_wizard': {
                    'invisible': (~Eval('state').in_(
                            ['draft', 'quotation', 'running', 'paused'])
                        | ~Bool(Eval('plan'))),
                    'icon': 'tryton-add',
                    'depends': ['state', 'plan'],
                    },
                })

    @classmethod
    @ModelView.button_action(
        'sale_subscription_contract.wizard_add_card')
    def add_card_wizard(cls, contracts):
        pass

    def portal_card_journal(self):
        """The journal whose processor stores the card a customer enters
        for the contract in the portal: the current card's, else the
        company's first that stores cards; None when there is none"""
        if self.payment_method and self.payment_method.active:
            return self.payment_method.journal
        return card_journal(self.company)

    def portal_stripe_key(self):
        """The publishable key of the Stripe account that takes the card
        in the portal (Stripe Elements), None for our own card fields"""
        return None

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


def tokenising_methods():
    "The process methods of the journals whose processor stores cards"
    return sorted(method for method, processor in PROCESSORS.items()
        if hasattr(processor, 'tokenise'))


def card_journal(company):
    "The company's first payment journal whose processor stores cards"
    Journal = Pool().get('account.payment.journal')
    journals = Journal.search([
            ('company', '=', company.id),
            ('process_method', 'in', tokenising_methods()),
            ], limit=1)
    return journals[0] if journals else None


class AddCardStart(ModelView):
    "The card a user types for a customer: passed once to the processor"
    __name__ = 'sale.subscription.payment_method.add_card.start'

    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    subscription = fields.Many2One('sale.subscription', "Contract",
        readonly=True,
        states={
            'invisible': ~Eval('subscription'),
            },
        help="The contract that is charged with the new card.")
    party = fields.Many2One('party.party', "Customer", required=True,
        context={'company': Eval('company', -1)}, depends={'company'},
        states={
            'readonly': Bool(Eval('subscription')),
            },
        help="The customer who owns the card.")
    journal = fields.Many2One('account.payment.journal', "Payment Journal",
        required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('process_method', 'in', tokenising_methods()),
            ],
        help="The journal whose card processor stores the card.")
    holder = fields.Char("Cardholder", size=HOLDER_SIZE,
        help="The name on the card.")
    number = fields.Char("Card Number", required=True, size=23,
        help="The digits on the front of the card; they go to the card "
        "processor and are never stored.")
    exp_month = fields.Integer("Expiry Month", required=True,
        domain=[If(Eval('exp_month'), [
                    ('exp_month', '>=', 1), ('exp_month', '<=', 12)], [])],
        help="The month of the expiry date on the card (1 to 12).")
    exp_year = fields.Integer("Expiry Year", required=True,
        help="The year of the expiry date on the card (e.g. 2030).")
    cvc = fields.Char("Security Code", required=True, size=4,
        help="The 3 or 4 digits on the back of the card (CVC); checked by "
        "the card processor, never stored.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class AddCard(Wizard):
    """Store a customer's card through the card processor of a payment
    journal; started from a contract, the card becomes its payment method"""
    __name__ = 'sale.subscription.payment_method.add_card'

    start = StateView(
        'sale.subscription.payment_method.add_card.start',
        'sale_subscription_contract.add_card_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Add Card", 'add', 'tryton-ok', default=True),
            ])
    add = StateTransition()

    def _contract(self):
        if self.model and self.model.__name__ == 'sale.subscription':
            return self.record

    def default_start(self, fields):
        pool = Pool()
        Journal = pool.get('account.payment.journal')
        values = {}
        contract = self._contract()
        if contract:
            values.update(subscription=contract.id,
                party=contract.party.id, company=contract.company.id)
        elif (self.model
                and self.model.__name__ == 'sale.subscription.payment_method'
                and self.record):
            # from a stored card: another card of the same customer
            values.update(party=self.record.party.id,
                journal=self.record.journal.id,
                company=self.record.company.id)
        company = values.get('company', Transaction().context.get('company'))
        if 'journal' not in values and company is not None:
            journals = Journal.search([
                    ('company', '=', company),
                    ('process_method', 'in', tokenising_methods()),
                    ], limit=2)
            if len(journals) == 1:
                values['journal'] = journals[0].id
        return values

    def transition_add(self):
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Method = pool.get('sale.subscription.payment_method')
        Party = pool.get('party.party')
        Journal = pool.get('account.payment.journal')
        start = self.start
        contract = self._contract()
        # the form's values come from the client: the customer is the
        # contract's or one the user may read, the journal a card journal of
        # the contract's company or of the company worked for (the journal
        # itself may be unreadable to sales: it is checked here, not read)
        if contract:
            party, company = contract.party, contract.company
        else:
            party = start.party
            with check_access():
                Party.read([party.id], ['id'])
            company = Transaction().context.get('company')
        journal = Journal(start.journal.id)
        if (company is None or journal.company.id != int(company)
                or journal.process_method not in tokenising_methods()):
            raise AccessError(gettext(
                    'sale_subscription_contract.msg_add_card_journal',
                    journal=journal.rec_name))
        method = Method.add_card(party, journal, start.number,
            start.exp_month, start.exp_year, cvc=start.cvc,
            holder=start.holder)
        # the wizard's session is stored: keep neither number nor code
        start.number = start.cvc = None
        if contract:
            contract = Contract(contract.id)
            contract.payment_method = method
            contract.save()
        return 'end'

    def end(self):
        return 'reload'
