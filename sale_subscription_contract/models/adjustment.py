# Prorated charges and credits of mid-period changes. Those due on the next
# invoice are stored here and settled by the billing run in the same
# transaction as that invoice; an invoice never goes below zero: a credit
# larger than the period is carried over to the next invoices.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from ..exceptions import BillingError


class Adjustment(ModelSQL, ModelView):
    __name__ = 'sale.subscription.adjustment'

    subscription = fields.Many2One(
        'sale.subscription', "Contract", required=True, readonly=True,
        ondelete='RESTRICT')
    line = fields.Many2One(
        'sale.subscription.line', "Contract Line", readonly=True,
        ondelete='RESTRICT',
        help="The contract line whose change is prorated.")
    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The day the change applies from.")
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The service product: its taxes and revenue account apply.")
    description = fields.Char(
        "Description", required=True, readonly=True,
        help="The text of the invoice line, naming the prorated days.")
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True,
        help="The untaxed amount: positive is charged, negative credited.")
    state = fields.Selection([
            ('pending', "Pending"),
            ('invoiced', "Invoiced"),
            ], "State", required=True, readonly=True, sort=False,
        help="Pending: due on the next invoice of the contract.")
    invoice_lines = fields.One2Many(
        'account.invoice.line', 'subscription_adjustment', "Invoice Lines",
        readonly=True)
    invoiced_on = fields.Date(
        "Invoiced On", readonly=True,
        help="The date of the invoice that settled the amount.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.subscription, Index.Equality()),
                (t.state, Index.Equality()), where=t.state == 'pending'))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'pending'

    def get_invoice_line(self, invoice, amount):
        "Return the unsaved invoice line that settles amount of self"
        # quantity 1 at the prorated amount: taxes come from the product
        return self.subscription._new_invoice_line(invoice, self.product, 1,
            amount, self.description, origin=self.line,
            subscription_adjustment=self)

    @classmethod
    def settle(cls, invoices):
        """Mark the adjustments invoiced by the saved invoices.

        The part of an adjustment left over (a credit larger than an
        invoice) stays pending as a new adjustment.
        """
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        lines = InvoiceLine.search([
                ('invoice', 'in', [i.id for i in invoices]),
                ('subscription_adjustment', '!=', None),
                ])
        applied = {}
        for line in lines:
            adjustment = line.subscription_adjustment
            total, date = applied.get(adjustment, (Decimal(0), None))
            date = max(filter(None, [date, line.invoice.invoice_date]))
            applied[adjustment] = (total + line.amount, date)
        rests = []
        for adjustment, (total, date) in applied.items():
            if adjustment.state != 'pending':
                # the database is the last word: never settled twice
                raise BillingError(gettext(
                        'sale_subscription_contract'
                        '.msg_adjustment_already_invoiced',
                        contract=adjustment.subscription.rec_name,
                        adjustment=adjustment.description))
            rest = adjustment.amount - total
            if rest:
                rest_adjustment, = cls.copy([adjustment], default={
                        'amount': rest,
                        'invoice_lines': None,
                        })
                rests.append(rest_adjustment)
            adjustment.amount = total
            adjustment.state = 'invoiced'
            adjustment.invoiced_on = date
        cls.save(list(applied))
        return rests


class ContractAdjustment(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    adjustments = fields.One2Many(
        'sale.subscription.adjustment', 'subscription', "Adjustments",
        readonly=True,
        help="Prorated charges and credits of mid-period changes.")

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('adjustments', None)
        return super().copy(contracts, default=default)

    def _pending_adjustments(self, run):
        """Return [adjustment, rest] for what the next invoices of run
        settle: read once per run, so that a catch-up run settles each
        amount once; charges come first so that credits can be deducted
        from them."""
        pool = Pool()
        Adjustment = pool.get('sale.subscription.adjustment')
        if run.adjustments is None:
            pending = []
            if self.id is not None and self.id >= 0:
                pending = Adjustment.search([
                        ('subscription', '=', self.id),
                        ('state', '=', 'pending'),
                        ], order=[('date', 'ASC'), ('id', 'ASC')])
            # a change being previewed adds its unsaved adjustments
            pending += run.simulated_adjustments
            pending.sort(key=lambda a: a.amount < 0)
            run.adjustments = [[a, a.amount] for a in pending]
        return run.adjustments

    def _get_adjustment_lines(self, invoice, lines, run):
        """The unsaved invoice lines settling the pending adjustments on an
        invoice with lines: an invoice never goes below zero, the rest of a
        larger credit is carried over to the next invoices"""
        total = sum((self.currency.round(
                    Decimal(str(l.quantity)) * l.unit_price) for l in lines),
            Decimal(0))
        adjustment_lines = []
        for entry in self._pending_adjustments(run):
            adjustment, rest = entry
            amount = rest
            if amount < 0:
                amount = max(amount, -total)
            if not amount:
                continue
            total += amount
            entry[1] = rest - amount
            adjustment_lines.append(
                adjustment.get_invoice_line(invoice, amount))
        return adjustment_lines

    def _adjustment_invoice(self, adjustments, date):
        "Return the unsaved invoice (or credit note) of adjustments"
        invoice = self._new_invoice(date)
        invoice.lines = [a.get_invoice_line(invoice, a.amount)
            for a in adjustments]
        return invoice

    def invoice_adjustments(self, adjustments, date):
        """Invoice the saved adjustments at once and post the invoice: a
        credit note when they credit more than they charge"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Adjustment = pool.get('sale.subscription.adjustment')
        invoice = self._adjustment_invoice(adjustments, date)
        invoice.save()
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post([invoice])
        Adjustment.settle([invoice])
        return invoice


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    subscription_adjustment = fields.Many2One(
        'sale.subscription.adjustment', "Subscription Adjustment",
        readonly=True, ondelete='RESTRICT',
        help="The prorated change of a contract this line settles.")

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default else {}
        # a copied or credited line settles nothing
        default.setdefault('subscription_adjustment', None)
        return super().copy(lines, default=default)
