# Price lists (the ERP's product_price_list and sale_price_list) on
# contracts: the quotation's price list prices the contract lines, and the
# contract keeps it to price the lines added later.
from trytond.model import fields
from trytond.modules.product import round_price
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    price_list = fields.Many2One(
        'product.price_list', "Price List", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The price list that prices the lines of the contract; "
        "taken from the quotation.")


class ContractLine(metaclass=PoolMeta):
    __name__ = 'sale.subscription.line'

    @fields.depends('subscription', '_parent_subscription.price_list')
    def _get_context_sale_price(self):
        context = super()._get_context_sale_price()
        if self.subscription and getattr(
                self.subscription, 'price_list', None):
            context['price_list'] = self.subscription.price_list.id
        return context


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    def get_subscription(self):
        contract = super().get_subscription()
        contract.price_list = self.price_list
        return contract


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    @fields.depends('sale', '_parent_sale.price_list',
        methods=['compute_unit_price'])
    def compute_base_price(self):
        # with a price list the customer's price is the base of a discount:
        # "-20 % for 3 months" ends on the price list price, not on the
        # catalogue price
        if self.product and self.sale and getattr(
                self.sale, 'price_list', None):
            price = self.compute_unit_price()
            if price is not None:
                return round_price(price)
        return super().compute_base_price()
