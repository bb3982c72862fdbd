# A subscription plan: how often a contract is billed, when, for how long and how.
import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pyson import Eval
from trytond.transaction import Transaction

from ..exceptions import PlanError
from .sizes import NAME_SIZE

# relativedelta keyword for each rule frequency of sale_subscription
_UNITS = {
    'daily': 'days',
    'weekly': 'weeks',
    'monthly': 'months',
    'yearly': 'years',
    }
# how many periods of one unit fit in a year, to normalise to a month
_PER_YEAR = {
    'daily': Decimal(365),
    'weekly': Decimal(52),
    'monthly': Decimal(12),
    'yearly': Decimal(1),
    }


class Plan(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'sale.subscription.plan'

    name = fields.Char(
        "Name", required=True, translate=True, size=NAME_SIZE,
        help="The name customers and sales people see.")
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE',
        help="The company that sells the plan.")
    recurrence = fields.Many2One(
        'sale.subscription.recurrence.rule.set', "Recurrence",
        required=True, ondelete='RESTRICT',
        help="How often contracts on this plan are billed.")
    billing_timing = fields.Selection([
            ('advance', "In Advance"),
            ('arrears', "In Arrears"),
            ], "Billing", required=True, sort=False,
        help="In advance: a period is invoiced when it starts.\n"
        "In arrears: a period is invoiced when it has ended.")
    duration = fields.Selection([
            ('open', "Open-ended"),
            ('fixed', "Fixed"),
            ], "Duration", required=True, sort=False,
        help="Whether contracts run until closed or for a number of periods.")
    duration_periods = fields.Integer(
        "Periods",
        domain=[
            ('duration_periods', '>', 0),
            ],
        states={
            'required': Eval('duration') == 'fixed',
            'invisible': Eval('duration') != 'fixed',
            },
        help="How many periods a fixed-term contract lasts.")
    invoicing_mode = fields.Selection([
            ('invoice', "Send Invoice"),
            ('charge', "Charge Payment Method"),
            ], "Invoicing Mode", required=True, sort=False,
        help="Send the invoice to the customer, "
        "or charge the customer's stored payment method.")
    customer_can_close = fields.Boolean(
        "Customer May Close",
        help="Whether customers may close their contract themselves.")
    description = fields.Text(
        "Description", translate=True,
        help="Shown to customers on quotations and in the portal.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_billing_timing(cls):
        return 'advance'

    @classmethod
    def default_duration(cls):
        return 'open'

    @classmethod
    def default_invoicing_mode(cls):
        return 'invoice'

    @classmethod
    def default_customer_can_close(cls):
        return True

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            if plan.duration != 'fixed':
                continue
            if not plan.duration_periods or plan.duration_periods < 1:
                raise PlanError(gettext(
                        'sale_subscription_contract.msg_plan_duration_periods',
                        plan=plan.rec_name))

    @property
    def _simple_rule(self):
        "The single rule when the rule set is a plain 'every N units'"
        rules = [r for r in self.recurrence.rules]
        if len(rules) != 1:
            return None
        rule, = rules
        if rule.exclusive or any(getattr(rule, f) for f in [
                    'byweekday', 'bymonthday', 'byyearday', 'byweekno',
                    'bymonth', 'bysetpos']):
            return None
        return rule

    def period_start(self, anchor, index):
        """Return the start of the index-th period (0 is the first).

        Periods are counted from the anchor, never from the previous period,
        so a contract starting on 31 January bills on 29 February then on 31
        March: the anchor day comes back whenever the month has it.
        """
        if index == 0:
            return anchor
        rule = self._simple_rule
        if rule:
            step = {_UNITS[rule.freq]: rule.interval * index}
            return anchor + relativedelta(**step)
        dtstart = datetime.datetime.combine(anchor, datetime.time())
        rruleset = self.recurrence.rruleset(dtstart)
        occurrences = []
        for occurrence in rruleset:
            occurrences.append(occurrence.date())
            if len(occurrences) > index:
                return occurrences[index]
        return None

    def period(self, anchor, index):
        "Return (start, end) of the index-th period, end included"
        start = self.period_start(anchor, index)
        next_start = self.period_start(anchor, index + 1)
        if start is None or next_start is None:
            return None
        return start, next_start - datetime.timedelta(days=1)

    def check_start_date(self, start_date):
        "Raise when start_date cannot be the first day of a period"
        if self._simple_rule:
            return
        dtstart = datetime.datetime.combine(start_date, datetime.time())
        first = self.recurrence.rruleset(dtstart).after(dtstart, inc=True)
        if not first or first.date() != start_date:
            raise PlanError(gettext(
                    'sale_subscription_contract.msg_plan_start_date_invalid',
                    plan=self.rec_name, date=start_date,
                    first=first.date() if first else '-'))

    @property
    def periods_per_year(self):
        "How many periods a year has, to normalise amounts to a month"
        rule = self._simple_rule
        if rule:
            return _PER_YEAR[rule.freq] / rule.interval
        # a composite rule set: count its periods over four years
        start = datetime.date(2024, 1, 1)
        count = 0
        end = start + relativedelta(years=4)
        while True:
            date = self.period_start(start, count + 1)
            if date is None or date >= end:
                break
            count += 1
        return Decimal(count + 1) / 4

    def monthly_factor(self):
        "Multiply an amount per period by this to get an amount per month"
        return self.periods_per_year / 12
