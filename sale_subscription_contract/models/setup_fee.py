# One-time setup fees: a plan (its own product and price) or a recurring
# product (a price on its template) adds one extra line to the first invoice
# of a contract, and never again, also not after a reopen or a pause; the
# line is marked as a setup fee (one-time revenue in the KPIs).
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.product import price_digits
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval

from ..exceptions import LifecyclePlanError


class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    setup_fee_product = fields.Many2One(
        'product.product', "Setup Fee Product", ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        help="The service invoiced once with the first period of each "
        "contract on this plan (its account and taxes apply).")
    setup_fee_price = fields.Numeric(
        "Setup Fee", digits=price_digits,
        states={
            'required': Bool(Eval('setup_fee_product')),
            'invisible': ~Eval('setup_fee_product'),
            },
        help="The untaxed price of the setup fee, in the contract currency.")

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            if plan.setup_fee_product and (
                    plan.setup_fee_price is None or plan.setup_fee_price < 0):
                raise LifecyclePlanError(gettext(
                        'sale_subscription_contract.msg_plan_setup_fee_price',
                        plan=plan.rec_name))


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    subscription_setup_fee = fields.Numeric(
        "Subscription Setup Fee", digits=price_digits,
        domain=['OR',
            ('subscription_setup_fee', '=', None),
            ('subscription_setup_fee', '>=', 0),
            ],
        help="Invoiced once, with the first period, on each contract line "
        "of this recurring product (untaxed, with the product's taxes).")


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    setup_fee_invoiced = fields.Boolean(
        "Setup Fee Invoiced", readonly=True,
        help="The first invoice was written, with the setup fees of the "
        "plan and products if any; they are never invoiced again.")

    @classmethod
    def default_setup_fee_invoiced(cls):
        return False

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('setup_fee_invoiced', False)
        return super().copy(contracts, default=default)

    def _get_setup_fee_lines(self, invoice):
        """The unsaved invoice lines of the setup fees of plan and products
        (the billing run puts them on the contract's first invoice only)"""
        fees = []
        if self.plan.setup_fee_product:
            fees.append((self.plan.setup_fee_product, 1,
                    self.plan.setup_fee_price, None))
        for line in self.lines:
            product = line.service.product
            if product.template.subscription_setup_fee:
                fees.append((product, 1,
                        product.template.subscription_setup_fee, line))
        return [self._get_setup_fee_line(invoice, *f) for f in fees]

    def _get_setup_fee_line(self, invoice, product, quantity, price, origin):
        return self._new_invoice_line(invoice, product, quantity, price,
            gettext('sale_subscription_contract.msg_invoice_line_setup_fee',
                product=product.rec_name),
            origin=origin, subscription_setup_fee=True)


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    # a product's fee has the contract line as origin, as its periods have:
    # the revenue KPIs tell the one-time fee from the recurring line by this
    subscription_setup_fee = fields.Boolean(
        "Subscription Setup Fee", readonly=True,
        help="The line charges a contract's one-time setup fee (of its plan "
        "or of a product).")

    @classmethod
    def default_subscription_setup_fee(cls):
        return False
