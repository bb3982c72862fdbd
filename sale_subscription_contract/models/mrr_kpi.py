# Subscription KPIs per period, from the same filtered MRR event log as the
# MRR movements (mrr_movement.py), in one SQL query: the movements of the
# period, and the customers and contracts with MRR at its start and end,
# each counted from "spans" (a customer's MRR from one change to the next).
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Literal, Null, Values, Window
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce, NullIf
from sql.functions import Lead, Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import PERIOD_MONTHS, PRECISION

RATE_DIGITS = (16, 4)


def exact(value):
    "value as a number whose division is not an integer division"
    # SQLite stores whole amounts as integers and divides them as such
    if backend.name == 'sqlite':
        return value * Literal(1.0)
    return value * Literal(Decimal(1))


class KPI(ModelSQL, ModelView):
    "Subscription KPIs of a period"
    __name__ = 'sale.subscription.reporting.kpi'

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    date = fields.Date("Period", help="The first day of the period.")
    mrr_start = Monetary(
        "MRR at Start", currency='currency', digits='currency',
        help="The MRR on the day before the period.")
    mrr = Monetary(
        "MRR at End", currency='currency', digits='currency',
        help="The MRR on the last day of the period.")
    arr = Monetary(
        "ARR", currency='currency', digits='currency',
        help="12 × the MRR at the end of the period.")
    net_new = Monetary(
        "Net New MRR", currency='currency', digits='currency',
        help="New + expansion + reactivation - contraction - churn.")
    customers_start = fields.Integer(
        "Customers at Start",
        help="Customers with MRR on the day before the period.")
    customers = fields.Integer(
        "Active Customers", help="Customers with MRR at the end of the period.")
    contracts = fields.Integer(
        "Running Contracts",
        help="Contracts with MRR at the end of the period.")
    arpa = Monetary(
        "ARPA", currency='currency', digits='currency',
        help="Average revenue per account: MRR ÷ active customers.")
    revenue_per_contract = Monetary(
        "Revenue per Contract", currency='currency', digits='currency',
        help="MRR ÷ running contracts.")
    churned_customers = fields.Integer(
        "Churned Customers",
        help="Customers with MRR at the start whose MRR went to zero in "
        "the period.")
    customer_churn_rate = fields.Numeric(
        "Customer Churn (%)", digits=RATE_DIGITS,
        help="Churned customers ÷ customers at the start.")
    revenue_loss = Monetary(
        "Revenue Loss", currency='currency', digits='currency',
        help="Churned + contracted MRR.")
    gross_mrr_churn_rate = fields.Numeric(
        "Gross MRR Churn (%)", digits=RATE_DIGITS,
        help="(Churn + contraction) ÷ MRR at the start.")
    net_mrr_churn_rate = fields.Numeric(
        "Net MRR Churn (%)", digits=RATE_DIGITS,
        help="(Churn + contraction - expansion - reactivation) ÷ MRR at the "
        "start; negative when the customers at the start grew.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Context = pool.get('sale.subscription.reporting.context')
        context = Transaction().context
        company_id, _, period, starts = Context.report_range()
        step = relativedelta(months=PERIOD_MONTHS[period])
        bounds = Values([(s, s + step) for s in starts])
        start, end = bounds.column1, bounds.column2

        movement = Movement.table_query()
        customers = cls._spans(
            Movement._customer_days(company_id, context))
        contracts = cls._spans(
            Movement._customer_days(company_id, context, per='subscription'))
        customers_start = cls._active(bounds, customers, start)
        customers_end = cls._active(bounds, customers, end)
        contracts_end = cls._active(bounds, contracts, end)
        churned = cls._churned(bounds, customers, Movement._classified(
                Movement._customer_days(company_id, context)))

        def amount(name, value):
            field = getattr(cls, name)
            return field.sql_cast(Round(value, PRECISION)).as_(name)

        def rate(name, numerator, denominator):
            field = getattr(cls, name)
            return field.sql_cast(Round(
                    exact(numerator) / NullIf(denominator, 0), 4)).as_(name)
        mrr_start = movement.mrr - movement.net_new
        losses = movement.churn + movement.contraction
        gains = movement.expansion + movement.reactivation
        return (movement
            .join(customers_start, condition=(
                    customers_start.start == movement.date))
            .join(customers_end, condition=(
                    customers_end.start == movement.date))
            .join(contracts_end, condition=(
                    contracts_end.start == movement.date))
            .join(churned, condition=churned.start == movement.date)
            .select(
                movement.id, movement.company, movement.currency,
                movement.date,
                amount('mrr_start', mrr_start),
                amount('mrr', movement.mrr),
                amount('arr', movement.mrr * 12),
                amount('net_new', movement.net_new),
                customers_start.count.as_('customers_start'),
                customers_end.count.as_('customers'),
                contracts_end.count.as_('contracts'),
                amount('arpa', movement.mrr / NullIf(customers_end.count, 0)),
                amount('revenue_per_contract',
                    movement.mrr / NullIf(contracts_end.count, 0)),
                churned.count.as_('churned_customers'),
                rate('customer_churn_rate',
                    churned.count, customers_start.count),
                amount('revenue_loss', losses),
                rate('gross_mrr_churn_rate', losses, mrr_start),
                rate('net_mrr_churn_rate', losses - gains, mrr_start),
                ))

    @staticmethod
    def _spans(days):
        """Each key's MRR from one of its changes (since) to the next
        (until, None for the last)"""
        by_key = Window([days.party], order_by=[days.date.asc])
        return days.select(days.party, days.date.as_('since'),
            Lead(days.date, window=by_key).as_('until'),
            Round(Sum(days.delta, window=by_key), PRECISION).as_('mrr'))

    @staticmethod
    def _active(bounds, spans, day):
        """Per period (start), how many keys have MRR on the day before
        day (a column of bounds)"""
        return bounds.join(spans, type_='LEFT', condition=(
                (spans.since < day)
                & ((spans.until == Null) | (spans.until >= day))
                & (spans.mrr > 0))).select(
            bounds.column1.as_('start'), Count(spans.party).as_('count'),
            group_by=[bounds.column1])

    @staticmethod
    def _churned(bounds, spans, classified):
        """Per period, the customers with MRR at its start whose MRR went
        to zero in it (those who joined within the period do not count)"""
        churns = classified.select(classified.party, classified.date,
            where=classified.churn > 0)
        at_start = ((spans.party == churns.party)
            & (spans.since < bounds.column1)
            & ((spans.until == Null) | (spans.until >= bounds.column1))
            & (spans.mrr > 0))
        counted = (bounds
            .join(churns, condition=(churns.date >= bounds.column1)
                & (churns.date < bounds.column2))
            .join(spans, condition=at_start)
            .select(bounds.column1.as_('start'),
                Count(churns.party, distinct=True).as_('count'),
                group_by=[bounds.column1]))
        return bounds.join(counted, type_='LEFT',
            condition=counted.start == bounds.column1).select(
            bounds.column1.as_('start'),
            Coalesce(counted.count, 0).as_('count'))
