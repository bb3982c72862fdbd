# Subscription KPIs per period, from the same filtered MRR event log as the
# MRR movements (mrr_movement.py), in one SQL query: the customers' changes
# classified as the movements are (and the contracts' alike), summed per
# period; the customers and contracts with MRR at the end of a period are
# those with MRR before the first period, plus those that got MRR, minus
# those that lost it, up to the period (a running sum, no range join).
# The LTV divides the ARPA by the monthly customer churn rates averaged over
# six months (a window over the months of the range extended back); the
# invoiced revenue is revenue.py's, joined per period.
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Values, Window
from sql.aggregate import Avg, Count, Sum
from sql.conditionals import Case, Coalesce, NullIf
from sql.functions import DateTrunc, FirstValue, Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import (
    KINDS, PERIOD_MONTHS, PeriodRowFields, month_periods, period_id,
    period_starts, rounded)
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


class KPI(PeriodRowFields, ModelSQL, ModelView):
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
        months = month_periods(starts, period)

        customer_days = Movement._customer_book(company_id, context)
        customers = cls._per_period(customer_days, months)
        opening = cls._opening(customer_days, starts[0])
        # of the contracts only how many have MRR
        contract_days = Movement._customer_book(
            company_id, context, per='subscription')
        contracts = cls._active_per_period(contract_days, months)
        contracts_opening = cls._opening(contract_days, starts[0])

        churn = cls._average_churn(company_id, context, period, starts)
        end = starts[-1] + relativedelta(months=PERIOD_MONTHS[period])
        revenue = revenue_per_period(company_id, context,
            month_periods(starts, period), starts[0], end)

        periods = Values([(period_id(company_id, s), s) for s in starts])
        running = Window([], order_by=[periods.column2.asc])

        def total(column):
            return Coalesce(column, 0)

        def upto(column, start):
            "start plus the column's running sum up to the period"
            return Sum(total(column), window=running) + start
        # the running figures at the end of each period, and the period's
        # own movements
        figures = (periods
            .join(customers, type_='LEFT',
                condition=customers.start == periods.column2)
            .join(contracts, type_='LEFT',
                condition=contracts.start == periods.column2)
            .join(opening, type_='CROSS')
            .join(contracts_opening, type_='CROSS')
            .join(churn, type_='LEFT',
                condition=churn.start == periods.column2)
            .join(revenue, type_='LEFT',
                condition=revenue.start == periods.column2)
            .select(
                periods.column1.as_('id'), periods.column2.as_('date'),
                churn.churn.as_('average_churn'),
                total(revenue.net_revenue).as_('net_revenue'),
                total(revenue.non_recurring).as_('non_recurring'),
                *[total(getattr(customers, k)).as_(k) for k in KINDS],
                total(customers.delta).as_('delta'),
                total(customers.active).as_('joined'),
                total(customers.churned).as_('churned'),
                upto(customers.delta, opening.mrr).as_('mrr'),
                upto(customers.active, opening.active).as_('customers'),
                upto(contracts.active, contracts_opening.active
                    ).as_('contracts'),
                ))

        def rate(name, numerator, denominator):
            field = getattr(cls, name)
            return field.sql_cast(Round(
                    exact(numerator) / NullIf(denominator, 0), 4)).as_(name)
        mrr_start = figures.mrr - figures.delta
        customers_start = figures.customers - figures.joined
        losses = figures.churn + figures.contraction
        gains = figures.expansion + figures.reactivation
        arpa = exact(figures.mrr) / NullIf(figures.customers, 0)
        return figures.select(
            figures.id,
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(figures.date).as_('date'),
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
            rounded(cls, 'net_revenue', figures.net_revenue),
            rounded(cls, 'non_recurring_revenue', figures.non_recurring),
            # without a company in the context there is nothing to report
            where=Literal(company_id >= 0))

    @classmethod
    def _per_period(cls, classified, months):
        """Per period (start): the movements, the change of the MRR, the
        keys that got MRR minus those that lost it (active), and the keys
        with MRR at the start of the period that lost it in the period
        (churned)"""
        month = cls.date.sql_cast(DateTrunc('month', classified.date))
        in_period = classified.join(months,
            condition=month == months.column1)
        # a key's MRR at the start of the period: before its first change
        # in the period
        first = Window([classified.party, months.column2],
            order_by=[classified.date.asc])
        rows = in_period.select(
            months.column2.as_('start'), classified.party,
            *[Column(classified, k) for k in KINDS],
            classified.delta,
            (Case(((classified.before <= 0) & (classified.after > 0), 1),
                    else_=0)
                - Case(((classified.before > 0) & (classified.after <= 0), 1),
                    else_=0)).as_('active'),
            FirstValue(classified.before, window=first).as_('start_mrr'))
        churned = Case(((rows.churn > 0) & (rows.start_mrr > 0), rows.party))
        return rows.select(rows.start,
            *[Sum(Column(rows, k)).as_(k) for k in KINDS],
            Sum(rows.delta).as_('delta'),
            Sum(rows.active).as_('active'),
            Count(churned, distinct=True).as_('churned'),
            group_by=[rows.start])

    @classmethod
    def _active_per_period(cls, classified, months):
        "Per period (start): the keys that got MRR minus those that lost it"
        month = cls.date.sql_cast(DateTrunc('month', classified.date))
        got = (classified.before <= 0) & (classified.after > 0)
        lost = (classified.before > 0) & (classified.after <= 0)
        return classified.join(months,
            condition=month == months.column1).select(
            months.column2.as_('start'),
            Sum(Case((got, 1), (lost, -1), else_=0)).as_('active'),
            group_by=[months.column2])

    @classmethod
    def _average_churn(cls, company_id, context, period, starts):
        """Per period (start): the monthly customer churn rates (churned
        customers ÷ customers at the month's start) averaged over the
        LTV_MONTHS months ending with the period's last month (churn);
        months without customers at their start are left out"""
        Movement = Pool().get('sale.subscription.reporting.mrr_movement')
        last_months = [s + relativedelta(months=PERIOD_MONTHS[period] - 1)
            for s in starts]
        months = period_starts(
            starts[0] - relativedelta(months=LTV_MONTHS - 1),
            last_months[-1], 'month')
        days = Movement._customer_book(company_id, context)
        monthly = cls._per_period(days, month_periods(months, 'month'))
        opening = cls._opening(days, months[0])

        series = Values([(m,) for m in months])
        running = Window([], order_by=[series.column1.asc])
        active = Coalesce(monthly.active, 0)
        customers_start = (Sum(active, window=running) - active
            + opening.active)
        rates = (series
            .join(monthly, type_='LEFT',
                condition=monthly.start == series.column1)
            .join(opening, type_='CROSS')
            .select(series.column1.as_('month'),
                (exact(Coalesce(monthly.churned, 0))
                    / NullIf(customers_start, 0)).as_('rate')))
        last = Window([], order_by=[rates.month.asc],
            frame='ROWS', start=-(LTV_MONTHS - 1), end=0)
        averaged = rates.select(rates.month,
            Avg(rates.rate, window=last).as_('churn'))
        ends = Values([(m, s) for m, s in zip(last_months, starts)])
        return averaged.join(ends,
            condition=averaged.month == ends.column1).select(
            ends.column2.as_('start'), averaged.churn)

    @staticmethod
    def _opening(days, first_day):
        """Before first_day: the MRR (mrr) and the keys with MRR (active), in
        a row"""
        before = days.select(days.party, Sum(days.delta).as_('mrr'),
            where=days.date < first_day, group_by=[days.party])
        return before.select(
            Coalesce(Sum(before.mrr), 0).as_('mrr'),
            Coalesce(Sum(Case((before.mrr > 0, 1), else_=0)), 0
                ).as_('active'))
