# Quotation templates: a ready-made offer (plan, lines, optional products,
# validity, terms) that fills a new quotation in one step.
import datetime

from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, sequence_ordered, fields)
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .sizes import NAME_SIZE

CONFIRMATIONS = [
    ('signature', "Signature"),
    ('payment', "Payment"),
    ('both', "Signature and Payment"),
    ('none', "None"),
    ]


class QuotationTemplate(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'sale.subscription.quotation_template'

    name = fields.Char(
        "Name", required=True, translate=True, size=NAME_SIZE,
        help="The name sales people choose the template by.")
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE',
        help="The company whose quotations use the template.")
    plan = fields.Many2One(
        'sale.subscription.plan', "Plan", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The subscription plan of the quotation; "
        "needed when the template has recurring lines.")
    lines = fields.One2Many(
        'sale.subscription.quotation_template.line', 'template', "Lines",
        help="The products the quotation includes.")
    options = fields.One2Many(
        'sale.subscription.quotation_template.option', 'template',
        "Optional Products",
        help="Products offered with the quotation but not included; "
        "the customer may add them.")
    validity_days = fields.Integer(
        "Validity (Days)",
        domain=['OR',
            ('validity_days', '=', None),
            ('validity_days', '>=', 0),
            ],
        help="How many days after it is sent the quotation can be "
        "confirmed; empty for the sale configuration's validity.")
    online_confirmation = fields.Selection(
        CONFIRMATIONS, "Online Confirmation", required=True, sort=False,
        help="How the customer confirms the quotation online.")
    terms = fields.Text(
        "Terms and Conditions", translate=True,
        help="Printed on the quotation, in the customer's language.")
    note = fields.Text(
        "Note", help="For sales people; not shown to the customer.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_online_confirmation(cls):
        return 'signature'

    @property
    def validity(self):
        if self.validity_days is not None:
            return datetime.timedelta(days=self.validity_days)


class _TemplateProductMixin:
    "The fields shared by the included and the optional products"
    __slots__ = ()

    template = fields.Many2One(
        'sale.subscription.quotation_template', "Template", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('salable', '=', True)],
        help="The product sold; a subscription service is recurring.")
    quantity = fields.Float(
        "Quantity", digits='unit', required=True,
        domain=[('quantity', '>', 0)],
        help="In the product's sale unit.")
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits,
        help="Replaces the product's sale price; "
        "empty to use the product's price.")
    description = fields.Text(
        "Description", translate=True,
        help="Replaces the product's name on the quotation.")
    is_recurring = fields.Function(
        fields.Boolean("Recurring",
            help="Invoiced every period by the contract."),
        'on_change_with_is_recurring')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # read and changed by who may read and change the template
        cls.__access__.add('template')

    @classmethod
    def default_quantity(cls):
        return 1

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.sale_uom if self.product else None

    @fields.depends('product')
    def on_change_with_is_recurring(self, name=None):
        return bool(self.product and self.product.subscription_services)

    def get_sale_line(self, sale):
        "A sale line priced by the ERP, then with the template's price"
        SaleLine = Pool().get('sale.line')
        line = SaleLine(sale=sale, type='line', product=self.product,
            quantity=self.quantity)
        line.on_change_product()
        if self.unit_price is not None:
            line.unit_price = self.unit_price
        if self.description:
            line.description = self.description
        line.amount = line.on_change_with_amount()
        return line


class QuotationTemplateLine(
        _TemplateProductMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'sale.subscription.quotation_template.line'


class QuotationTemplateOption(
        _TemplateProductMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'sale.subscription.quotation_template.option'

    def get_sale_option(self, sale):
        Option = Pool().get('sale.sale.option')
        # priced as a line would be, so that adding it later costs the same
        line = self.get_sale_line(sale)
        return Option(product=self.product, quantity=self.quantity,
            unit_price=line.unit_price, description=self.description)


class SaleOption(sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'sale.sale.option'

    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('salable', '=', True)],
        help="The product offered, not included in the sale.")
    quantity = fields.Float(
        "Quantity", digits='unit', required=True,
        domain=[('quantity', '>', 0)],
        help="In the product's sale unit.")
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits, required=True,
        help="The price if the customer adds the product.")
    description = fields.Text(
        "Description", help="Replaces the product's name.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # part of the sale: who may read and change the sale may too
        cls.__access__.add('sale')

    @classmethod
    def default_quantity(cls):
        return 1

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.sale_uom if self.product else None
