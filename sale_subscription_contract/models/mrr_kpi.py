# Subscription KPIs per period, from the same filtered MRR event log as the
# MRR movements (mrr_movement.py), in one SQL query: the customers' changes
# classified as the movements are (with their contracts that got or lost
# MRR), summed per month in one pass; the customers and contracts with MRR
# at the end of a month are those with MRR before the first month, plus
# those that got MRR, minus those that lost it, up to the month (a running
# sum, no range join).  A churned customer is counted by their churn's row, which keeps
# the day the MRR it ends began: no window per customer and period.
# The LTV divides the ARPA by the monthly customer churn rates averaged over
# six months (a window over the months of the range extended back).  The
# months are then summed per period (the figures at its end: its last
# month's); the invoiced revenue is revenue.py's, joined per period.
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Values, Window
from sql.aggregate import Avg, Sum
from sql.conditionals import Case, Coalesce, NullIf
from sql.functions import Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import (
    KINDS, PERIOD_MONTHS, ComputedRows, PeriodRowFields, active_change, month_of, month_periods,
    period_id, period_start, period_starts, rounded)
from .revenue import revenue_per_period

RATE_DIGITS = (16, 4)
# the months whose customer churn rates the LTV averages
LTV_MONTHS = 6


def exact(value):
    "value as a number whose division is not an integer division"
    # SQLite stores whole amounts as integers and divides them as such
    if backend.name == 'sqlite':
        return value * Literal(1.0)
    return value * Literal(Decimal(1))


class KPI(ComputedRows, PeriodRowFields, ModelSQL, ModelView):
    "Subscription KPIs of a period"
    __name__ = 'sale.subscription.reporting.kpi'

    mrr_start = Monetary(
        "MRR at Start", currency='currency', digits='currency',
        help="The MRR on the day before the period.")
    mrr = Monetary(
        "MRR at End", currency='currency', digits='currency',
        help="The MRR on the last day of the period.")
    arr = Monetary(
        "ARR", currency='currency', digits='currency',
        help="12 × the MRR at the end of the period.")
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
    ltv = Monetary(
        "LTV", currency='currency', digits='currency',
        help="Customer lifetime value: ARPA ÷ the monthly customer churn "
        "rate averaged over the 6 months ending with the period's last "
        "month (months without customers at their start left out); empty "
        "when that average is 0 (no churn: LTV undefined).")
    net_revenue = Monetary(
        "Net Revenue", currency='currency', digits='currency',
        help="The untaxed amounts of the posted customer invoices dated in "
        "the period less those of the credit notes, in the company "
        "currency as posted.")
    non_recurring_revenue = Monetary(
        "Non-recurring Revenue", currency='currency', digits='currency',
        help="The part of the net revenue from one-time lines: setup fees, "
        "one-time products and any line that bills no contract service "
        "period nor prorated change.")

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
        company_id, currency_id, period, starts = Context.report_range()
        end = starts[-1] + relativedelta(months=PERIOD_MONTHS[period])

        # the months of the periods and, before them, those the first
        # period's LTV averages over: each with its period's first day
        # (the month itself before the first period) and whether it ends
        # its period
        period_ends = {s + relativedelta(months=PERIOD_MONTHS[period] - 1)
            for s in starts}
        first_month = starts[0] - relativedelta(months=LTV_MONTHS - 1)
        months = Values([
                (m, period_start(m, period) if m >= starts[0] else m,
                    int(m in period_ends))
                for m in period_starts(
                    first_month, end - relativedelta(days=1), 'month')])
        days = Movement._customer_book(company_id, context)
        opening = cls._opening(days, first_month)

        # per month: its movements (summed in a query of their own, which
        # the database may run in parallel), then the running figures at
        # its end
        month = month_of(days.date)

        def churned_since(day):
            # a churn counts once for a period: at the first churn of the
            # customer's MRR that began before the period
            return Sum(Case((days.since < day, 1), else_=0))
        movements = days.join(months, condition=month == months.column1
            ).select(months.column1.as_('month'),
            *[Sum(Column(days, k)).as_(k) for k in KINDS],
            Sum(days.delta).as_('delta'),
            Sum(active_change(days)).as_('active'),
            Sum(days.contracts).as_('contracts'),
            churned_since(months.column1).as_('churned_in_month'),
            churned_since(months.column2).as_('churned'),
            group_by=[months.column1])
        running = Window([], order_by=[months.column1.asc])

        def total(column):
            return Coalesce(column, 0)

        def upto(column, start):
            "start plus the column's running sum up to the month"
            return Sum(total(column), window=running) + start
        customers_at_end = upto(movements.active, opening.active)
        per_month = (months
            .join(movements, type_='LEFT',
                condition=movements.month == months.column1)
            .join(opening, type_='CROSS')
            .select(
                months.column1.as_('month'), months.column2.as_('start'),
                months.column3.as_('last'),
                *[total(Column(movements, k)).as_(k) for k in KINDS],
                total(movements.delta).as_('delta'),
                total(movements.active).as_('joined'),
                total(movements.churned).as_('churned'),
                upto(movements.delta, opening.mrr).as_('mrr'),
                customers_at_end.as_('customers'),
                upto(movements.contracts, opening.contracts
                    ).as_('contracts'),
                # the customers with MRR at the month's start that churned
                (exact(total(movements.churned_in_month))
                    / NullIf(customers_at_end - total(movements.active), 0)
                    ).as_('churn_rate')))
        # per month: the LTV's average of the monthly churn rates (Avg
        # leaves out the months without customers at their start, a NULL
        # rate) and its period's movements; the period's row is its last
        # month's
        last_months = Window([], order_by=[per_month.month.asc],
            frame='ROWS', start=-(LTV_MONTHS - 1), end=0)
        in_period = Window([per_month.start])
        figures = per_month.select(per_month.start, per_month.last,
            *[Sum(Column(per_month, c), window=in_period).as_(c)
                for c in [*KINDS, 'delta', 'joined', 'churned']],
            per_month.mrr, per_month.customers, per_month.contracts,
            Avg(per_month.churn_rate, window=last_months
                ).as_('average_churn'))

        revenue = revenue_per_period(company_id, context,
            month_periods(starts, period), starts[0], end)
        periods = Values([(period_id(company_id, s), s) for s in starts])
        net_revenue = Coalesce(revenue.net_revenue, 0)
        non_recurring = Coalesce(revenue.non_recurring, 0)

        def rate(name, numerator, denominator):
            field = getattr(cls, name)
            return field.sql_cast(Round(
                    exact(numerator) / NullIf(denominator, 0), 4)).as_(name)
        mrr_start = figures.mrr - figures.delta
        customers_start = figures.customers - figures.joined
        losses = figures.churn + figures.contraction
        gains = figures.expansion + figures.reactivation
        arpa = exact(figures.mrr) / NullIf(figures.customers, 0)
        return (periods
            .join(figures, condition=(figures.start == periods.column2)
                & (figures.last == 1))
            .join(revenue, type_='LEFT',
                condition=revenue.start == periods.column2)
            ).select(
            periods.column1.as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(periods.column2).as_('date'),
            rounded(cls, 'mrr_start', mrr_start),
            rounded(cls, 'mrr', figures.mrr),
            rounded(cls, 'arr', figures.mrr * 12),
            rounded(cls, 'net_new', gains + figures.new - losses),
            customers_start.as_('customers_start'),
            figures.customers.as_('customers'),
            figures.contracts.as_('contracts'),
            rounded(cls, 'arpa', arpa),
            rounded(cls, 'revenue_per_contract',
                exact(figures.mrr) / NullIf(figures.contracts, 0)),
            figures.churned.as_('churned_customers'),
            rate('customer_churn_rate', figures.churned, customers_start),
            rounded(cls, 'revenue_loss', losses),
            rate('gross_mrr_churn_rate', losses, mrr_start),
            rate('net_mrr_churn_rate', losses - gains, mrr_start),
            rounded(cls, 'ltv',
                arpa / NullIf(figures.average_churn, 0)),
            rounded(cls, 'net_revenue', net_revenue),
            rounded(cls, 'non_recurring_revenue', non_recurring),
            # without a company in the context there is nothing to report
            where=Literal(company_id >= 0))

    @classmethod
    def _opening(cls, days, first_day):
        """Before first_day: the MRR (mrr), the customers with MRR (active:
        each got MRR once more than it lost it) and their contracts with
        MRR (contracts), in a row"""
        return days.select(
            Coalesce(Sum(days.delta), 0).as_('mrr'),
            Coalesce(Sum(active_change(days)), 0).as_('active'),
            Coalesce(Sum(days.contracts), 0).as_('contracts'),
            where=days.date < first_day)
