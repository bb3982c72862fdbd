# Free trials: a plan may start its contracts with N free days. The first
# period starts the day after the trial (the billing anchor moves there);
# the contract counts as a trial, not in the MRR, until it is converted.
import datetime
from decimal import Decimal

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    trial_days = fields.Integer(
        "Trial Days",
        domain=['OR',
            ('trial_days', '=', None),
            ('trial_days', '>=', 0),
            ],
        help="Free days at the start of each contract: nothing is invoiced "
        "before they have passed; the first period starts the day after.")
    trial_end_action = fields.Selection([
            ('invoice', "Invoice"),
            ('close', "Close"),
            ], "At Trial End Without Payment Method", sort=False,
        states={
            'invisible': ~Eval('trial_days'),
            'required': Eval('trial_days', 0) > 0,
            },
        help="What happens when the trial ends and the customer has no "
        "payment method: invoice the first period anyway, "
        "or close the contract at the end of the trial.")

    @classmethod
    def default_trial_end_action(cls):
        return 'invoice'


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    trial = fields.Boolean(
        "Trial", readonly=True,
        help="The contract is in its free trial (or ended in it); "
        "it does not count in the MRR until converted.")
    trial_end_date = fields.Date(
        "Trial End", readonly=True,
        states={
            'invisible': ~Eval('trial_end_date'),
            },
        help="The last free day; the first period starts the day after.")

    @classmethod
    def default_trial(cls):
        return False

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('trial', False)
        default.setdefault('trial_end_date', None)
        return super().copy(contracts, default=default)

    def has_payment_method(self):
        """Whether the customer has a payment method to charge.

        Hook for the payment-methods feature, which overrides it; until then
        no contract has one, so the plan's trial end action decides.
        """
        return False

    @classmethod
    def run(cls, contracts):
        # set before the run: it anchors the periods on billing_anchor; a
        # trial logs no MRR event (it is not revenue) but its MRR reads 0,
        # not empty: the form, the lists and their sums show 0.00
        trials = [c for c in contracts
            if c.state == 'quotation' and c.plan and c.plan.trial_days
            and not c.trial_end_date]
        for contract in trials:
            contract.trial = True
            contract.trial_end_date = contract.start_date + datetime.timedelta(
                days=contract.plan.trial_days - 1)
            contract.billing_anchor = (
                contract.trial_end_date + datetime.timedelta(days=1))
            contract.billing_index = 0
            contract.mrr = Decimal(0)
            if contract.plan.duration == 'fixed' and not contract.end_date:
                # the paid term follows the trial
                _, contract.end_date = contract.plan.period(
                    contract.billing_anchor,
                    contract.plan.duration_periods - 1)
        cls.save(trials)
        super().run(contracts)

    def compute_mrr(self, date, discounts=True):
        if self.trial:
            return Decimal(0)
        return super().compute_mrr(date, discounts=discounts)

    @classmethod
    def record_mrr(cls, contracts, date, kind=None, close_reason=None,
            description=None, discounts=True):
        # a trial never counted: closing it is not a churn of revenue
        contracts = [c for c in contracts if not c.trial]
        return super().record_mrr(contracts, date, kind=kind,
            close_reason=close_reason, description=description,
            discounts=discounts)

    @classmethod
    def end_trials(cls, date):
        """Convert or close the running trials whose last day is before date.

        Converted: the 'new' MRR event is dated the day after the trial.
        Without a payment method, a plan set to close ends the contract on
        the last day of the trial, with nothing to invoice.
        """
        contracts = cls.search([
                ('trial', '=', True),
                ('state', '=', 'running'),
                ('trial_end_date', '<', date),
                ('company', '=', Transaction().context.get('company')),
                ])
        converted = []
        for contract in contracts:
            if (contract.plan.trial_end_action == 'close'
                    and not contract.has_payment_method()):
                cls.close_contracts([contract], None, contract.trial_end_date)
            else:
                converted.append(contract)
        cls.convert_trials(converted)
        return contracts

    @classmethod
    def convert_trials(cls, contracts):
        "End the trial of contracts: from now on they count in the MRR"
        for contract in contracts:
            contract.trial = False
        cls.save(contracts)
        for contract in contracts:
            cls.record_mrr([contract],
                contract.trial_end_date + datetime.timedelta(days=1))
