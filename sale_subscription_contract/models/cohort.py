# Cohort retention: the customers grouped by the period (month or quarter)
# of their first MRR, and for each later period how many of them and how
# much of their MRR are left, from the same filtered MRR event log as the
# MRR movements (mrr_movement.py), in one SQL query:
#   1. each customer's first day with MRR > 0 (the running sum of their
#      filtered changes per day), its period the customer's cohort;
#   2. per cohort, period k since its start (0 .. 12, up to To Date's
#      period) and customer, the MRR at the end of period k (the sum of the
#      customer's changes up to that day);
#   3. per cohort and period, the customers with MRR > 0 and the MRR,
#      divided by the cohort's size (logo retention) or by its MRR at the
#      end of period 0 (revenue retention);
#   4. one row per cohort, a column per period.
# The cohorts are the periods from From Date's to To Date's; the periods
# and their ends are computed here in Python as a VALUES list, like the
# periods of the MRR movements.
from dateutil.relativedelta import relativedelta
from sql import Literal, Null, Values, Window
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, NullIf
from sql.functions import DateTrunc, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_kpi import exact
from .mrr_movement import (
    PERIOD_MONTHS, PRECISION, ReportingContext, month_periods)

MEASURES = [
    ('logo', "Logo Retention"),
    ('revenue', "Revenue Retention"),
    ]
COHORT_PERIODS = ['month', 'quarter']
# the columns: periods 0 .. 12 since the cohort's
PERIODS = 13
PERCENT_DIGITS = (16, 2)


class CohortContext(ReportingContext):
    "The filters of the cohort retention report"
    __name__ = 'sale.subscription.reporting.cohort.context'

    cohort_measure = fields.Selection(
        MEASURES, "Measure", required=True, sort=False,
        help="Logo retention: the cohort's customers with MRR at the end of "
        "the period ÷ the cohort's customers. Revenue retention: the "
        "cohort's MRR at the end of the period ÷ its MRR at the end of "
        "period 0.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.period.selection = [
            p for p in cls.period.selection if p[0] in COHORT_PERIODS]
        cls.period.help = "The cohorts and their periods: months or quarters."
        cls.from_date.help = (
            "The first cohort is the period holding this day.")
        cls.to_date.help = (
            "The last cohort is the period holding this day; later "
            "periods are not shown.")

    @classmethod
    def default_period(cls):
        period = super().default_period()
        return period if period in COHORT_PERIODS else 'month'

    @classmethod
    def default_cohort_measure(cls):
        return Transaction().context.get('cohort_measure') or 'logo'


PERIOD_HELP = [
    "The retention at the end of the cohort's own period, in %.",
    "The retention at the end of the period this many periods after the "
    "cohort's, in %; empty after To Date's period.",
    ]


class Cohort(ModelSQL, ModelView):
    "Retention of the customers of a cohort, per period since its start"
    __name__ = 'sale.subscription.reporting.cohort'

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    date = fields.Date(
        "Cohort", help="The first day of the period in which the cohort's "
        "customers first had MRR.")
    customers = fields.Integer(
        "Customers", help="The customers whose MRR first went above zero "
        "in the cohort's period.")
    mrr = Monetary(
        "Starting MRR", currency='currency', digits='currency',
        help="The cohort's MRR at the end of its period (period 0).")
    # period_0 .. period_12: the retention at the end of the period k since
    # the cohort's, of the measure chosen in the context
    locals().update({'period_%s' % k: fields.Numeric(
                "Period %s" % k, digits=PERCENT_DIGITS,
                help=PERIOD_HELP[min(k, 1)])
            for k in range(PERIODS)})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Context = pool.get('sale.subscription.reporting.cohort.context')
        context = Transaction().context
        company_id, currency_id, period, starts = Context.report_range()
        measure = context.get('cohort_measure') or 'logo'

        daily = Movement._customer_days(company_id, context)
        members = cls._members(daily, month_periods(starts, period))
        # per cohort, its periods k up to To Date's and the day after each
        step = relativedelta(months=PERIOD_MONTHS[period])
        grid = Values([(start, k, starts[i + k] + step)
                for i, start in enumerate(starts)
                for k in range(min(PERIODS, len(starts) - i))])
        cohort, k, end = grid.column1, grid.column2, grid.column3

        # each member's MRR at the end of each period of their cohort
        at_end = (grid
            .join(members, condition=members.cohort == cohort)
            .join(daily, condition=(daily.party == members.party)
                & (daily.date < end))
            .select(cohort.as_('cohort'), k.as_('k'),
                members.party.as_('party'),
                Round(Sum(daily.delta), PRECISION).as_('mrr'),
                group_by=[cohort, k, members.party]))
        cells = at_end.select(at_end.cohort, at_end.k,
            Count(at_end.party).as_('size'),
            Sum(Case((at_end.mrr > 0, 1), else_=0)).as_('retained'),
            Sum(at_end.mrr).as_('mrr'),
            group_by=[at_end.cohort, at_end.k])
        first = cells.select(cells.cohort, cells.size, cells.mrr,
            where=cells.k == 0)
        if measure == 'revenue':
            numerator, denominator = cells.mrr, first.mrr
        else:
            numerator, denominator = cells.retained, first.size
        rates = cells.join(first, condition=first.cohort == cells.cohort
            ).select(cells.cohort, cells.k, first.size, first.mrr,
            Round(exact(numerator) * 100 / NullIf(denominator, 0), 2
                ).as_('rate'))

        def period_column(j):
            field = getattr(cls, 'period_%s' % j)
            return field.sql_cast(Max(Case((rates.k == j, rates.rate),
                        else_=Null))).as_('period_%s' % j)
        # an id per company and cohort: the cohort's day as YYYYMMDD
        ids = Values([(max(company_id, 0) * 10 ** 8
                    + s.year * 10000 + s.month * 100 + 1, s)
                for s in starts])
        return rates.join(ids, condition=ids.column2 == rates.cohort).select(
            Min(ids.column1).as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(rates.cohort).as_('date'),
            Max(rates.size).as_('customers'),
            cls.mrr.sql_cast(Round(Max(rates.mrr), PRECISION)).as_('mrr'),
            *[period_column(j) for j in range(PERIODS)],
            # without a company in the context there is nothing to report
            where=Literal(company_id >= 0),
            group_by=[rates.cohort])

    @classmethod
    def _members(cls, daily, months):
        """Each customer whose first day with MRR > 0 falls in a period of
        months, with that period's first day (cohort)"""
        by_customer = Window([daily.party], order_by=[daily.date.asc])
        running = daily.select(daily.party, daily.date,
            Round(Sum(daily.delta, window=by_customer), PRECISION
                ).as_('after'))
        first = running.select(running.party,
            Min(running.date).as_('date'),
            where=running.after > 0, group_by=[running.party])
        month = cls.date.sql_cast(DateTrunc('month', first.date))
        return first.join(months, condition=month == months.column1).select(
            first.party.as_('party'), months.column2.as_('cohort'))
