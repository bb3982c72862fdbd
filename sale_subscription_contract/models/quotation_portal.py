# The sale's side of the customer portal's quotation page (portal/
# quotation.py): the secure link e-mailed by "Send by E-mail", the options
# the customer ticks in or out, the acceptance (signature and/or card) that
# confirms the sale through the ERP's workflow, and the customer's questions
# or decline posted on the sale's chat with a notification to the
# salesperson.
import base64
import datetime
import json
from itertools import groupby

from sql import Null

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from ..exceptions import QuotationPortalError
from .access_token import claim_once
from .customer_email import render_template
from .payment_method import card_journal

# what a customer may type or draw: more is refused, never truncated
NAME_SIZE = 100
MESSAGE_SIZE = 2000
SIGNATURE_SIZE = 200_000  # bytes of PNG
PNG = b'\x89PNG\r\n\x1a\n'
DATA_URL = 'data:image/png;base64,'


def _error(message_id, **values):
    return QuotationPortalError(gettext(
            'sale_subscription_contract.' + message_id, **values))


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    signer_name = fields.Char(
        "Signed By", readonly=True,
        help="The name the customer signed the quotation with online.")
    signature = fields.Binary(
        "Signature", readonly=True, file_id=None,
        help="The signature the customer drew online (PNG).")
    signed_at = fields.DateTime(
        "Signed At", readonly=True,
        help="When the customer accepted the quotation online.")
    signer_ip = fields.Char(
        "Signed From", readonly=True,
        help="The IP address the customer accepted the quotation from.")
    portal_payment_method = fields.Many2One(
        'sale.subscription.payment_method', "Card Given Online",
        readonly=True, ondelete='RESTRICT',
        help="The card the customer gave when accepting the quotation "
        "online; the contract charges it.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_quotation': {
                    'invisible': ~Eval('state').in_(['draft', 'quotation']),
                    'icon': 'tryton-email',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        for name in ['signer_name', 'signature', 'signed_at', 'signer_ip',
                'portal_payment_method']:
            default.setdefault(name, None)
        return super().copy(sales, default=default)

    # -- the e-mail with the link -------------------------------------------
    @classmethod
    @ModelView.button
    def send_quotation(cls, sales):
        "Quote the drafts, then e-mail each customer the PDF and a link"
        cls.quote([s for s in sales if s.state == 'draft'])
        for sale in cls.browse(sales):
            sale._send_quotation()

    def quotation_link_expiry(self):
        "The link expires with the quotation (UTC, end of its last day)"
        AccessToken = Pool().get('sale.subscription.access_token')
        if self.quotation_expire:
            return datetime.datetime.combine(
                self.quotation_expire + datetime.timedelta(days=1),
                datetime.time())
        return AccessToken._now() + AccessToken.validity()

    def quotation_token(self):
        "Return the token of a new secure link to the quotation page"
        AccessToken = Pool().get('sale.subscription.access_token')
        token, _ = AccessToken.new(None, 'quotation', sale=self,
            expires_at=self.quotation_link_expiry())
        return token

    def quotation_link(self):
        "Return a new secure link to the quotation page"
        Contract = Pool().get('sale.subscription')
        return '%s/quotation/%s' % (Contract.portal_url(),
            self.quotation_token())

    def _send_quotation(self):
        """E-mail the quotation through the ERP's ir.email: logged on the
        sale and sent by SMTP only once the transaction committed (one
        e-mail at a click, unlike the billing run's outbox)"""
        pool = Pool()
        Email = pool.get('ir.email')
        Template = pool.get('ir.email.template')
        ModelData = pool.get('ir.model.data')
        Report = pool.get('ir.action.report')
        email = self.party.email
        if not email:
            raise _error('msg_quotation_no_email',
                sale=self.rec_name, party=self.party.rec_name)
        link = self.quotation_link()
        language = self.party.lang.code if self.party.lang else None
        with Transaction().set_context(language=language):
            template = Template(ModelData.get_id(
                    'sale_subscription_contract',
                    'email_template_quotation'))
            sale = self.__class__(self.id)
            values = {'record': sale, 'link': link}
            subject = ' '.join(render_template(
                    template, 'subject', values).split())
            body = render_template(template, 'body', values)
            report = Report(ModelData.get_id('sale_subscription_contract',
                    'report_subscription_quotation_pdf'))
            Email.send(to=email, subject=subject, body=body,
                record=(self.__name__, self.id), reports=[report.id])

    # -- the page's actions -------------------------------------------------
    @property
    def portal_open(self):
        "The customer may still change, accept or decline the quotation"
        return self.state == 'quotation' and not self._quotation_expired()

    def _quotation_expired(self):
        Date = Pool().get('ir.date')
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        return bool(self.quotation_expire and today > self.quotation_expire)

    def _check_open(self):
        "Refuse a change once accepted, declined, cancelled or expired"
        if self.state in {'confirmed', 'processing', 'done'}:
            raise _error('msg_quotation_already_accepted')
        if not self.portal_open:
            raise _error('msg_quotation_closed', sale=self.rec_name)

    def _claim(self, accepting=False):
        """Claim the quotation in one UPDATE that only an open quotation
        (and, accepting, an unsigned one) matches, then read it again: of
        two submits at the same moment the second waits for the first and
        matches nothing (on PostgreSQL its UPDATE fails with a
        serialization error once the first committed, told here as that)"""
        self._check_open()
        # read before the UPDATE: after a serialization failure PostgreSQL
        # answers no more queries in this transaction
        refused = _error('msg_quotation_already_accepted')
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        columns, values = [], []
        if accepting:
            columns, values = ['signed_at'], [now]

        def open_quotation(table):
            where = table.state == 'quotation'
            if accepting:
                where &= table.signed_at == Null
            return where
        if not claim_once(self.__class__, self.id, columns, values,
                open_quotation):
            raise refused
        sale = self.__class__(self.id)
        sale._check_open()
        return sale

    @property
    def portal_included_options(self):
        "The ids of the options the customer added"
        return {l.portal_option.id for l in self.lines
            if getattr(l, 'portal_option', None)}

    def portal_set_option(self, option_id, included):
        """Add (included) or remove the line of the sale's option; the
        quotation goes back to draft for it and is quoted again, as a
        salesperson would do"""
        pool = Pool()
        Option = pool.get('sale.sale.option')
        Line = pool.get('sale.line')
        sale = self._claim()
        options = [o for o in sale.options if o.id == option_id]
        if not options:
            raise _error('msg_quotation_option_unknown')
        option, = options
        lines = [l for l in sale.lines
            if l.portal_option and l.portal_option.id == option.id]
        if bool(lines) == included:
            return sale
        self.__class__.draft([sale])
        if included:
            line = Line(sale=sale, type='line', product=option.product,
                quantity=option.quantity, portal_option=Option(option.id))
            line.on_change_product()
            line.unit_price = option.unit_price
            if option.description:
                line.description = option.description
            line.save()
        else:
            Line.delete(lines)
        self.__class__.quote([sale])
        return self.__class__(sale.id)

    def portal_accept(self, name, signature, ip, card=None):
        """Accept the quotation as its online confirmation asks and confirm
        it: processing (a queue task after commit) creates the contract,
        with the card given (card: holder, number, exp_month, exp_year,
        cvc) as its payment method"""
        sale = self._claim(accepting=True)
        name = (name or '').strip()
        mode = sale.online_confirmation or 'none'
        if mode in {'payment', 'both'}:
            sale.portal_payment_method = sale._portal_card(card or {})
        if mode in {'signature', 'both'}:
            if not name:
                raise _error('msg_quotation_name_required')
            if len(name) > NAME_SIZE:
                raise _error('msg_quotation_name_too_long', size=NAME_SIZE)
            # drawn, or the typed name alone
            sale.signature = self._signature_image(signature)
            sale.signer_name = name
        sale.signer_ip = (ip or '')[:45] or None
        sale.save()
        self.__class__.confirm([sale])
        return sale

    def portal_payment_journal(self):
        "The payment journal that takes the card on the quotation page"
        return card_journal(self.company)

    def portal_stripe_key(self):
        """The publishable key of the Stripe account that takes the card on
        the page (Stripe Elements), None for our own card fields"""
        return None

    def _portal_card(self, card):
        """Store the customer's card through the company's card processor
        (refused with the processor's reason, nothing stored)"""
        journal = self.portal_payment_journal()
        if not journal:
            raise _error('msg_quotation_payment_unavailable',
                sale=self.rec_name)
        return self._portal_payment_method(journal, card)

    def _portal_payment_method(self, journal, card):
        "The payment method of card (the form's fields) through journal"
        Method = Pool().get('sale.subscription.payment_method')
        for value in card.values():
            if len(value or '') > NAME_SIZE:
                raise _error('msg_quotation_card_invalid')
        if not (card.get('number') or '').replace(' ', '').isdigit():
            raise _error('msg_quotation_card_invalid')
        for name, lowest, highest in [
                ('exp_month', 1, 12), ('exp_year', 2000, 2100)]:
            value = str(card.get(name) or '')
            if not (value.isascii() and value.isdigit()
                    and lowest <= int(value) <= highest):
                raise _error('msg_quotation_card_invalid')
        return Method.add_card(self.party, journal, card['number'],
            card.get('exp_month'), card.get('exp_year'),
            cvc=card.get('cvc') or '', holder=card.get('holder'))

    def get_subscription(self):
        contract = super().get_subscription()
        if self.portal_payment_method:
            contract.payment_method = self.portal_payment_method
        return contract

    @classmethod
    def create_subscriptions(cls, sales):
        """A quotation paid online has its first invoice billed at once
        (its charge to the card is queued after the commit, as the billing
        run queues it), not at the next nightly run"""
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Date = pool.get('ir.date')
        contracts = super().create_subscriptions(sales)
        paid = [c for c in contracts if c.origin_sale.portal_payment_method]
        for company, group in groupby(
                sorted(paid, key=lambda c: c.company.id),
                key=lambda c: c.company):
            with Transaction().set_context(
                    company=company.id, companies=[company.id]):
                today = Date.today()
                due = [c.id for c in group
                    if c.next_billing_date and c.next_billing_date <= today]
                if due:
                    Contract.bill(Contract.claim(due, today), today)
        return contracts

    @classmethod
    def process(cls, sales):
        super().process(sales)
        cls.charge_one_time_invoices(sales)

    @classmethod
    def charge_one_time_invoices(cls, sales):
        """The first payment the quotation page showed covers the one-time
        lines too: the sale's own invoice of them (made by the ERP's
        processing, in draft) is posted and charged to the card given online,
        queued like the contract's first charge. Only a draft invoice is
        charged, so processing the sale again charges nothing twice."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Payment = pool.get('account.payment')
        Contract = pool.get('sale.subscription')
        # read again: processing has just made the invoices
        paid = [s for s in cls.browse([s.id for s in sales])
            if s.portal_payment_method and s.state in {'processing', 'done'}]
        if not paid:
            return
        contracts = {c.origin_sale.id: c for c in Contract.search([
                    ('origin_sale', 'in', [s.id for s in paid]),
                    ])}
        for sale in paid:
            drafts = [i for i in sale.invoices
                if i.state in {'draft', 'validated'} and i.total_amount > 0]
            contract = contracts.get(sale.id)
            if not drafts or not contract:
                continue
            with Transaction().set_context(company=sale.company.id,
                    companies=[sale.company.id]):
                Invoice.post(drafts)
                payments = [p for p in (contract.new_charge(i)
                        for i in Invoice.browse(drafts)) if p]
                if payments:
                    Payment.subscription_start(payments)

    @staticmethod
    def _signature_image(value):
        "The PNG of a drawn signature (a data URL), None if not drawn"
        if not value:
            return None
        if not value.startswith(DATA_URL):
            raise _error('msg_quotation_signature_invalid')
        try:
            data = base64.b64decode(value[len(DATA_URL):], validate=True)
        except ValueError:
            raise _error('msg_quotation_signature_invalid')
        if len(data) > SIGNATURE_SIZE or not data.startswith(PNG):
            raise _error('msg_quotation_signature_invalid')
        return data

    def portal_post(self, kind, text):
        """Post the customer's question or decline on the sale's chat and
        notify the salesperson; a decline cancels the quotation"""
        pool = Pool()
        Channel = pool.get('ir.chat.channel')
        Message = pool.get('ir.chat.message')
        sale = self._claim()
        text = (text or '').strip()
        if not text:
            raise _error('msg_quotation_message_required')
        if len(text) > MESSAGE_SIZE:
            raise _error('msg_quotation_message_too_long', size=MESSAGE_SIZE)
        if kind == 'decline':
            content = gettext(
                'sale_subscription_contract.msg_quotation_declined_chat',
                reason=text)
        else:
            content = text
        if not sale.party.email:
            # the chat knows an author by user or e-mail; the link was
            # e-mailed, so the customer has one unless it was removed since
            raise _error('msg_quotation_no_email',
                sale=sale.rec_name, party=sale.party.rec_name)
        channel = Channel._get_channel(str(sale))
        message = Message(channel=channel, content=content,
            audience='public', email=sale.party.email)
        message.save()
        # the followers (and the salesperson below) are told as in sao
        Channel.dispatch_message(message, lambda u: False)
        sale._notify_salesperson(kind, text)
        if kind == 'decline':
            self.__class__.cancel([sale])
        return sale

    def _notify_salesperson(self, kind, text):
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('res.notification')
        if not self.salesperson:
            return
        notifications = []
        for user in User.search([('employees', '=', self.salesperson.id)]):
            # in the salesperson's language, not the customer's
            with Transaction().set_context(
                    language=user.language.code if user.language else None):
                label = gettext(
                    'sale_subscription_contract.msg_quotation_notify_'
                    + ('decline' if kind == 'decline' else 'question'),
                    sale=self.rec_name, party=self.party.rec_name)
            notifications.append(Notification(user=user, label=label,
                    description=text[:200], icon='tryton-sale',
                    model=self.__name__, records=json.dumps([self.id])))
        Notification.save(notifications)

    def portal_messages(self):
        "The public messages of the sale's chat, oldest first"
        Message = Pool().get('ir.chat.message')
        return Message.search([
                ('channel.resource', '=', str(self)),
                ('audience', '=', 'public'),
                ], order=[('id', 'ASC')])


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    portal_option = fields.Many2One(
        'sale.sale.option', "Added Option", readonly=True,
        ondelete='SET NULL',
        help="The option offered the customer added on the quotation page.")
