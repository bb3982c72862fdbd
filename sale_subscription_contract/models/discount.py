# Discounts on recurring lines, optionally for a limited time ("-20 % for 3
# months"). The contract line keeps its regular price in unit_price and the
# discount beside it, so the price after the discount is never lost.
#
# A time-limited discount is period-based: it applies to every period that
# starts on or before its end date, in full. A discount sold for N periods
# ends with the N-th period, so no period straddles its end; if a user moves
# the end into a period, that period still gets the whole discount (the
# customer was promised periods, not days). The MRR follows the days: it
# goes back up the day after the end date.
import datetime
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from ..exceptions import DiscountError


def _percent(rate):
    "20 % for Decimal('0.2000'), as the customer reads it"
    Lang = Pool().get('ir.lang')
    value = (rate * 100).normalize()
    digits = max(-value.as_tuple().exponent, 0)
    return Lang.get().format_number(value, digits=digits) + ' %'


def check_discount_rate(rate, line_name):
    "Refuse a discount below 0 % or above 100 %"
    if rate is not None and not (0 <= rate <= 1):
        raise DiscountError(gettext(
                'sale_subscription_contract.msg_discount_rate_invalid',
                line=line_name, rate=_percent(rate)))


class ContractLine(metaclass=PoolMeta):
    __name__ = 'sale.subscription.line'

    discount_rate = fields.Numeric(
        "Discount", digits=(None, 4),
        states={
            'readonly': Eval('subscription_state') == 'closed',
            },
        help="The share taken off the unit price, e.g. 0.2 for 20 %; "
        "the unit price stays the regular price.")
    discount_end_date = fields.Date(
        "Discount Until",
        states={
            'readonly': Eval('subscription_state') == 'closed',
            'invisible': ~Bool(Eval('discount_rate')),
            },
        help="The last day of the discount: every period starting on or "
        "before this day gets it in full. Empty: as long as the contract "
        "runs.")
    discount_ended = fields.Boolean(
        "Discount Ended", readonly=True,
        states={
            'invisible': ~Eval('discount_end_date'),
            },
        help="The end of the discount has been logged as an MRR expansion.")

    @classmethod
    def default_discount_ended(cls):
        return False

    @classmethod
    def preprocess_values(cls, mode, values):
        # checked before anything is created, whoever creates
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('discount_rate') is not None:
            check_discount_rate(
                values['discount_rate'], cls._line_name(values))
        return values

    @classmethod
    def write(cls, *args):
        # checked before anything is written, with the name of the line
        # (create and write are the only ways in: no validation after)
        actions = iter(args)
        for lines, values in zip(actions, actions):
            if values.get('discount_rate') is not None:
                for line in lines:
                    check_discount_rate(values['discount_rate'], line.rec_name)
        super().write(*args)

    @classmethod
    def _line_name(cls, values):
        pool = Pool()
        Service = pool.get('sale.subscription.service')
        if values.get('service'):
            return Service(values['service']).rec_name
        return ''

    def discount_at(self, date):
        "The discount rate of the line on date for the MRR, or None"
        if not self.discount_rate:
            return None
        if self.start_date and date < self.start_date:
            return None
        if self.discount_end_date and date > self.discount_end_date:
            return None
        return self.discount_rate

    def discount_for_period(self, start):
        "The discount rate of the period starting on start, or None"
        if not self.discount_rate:
            return None
        if self.discount_end_date and start > self.discount_end_date:
            return None
        return self.discount_rate

    def discounted_price(self, price, rate):
        return round_price(price * (1 - rate))

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        # a discount added, changed or removed on a running contract moves
        # its MRR (the base class watches the price and quantity only)
        if mode != 'write' or not (field_names or set()) & {
                'discount_rate', 'discount_end_date'}:
            return
        pool = Pool()
        Contract = pool.get('sale.subscription')
        if (field_names & {'quantity', 'unit_price', 'start_date',
                    'end_date'}
                or Contract.mrr_logged_by_caller()):
            return
        contracts = {l.subscription for l in lines
            if l.subscription.state == 'running' and l.subscription.plan}
        for contract in contracts:
            Contract.record_mrr([contract], max(
                    contract._today(), contract.start_date),
                description=gettext(
                    'sale_subscription_contract.msg_mrr_discount_changed'))

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default else {}
        default.setdefault('discount_ended', False)
        return super().copy(lines, default=default)


class ContractDiscount(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    def recurring_amount_at(self, date, discounts=True):
        amount = super().recurring_amount_at(date, discounts=discounts)
        if not discounts:
            return amount
        # the same lines as the base method
        for line in self.lines:
            if line.start_date and line.start_date > date:
                continue
            if line.end_date and line.end_date < date:
                continue
            rate = line.discount_at(date)
            if not rate:
                continue
            quantity = Decimal(str(line.quantity or 0))
            price = line.unit_price or 0
            amount += (
                self.currency.round(
                    quantity * line.discounted_price(price, rate))
                - self.currency.round(quantity * price))
        return amount

    def _discount_period_lines(self, lines, start):
        """Apply the discounts running at the start of a period to the
        unsaved invoice lines of its services, saying so on each line"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get(self.party.lang.code if self.party.lang else None)
        for invoice_line in lines:
            line = invoice_line.origin
            if getattr(line, '__name__', None) != 'sale.subscription.line':
                continue
            rate = line.discount_for_period(start)
            if not rate:
                continue
            # on top of what the base computed (e.g. a prorated price)
            invoice_line.unit_price = line.discounted_price(
                invoice_line.unit_price, rate)
            price = lang.currency(line.unit_price, self.currency)
            if line.discount_end_date:
                text = gettext(
                    'sale_subscription_contract'
                    '.msg_invoice_line_discount_until',
                    rate=_percent(rate), price=price,
                    date=lang.strftime(line.discount_end_date))
            else:
                text = gettext(
                    'sale_subscription_contract.msg_invoice_line_discount',
                    rate=_percent(rate), price=price)
            invoice_line.description = '\n'.join(
                filter(None, [invoice_line.description, text]))

    @classmethod
    def run(cls, contracts):
        # the base logged the MRR at the regular price: a discount running
        # from the start is logged apart, as a contraction
        super().run(contracts)
        for contract in contracts:
            if (contract.plan and contract.state == 'running'
                    and any(l.discount_at(contract.start_date)
                        for l in contract.lines)):
                cls.record_mrr([contract], contract.start_date,
                    description=gettext(
                        'sale_subscription_contract.msg_mrr_discount_start'))

    @classmethod
    def end_discounts(cls, date, contracts=None):
        """Log once the end of each discount that ended before date as an
        MRR change (an expansion) dated the day after its end"""
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        domain = [
            ('discount_rate', '!=', None),
            ('discount_rate', '!=', 0),
            ('discount_end_date', '<', date),
            ('discount_ended', '!=', True),
            ('subscription.plan', '!=', None),
            ('subscription.state', '=', 'running'),
            ]
        if contracts is not None:
            domain.append(('subscription', 'in', [c.id for c in contracts]))
        else:
            domain.append(('subscription.company', '=',
                    Transaction().context.get('company')))
        lines = Line.search(domain, order=[
                ('discount_end_date', 'ASC'), ('id', 'ASC')])
        for line in lines:
            contract = cls(line.subscription.id)
            cls.record_mrr([contract],
                line.discount_end_date + datetime.timedelta(days=1),
                description=gettext(
                    'sale_subscription_contract.msg_mrr_discount_end',
                    line=line.rec_name))
        with cls.logging_mrr_itself():
            Line.write(lines, {'discount_ended': True})
        return lines

    @classmethod
    def bill_due_contracts(cls, date=None):
        # the daily cron logs the end of a discount on the day after it,
        # also for contracts that are not billed that day
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        if Transaction().context.get('company') is not None:
            cls.end_discounts(date)
        return super().bill_due_contracts(date)


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    discount_periods = fields.Integer(
        "Discount Periods",
        domain=['OR',
            ('discount_periods', '=', None),
            ('discount_periods', '>', 0),
            ],
        states={
            'invisible': ~Eval('is_recurring'),
            'readonly': Eval('sale_state') != 'draft',
            },
        help="For how many periods of the plan the discount of this "
        "recurring line applies; empty for as long as the contract runs.")

    def _discount_rate(self):
        "The exact discount of the line off its base price, or None"
        if self.base_price and self.unit_price is not None:
            rate = self.on_change_with_discount_rate()
            if rate:
                return rate

    def get_subscription_line(self, contract):
        line = super().get_subscription_line(contract)
        rate = self._discount_rate()
        if rate and self.discount_periods:
            # the contract bills the regular price once the discount ends
            line.unit_price = self.base_price
            line.discount_rate = rate
            # the end of the N-th period: whole periods, no straddling
            period = contract.plan.period(
                contract.start_date, self.discount_periods - 1)
            line.discount_end_date = period[1] if period else None
        # a discount without end stays in the net unit price, to the cent
        # as quoted
        return line


class SaleDiscount(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    def check_for_quotation(self):
        super().check_for_quotation()
        for line in self.recurring_lines:
            if line.base_price and line.unit_price is not None:
                rate = 1 - line.unit_price / line.base_price
                if not (0 <= rate <= 1) and line.discount_periods:
                    check_discount_rate(rate, line.rec_name)
