# Upsell and downgrade quotations: a sale linked to a running contract whose
# confirmation changes that contract (prorated) instead of creating one.
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from ..exceptions import ChangeError


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    subscription_contract = fields.Many2One(
        'sale.subscription', "Contract to Change", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('party', '=', Eval('party', -1)),
            ('state', '=', 'running'),
            ('plan', '!=', None),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="An upsell quotation: confirming it adds its recurring lines "
        "to this contract (prorated from the subscription start) and, "
        "with another plan, switches the contract to it; "
        "no new contract is created.")
    subscription_changed = fields.Boolean(
        "Contract Changed", readonly=True,
        states={
            'invisible': ~Eval('subscription_contract'),
            },
        help="Whether the confirmation has changed the contract.")

    @fields.depends('subscription_contract', 'subscription_plan')
    def on_change_subscription_contract(self):
        if self.subscription_contract and not self.subscription_plan:
            self.subscription_plan = self.subscription_contract.plan

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        default.setdefault('subscription_changed', False)
        return super().copy(sales, default=default)

    def check_for_quotation(self):
        super().check_for_quotation()
        if self.subscription_contract and self.recurring_lines:
            # refuse a change the contract cannot take before it is sent
            self.get_subscription_change().check(
                customer=Transaction().context.get(
                    'subscription_customer', False))

    def get_subscription_change(self):
        """Return the change of the contract: each recurring line adds its
        quantity to the contract line of the same service and price, or is
        added as a new line"""
        contract = self.subscription_contract
        if contract.party != self.party:
            raise ChangeError(gettext(
                    'sale_subscription_contract.msg_change_sale_party',
                    sale=self.rec_name, contract=contract.rec_name))
        date = self.subscription_start_date or self.sale_date or self._today()
        plan = self.subscription_plan
        change = contract.get_change(date, plan=plan)
        active = change._active_lines()
        lines = []
        for sale_line in self.recurring_lines:
            service = sale_line.product.subscription_services[0]
            match = [l for l in active if l.service == service
                and l.unit_price == sale_line.unit_price]
            if match and plan == contract.plan:
                line = match[0]
                lines.append({'line': line,
                        'quantity': line.quantity + sale_line.quantity})
            else:
                lines.append({'service': service,
                        'quantity': sale_line.quantity,
                        'unit_price': sale_line.unit_price})
        return contract.get_change(date, lines=lines, plan=plan)

    @classmethod
    def create_subscriptions(cls, sales):
        changes = [s for s in sales
            if s.subscription_contract and s.recurring_lines]
        contracts = super().create_subscriptions(
            [s for s in sales if s not in changes])
        if changes:
            cls.lock(changes)
            customer = Transaction().context.get(
                'subscription_customer', False)
            for sale in changes:
                # process() runs more than once: change the contract once
                if sale.subscription_changed:
                    continue
                sale.get_subscription_change().apply(customer=customer)
                sale.subscription_changed = True
            cls.save(changes)
        return contracts
