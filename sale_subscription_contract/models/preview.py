# Invoice preview (dry run): the next invoices the billing run would write
# for a contract, built by the same code as the real run but never saved.
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import without_check_access
from trytond.wizard import Button, StateView, Wizard

from ..exceptions import PreviewError
from .billing import InvoicingRun

# a preview is computed on the fly: keep it bounded
MAX_PREVIEW = 36


class ContractPreview(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # read-only, for the customer portal to come
        cls.__rpc__['preview_invoices'] = RPC(instantiate=0, readonly=True)
        cls._buttons.update({
                'preview': {
                    'invisible': ~Eval('state').in_(['running', 'closed'])
                    | ~Bool(Eval('plan')),
                    'icon': 'tryton-print',
                    'depends': ['state', 'plan'],
                    },
                })

    @classmethod
    @ModelView.button_action(
        'sale_subscription_contract.wizard_contract_preview')
    def preview(cls, contracts):
        pass

    def preview_invoices(self, count=3):
        """Return the next count invoices the billing run would write.

        Each is a dict with the period (start, end, billed end), its billing
        date, the invoice date, the lines and the untaxed, tax and total
        amounts computed by the ERP's tax engine on the unsaved invoice.
        Nothing is written and the contract is left unchanged.

        Over RPC the caller must be allowed to read the contract (its access
        and record rules, e.g. its company); the preview is then computed as
        the billing run would, like a button.
        """
        # read access and record rules of the caller (a no-op in Python
        # code, which runs without access checks)
        if self.id is not None and self.id >= 0:
            self.__class__.read([self.id], ['id'])
        with without_check_access():
            return self._preview_invoices(count, InvoicingRun(self))

    def _preview_invoices(self, count, run):
        """The preview of the next count invoices, built in run (which may
        carry the unsaved adjustments of a change being previewed)"""
        pool = Pool()
        Date = pool.get('ir.date')
        if count is None or not 0 <= count <= MAX_PREVIEW:
            raise PreviewError(gettext(
                    'sale_subscription_contract.msg_preview_count',
                    count=count, maximum=MAX_PREVIEW))
        # the same condition as update_next_billing_date: only these
        # contracts are billed by the run
        if not self.plan or self.state not in {'running', 'closed'}:
            return []
        today = Date.today()
        result = []
        index = self.billing_index or 0
        while len(result) < count:
            period = self.period_at(index)
            if period is None:
                break
            start, end, billed_end = period
            billing_date = self.billing_date_of(start, billed_end)
            # the run dates its invoices on the run: a period already due
            # is invoiced by the next run, today
            invoice_date = max(billing_date, today)
            invoice = self._get_period_invoice(
                start, end, billed_end, invoice_date, run)
            result.append(self._preview_invoice(
                    invoice, start, end, billed_end, billing_date))
            index += 1
        return result

    def _preview_invoice(self, invoice, start, end, billed_end, billing_date):
        "Return the preview of an unsaved invoice with its taxes computed"
        # the fields that a saved invoice gets from its defaults and that
        # the tax engine reads
        invoice.accounting_date = None
        invoice.taxes = []
        invoice.party_lang = invoice.on_change_with_party_lang()
        for line in invoice.lines:
            line.taxes_date = None
            line.amount = line.on_change_with_amount()
        # the same computation as the saved invoice's tax lines
        invoice.on_change_lines()
        return {
            'period_start': start,
            'period_end': end,
            'billed_end': billed_end,
            'billing_date': billing_date,
            'invoice_date': invoice.invoice_date,
            'currency': invoice.currency.id,
            'lines': [{
                    'description': line.description,
                    'product': line.product.id if line.product else None,
                    'quantity': line.quantity,
                    'unit': line.unit.id if line.unit else None,
                    'unit_price': line.unit_price,
                    'amount': line.amount,
                    } for line in invoice.lines],
            'taxes': [{
                    'description': tax.description,
                    'tax': tax.tax.id if tax.tax else None,
                    'base': tax.base,
                    'amount': tax.amount,
                    } for tax in invoice.taxes],
            'untaxed_amount': invoice.untaxed_amount,
            'tax_amount': invoice.tax_amount,
            'total_amount': invoice.total_amount,
            }


class PreviewStart(ModelView):
    __name__ = 'sale.subscription.preview.start'

    contract = fields.Many2One(
        'sale.subscription', "Contract", readonly=True,
        states={'invisible': True},
        help="The contract whose invoices are shown.")
    count = fields.Integer(
        "Invoices", required=True,
        domain=[
            ('count', '>=', 1),
            ('count', '<=', MAX_PREVIEW),
            ],
        help="How many of the next invoices to show.")
    invoices = fields.One2Many(
        'sale.subscription.preview.invoice', None, "Next Invoices",
        readonly=True,
        help="The invoices the billing run would write, one per period; "
        "nothing is saved.")
    lines = fields.One2Many(
        'sale.subscription.preview.line', None, "Invoice Lines",
        readonly=True,
        help="The lines of the next invoices.")

    @classmethod
    def default_count(cls):
        return 3

    @fields.depends('contract', 'count')
    def preview_values(self):
        "Return the values of the invoices and of the lines to show"
        if (not self.contract or not self.count
                or not 1 <= self.count <= MAX_PREVIEW):
            return [], []
        invoices, lines = [], []
        for invoice in self.contract.preview_invoices(self.count):
            invoices.append({
                    'period_start': invoice['period_start'],
                    'period_end': invoice['billed_end'],
                    'invoice_date': invoice['invoice_date'],
                    'currency': invoice['currency'],
                    'untaxed_amount': invoice['untaxed_amount'],
                    'tax_amount': invoice['tax_amount'],
                    'total_amount': invoice['total_amount'],
                    })
            for line in invoice['lines']:
                lines.append({
                        'invoice_date': invoice['invoice_date'],
                        'currency': invoice['currency'],
                        **line,
                        })
        return invoices, lines

    @fields.depends(methods=['preview_values'])
    def on_change_with_invoices(self):
        Invoice = Pool().get('sale.subscription.preview.invoice')
        return [Invoice(**v) for v in self.preview_values()[0]]

    @fields.depends(methods=['preview_values'])
    def on_change_with_lines(self):
        Line = Pool().get('sale.subscription.preview.line')
        return [Line(**v) for v in self.preview_values()[1]]


class PreviewInvoice(ModelView):
    __name__ = 'sale.subscription.preview.invoice'

    period_start = fields.Date(
        "Period Start", readonly=True,
        help="The first day of the service period.")
    period_end = fields.Date(
        "Period End", readonly=True,
        help="The last day of the service period that is invoiced.")
    invoice_date = fields.Date(
        "Invoice Date", readonly=True,
        help="The day the billing run invoices the period.")
    currency = fields.Many2One(
        'currency.currency', "Currency", readonly=True,
        help="The currency of the invoice.")
    untaxed_amount = Monetary(
        "Untaxed", currency='currency', digits='currency', readonly=True,
        help="The sum of the line amounts.")
    tax_amount = Monetary(
        "Tax", currency='currency', digits='currency', readonly=True,
        help="The taxes as the invoice will compute them.")
    total_amount = Monetary(
        "Total", currency='currency', digits='currency', readonly=True,
        help="The amount the customer will be invoiced.")


class PreviewLine(ModelView):
    __name__ = 'sale.subscription.preview.line'

    invoice_date = fields.Date(
        "Invoice Date", readonly=True,
        help="The day the billing run invoices the line's period.")
    description = fields.Text(
        "Description", readonly=True,
        help="The text of the invoice line, naming its service period.")
    product = fields.Many2One(
        'product.product', "Product", readonly=True,
        help="The product of the subscribed service.")
    quantity = fields.Float(
        "Quantity", digits='unit', readonly=True,
        help="The quantity of the contract line.")
    unit = fields.Many2One(
        'product.uom', "Unit", readonly=True,
        help="The unit of the quantity.")
    currency = fields.Many2One(
        'currency.currency', "Currency", readonly=True,
        help="The currency of the invoice.")
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits, readonly=True,
        help="The price of the period, prorated when the contract ends "
        "within it.")
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="The untaxed amount of the line.")


class Preview(Wizard):
    __name__ = 'sale.subscription.preview'

    start = StateView(
        'sale.subscription.preview.start',
        'sale_subscription_contract.preview_start_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        Start = Pool().get('sale.subscription.preview.start')
        start = Start(contract=self.record, count=Start.default_count())
        invoices, lines = start.preview_values()
        return {
            'contract': self.record.id,
            'count': start.count,
            'invoices': invoices,
            'lines': lines,
            }
