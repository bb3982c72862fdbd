# What a customer may change on a contract of a plan, the plans a contract
# may switch to, and when the prorated difference of a change is invoiced.
from trytond.model import ModelSQL, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

CUSTOMER_ACCESS = [
    ('restricted', "Restricted"),
    ('upgrade', "Upgrade"),
    ('upgrade_downgrade', "Upgrade and Downgrade"),
    ]


class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    customer_access = fields.Selection(
        CUSTOMER_ACCESS, "Customer Changes", required=True, sort=False,
        help="What customers may change on their contracts themselves.\n"
        "Restricted: nothing.\n"
        "Upgrade: add options, increase quantities, move to a dearer "
        "related plan.\n"
        "Upgrade and Downgrade: also remove options, decrease quantities "
        "and move to a cheaper related plan.")
    related_plans = fields.Many2Many(
        'sale.subscription.plan-related', 'plan', 'related',
        "Related Plans",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('id', '!=', Eval('id', -1)),
            ],
        help="The plans a contract on this plan may switch to.")
    upgrade_invoicing = fields.Selection([
            ('immediately', "Immediately"),
            ('next_invoice', "On the Next Invoice"),
            ], "Upgrade Invoicing", required=True, sort=False,
        help="When the prorated rest of the paid period is invoiced "
        "after an upgrade.")
    downgrade_credit = fields.Selection([
            ('next_invoice', "On the Next Invoice"),
            ('credit_note', "Credit Note"),
            ], "Downgrade Credit", required=True, sort=False,
        help="How the prorated rest of the paid period is credited after "
        "a downgrade: deducted from the next invoices (never below zero) "
        "or refunded at once by a credit note.")

    @classmethod
    def default_customer_access(cls):
        return 'upgrade'

    @classmethod
    def default_upgrade_invoicing(cls):
        return 'immediately'

    @classmethod
    def default_downgrade_credit(cls):
        return 'next_invoice'


class PlanRelated(ModelSQL):
    __name__ = 'sale.subscription.plan-related'

    plan = fields.Many2One(
        'sale.subscription.plan', "Plan", required=True, ondelete='CASCADE')
    related = fields.Many2One(
        'sale.subscription.plan', "Related Plan", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')
