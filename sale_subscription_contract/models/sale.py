# Quotations that sell subscriptions: recurring lines carry a plan, and
# confirming the sale creates the contract for them.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.account.tax import TaxableMixin
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from ..exceptions import QuotationExpiredError, RecurringLineError
from .quotation_template import CONFIRMATIONS
from .sales_team import SalespersonMixin


class _LineSubset(TaxableMixin):
    "The taxes of some lines of a sale, computed by the ERP's tax engine"

    def __init__(self, sale, lines):
        self.company = sale.company
        self.currency = sale.currency
        self._sale = sale
        self._lines = lines

    @property
    def taxable_lines(self):
        return [t for l in self._lines for t in l.taxable_lines]

    def _get_tax_context(self):
        return self._sale._get_tax_context()

    @property
    def tax_date(self):
        return self._sale.tax_date

    def total(self):
        untaxed = sum((l.amount for l in self._lines), Decimal(0))
        taxes = sum(
            (t.amount for t in self._get_taxes().values()), Decimal(0))
        return self.currency.round(untaxed + taxes)


class Sale(SalespersonMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'

    subscription_plan = fields.Many2One(
        'sale.subscription.plan', "Subscription Plan", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            'required': (Bool(Eval('has_recurring_lines'))
                & (Eval('state') != 'draft')),
            },
        help="The plan of the contract that confirming the sale creates.")
    subscription_start_date = fields.Date(
        "Subscription Start",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('subscription_plan'),
            },
        help="The first day of the contract; empty for the sale date.")
    subscriptions = fields.One2Many(
        'sale.subscription', 'origin_sale', "Contracts", readonly=True)
    quotation_template = fields.Many2One(
        'sale.subscription.quotation_template', "Quotation Template",
        ondelete='SET NULL',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="Choosing a template fills the quotation with its plan, lines, "
        "optional products, validity and terms.")
    online_confirmation = fields.Selection(
        [(None, "")] + CONFIRMATIONS, "Online Confirmation", sort=False,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="How the customer confirms the quotation online.")
    options = fields.One2Many(
        'sale.sale.option', 'sale', "Options Offered",
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="Products offered but not included; the customer may add them.")
    has_recurring_lines = fields.Function(
        fields.Boolean("Has Recurring Lines"),
        'on_change_with_has_recurring_lines')
    recurring_amount = fields.Function(Monetary(
            "Recurring per Period (excl. taxes)", currency='currency',
            digits='currency',
            help="The untaxed amount invoiced each period."),
        'get_subscription_amounts')
    recurring_total = fields.Function(Monetary(
            "Recurring per Period (incl. taxes)", currency='currency',
            digits='currency',
            help="The amount with taxes invoiced each period."),
        'get_subscription_amounts')
    one_time_total = fields.Function(Monetary(
            "One-time Total (incl. taxes)", currency='currency',
            digits='currency',
            help="The amount with taxes of the one-time lines."),
        'get_subscription_amounts')
    first_invoice_total = fields.Function(Monetary(
            "First Invoice (incl. taxes)", currency='currency',
            digits='currency',
            help="What the customer pays at the start: the one-time lines "
            "and, when billed in advance, the first period."),
        'get_subscription_amounts')

    @fields.depends('quotation_template', 'state', 'company', 'party',
        'invoice_party', 'currency', 'sale_date', 'lines', 'options',
        'subscription_plan', 'quotation_validity', 'comment',
        'online_confirmation')
    def on_change_quotation_template(self):
        if self.quotation_template and self.state == 'draft':
            self.apply_template(self.quotation_template)

    def apply_template(self, template):
        "Fill the quotation from template; its lines replace the sale's"
        self.quotation_template = template
        if template.plan:
            self.subscription_plan = template.plan
        if template.validity is not None:
            # the ERP's own validity: quotation_expire and the cron that
            # cancels expired quotations work unchanged
            self.quotation_validity = template.validity
        self.online_confirmation = template.online_confirmation
        # the customer reads the terms and descriptions in their language
        language = (self.party.lang.code
            if self.party and self.party.lang else None)
        with Transaction().set_context(language=language):
            template = template.__class__(template.id)
            if template.terms:
                self.comment = template.terms
            self.lines = [l.get_sale_line(self) for l in template.lines]
            self.options = [o.get_sale_option(self) for o in template.options]

    @classmethod
    def confirm(cls, sales):
        for sale in sales:
            sale.check_quotation_expire()
        super().confirm(sales)

    def check_quotation_expire(self):
        # the ERP only compares the sale date with the expiry, and a
        # quotation may carry an earlier sale date: refuse by today's date
        pool = Pool()
        Date = pool.get('ir.date')
        Lang = pool.get('ir.lang')
        if self.state != 'quotation' or not self.quotation_expire:
            return
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        if today > self.quotation_expire:
            raise QuotationExpiredError(gettext(
                    'sale_subscription_contract.msg_sale_quotation_expired',
                    sale=self.rec_name,
                    date=Lang.get().strftime(self.quotation_expire)))

    @fields.depends('lines')
    def on_change_with_has_recurring_lines(self, name=None):
        return any(getattr(l, 'is_recurring', False)
            for l in (self.lines or []))

    @property
    def recurring_lines(self):
        return [l for l in self.line_lines if l.is_recurring]

    @property
    def one_time_lines(self):
        return [l for l in self.line_lines if not l.is_recurring]

    @classmethod
    def get_subscription_amounts(cls, sales, names):
        result = {n: {} for n in names}
        for sale in sales:
            recurring = _LineSubset(sale, sale.recurring_lines)
            one_time = _LineSubset(sale, sale.one_time_lines)
            values = {
                'recurring_amount': sale.currency.round(sum(
                        (l.amount for l in sale.recurring_lines),
                        Decimal(0))),
                'recurring_total': recurring.total(),
                'one_time_total': one_time.total(),
                }
            first = values['one_time_total']
            if (sale.subscription_plan
                    and sale.subscription_plan.billing_timing == 'advance'):
                first += values['recurring_total']
            values['first_invoice_total'] = first
            for name in names:
                result[name][sale.id] = values[name]
        return result

    def check_for_quotation(self):
        super().check_for_quotation()
        recurring = self.recurring_lines
        if recurring and not self.subscription_plan:
            raise RecurringLineError(gettext(
                    'sale_subscription_contract.msg_sale_plan_required',
                    sale=self.rec_name,
                    line=recurring[0].rec_name))
        for line in recurring:
            if (line.quantity or 0) <= 0:
                raise RecurringLineError(gettext(
                        'sale_subscription_contract'
                        '.msg_sale_recurring_quantity',
                        sale=self.rec_name, line=line.rec_name))
            if (line.unit_price or 0) < 0:
                raise RecurringLineError(gettext(
                        'sale_subscription_contract'
                        '.msg_sale_recurring_price',
                        sale=self.rec_name, line=line.rec_name))
        if recurring:
            self.subscription_plan.check_start_date(
                self.subscription_start_date or self.sale_date
                or self._today())

    def _today(self):
        Date = Pool().get('ir.date')
        return Date.today()

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        default.setdefault('subscriptions', None)
        return super().copy(sales, default=default)

    @classmethod
    def process(cls, sales):
        cls.create_subscriptions([s for s in sales
                if s.state in {'confirmed', 'processing', 'done'}])
        super().process(sales)

    @classmethod
    def create_subscriptions(cls, sales):
        "Create the contract of each sale with recurring lines, only once"
        pool = Pool()
        Contract = pool.get('sale.subscription')
        sales = [s for s in sales if s.recurring_lines]
        if not sales:
            return []
        cls.lock(sales)
        existing = {c.origin_sale.id for c in Contract.search([
                    ('origin_sale', 'in', [s.id for s in sales]),
                    ])}
        contracts = [s.get_subscription() for s in sales
            if s.id not in existing]
        Contract.save(contracts)
        Contract.quote(contracts)
        Contract.run(contracts)
        return contracts

    def get_subscription(self):
        pool = Pool()
        Contract = pool.get('sale.subscription')
        start_date = self.subscription_start_date or self.sale_date
        contract = Contract(
            company=self.company,
            party=self.party,
            invoice_party=self.invoice_party,
            invoice_address=self.invoice_address,
            contact=self.contact,
            currency=self.currency,
            payment_term=self.payment_term,
            plan=self.subscription_plan,
            invoice_recurrence=self.subscription_plan.recurrence,
            start_date=start_date,
            description=self.description,
            reference=self.reference,
            origin_sale=self,
            salesperson=self.salesperson,
            sales_team=self.sales_team,
            )
        contract.lines = [l.get_subscription_line(contract)
            for l in self.recurring_lines]
        return contract


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    is_recurring = fields.Function(
        fields.Boolean("Recurring",
            help="Invoiced every period by the contract, not by the sale."),
        'on_change_with_is_recurring')

    @fields.depends('type', 'product')
    def on_change_with_is_recurring(self, name=None):
        return bool(self.type == 'line' and self.product
            and self.product.subscription_services)

    def get_subscription_line(self, contract):
        "Return the unsaved contract line of this recurring line"
        Line = Pool().get('sale.subscription.line')
        return Line(
            service=self.product.subscription_services[0],
            description=self.description,
            quantity=self.quantity,
            unit=self.unit,
            unit_price=self.unit_price,
            start_date=contract.start_date,
            )

    def get_invoice_line(self):
        # the contract invoices recurring lines period by period
        if self.is_recurring and self.sale.subscription_plan:
            return []
        return super().get_invoice_line()
