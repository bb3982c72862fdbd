# Cohort retention: the customers grouped by the period (month or quarter)
# of their first MRR, and for each later period how many of them and how
# much of their MRR are left, from the same filtered MRR event log as the
# MRR movements (mrr_movement.py), in one SQL query:
#   1. each customer's changes classified as the movements do (their MRR
#      before and after each day with a change);
#   2. each customer's first day with MRR > 0 (a window over the same
#      rows), its period the customer's cohort;
#   3. per cohort and period k since its start (0 .. 12, up to To Date's
#      period): the change of the members' MRR in it and how many members
#      got MRR minus how many lost it (summed per month of the first MRR
#      and month of the change first: a few hundred rows to number);
#   4. running sums over k: the cohort's MRR and its members with MRR > 0
#      at the end of each period k (no join of each member with each
#      period), divided by its size (logo retention) or by its MRR at the
#      end of period 0 (revenue retention), both beside every period by a
#      window over the cohort;
#   5. one row per cohort, a column per period.
# The cohorts are the periods from From Date's to To Date's; the periods
# are numbered here in Python as VALUES lists, like the periods of the MRR
# movements.
from dateutil.relativedelta import relativedelta
from sql import Literal, Null, Values, Window
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Case, Coalesce, NullIf
from sql.functions import Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_kpi import exact
from .mrr_movement import (
    PERIOD_MONTHS, PRECISION, ComputedRows, ReportingContext, active_change,
    month_of, period_id, rounded)

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


class Cohort(ComputedRows, ModelSQL, ModelView):
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

        classified = Movement._customer_book(company_id, context)
        def numbered_months():
            "Each month of the range with the number of its period"
            return Values([(start + relativedelta(months=m), i)
                    for i, start in enumerate(starts)
                    for m in range(PERIOD_MONTHS[period])])
        # joined twice: the month of a change, the month of the first MRR
        months, first_months = numbered_months(), numbered_months()
        # the changes of the customers whose first day with MRR is in the
        # range, summed per month of that day and month of the change
        # first (a few hundred rows), then numbered by cohort and period
        end = starts[-1] + relativedelta(months=PERIOD_MONTHS[period])
        days = classified.select(
            month_of(classified.first).as_('first_month'),
            month_of(classified.date).as_('month'),
            classified.delta, active_change(classified).as_('active'),
            Case((classified.date == classified.first, 1), else_=0
                ).as_('joined'),
            where=(classified.first >= starts[0])
            & (classified.first < end))
        monthly = days.select(days.first_month, days.month,
            Sum(days.delta).as_('delta'), Sum(days.active).as_('active'),
            Sum(days.joined).as_('joined'),
            group_by=[days.first_month, days.month])
        # the cohort is the period of the first MRR, k the period since it
        # (a change before it can only be one to no MRR: counted in
        # period 0)
        cohort, index = first_months.column2, months.column2
        changes = (monthly
            .join(first_months,
                condition=monthly.first_month == first_months.column1)
            .join(months, condition=monthly.month == months.column1)
            .select(cohort.as_('cohort'),
                Case((index < cohort, 0), else_=index - cohort).as_('k'),
                monthly.delta, monthly.active, monthly.joined))
        per_k = changes.select(changes.cohort, changes.k,
            Sum(changes.delta).as_('delta'),
            Sum(changes.active).as_('active'),
            # in period 0: every member, by the day of their first MRR
            Sum(changes.joined).as_('customers'),
            group_by=[changes.cohort, changes.k])

        # per cohort its periods k up to To Date's: the members' MRR and the
        # members with MRR at the end of each (running sums over k)
        grid = Values([(i, k) for i in range(len(starts))
                for k in range(min(PERIODS, len(starts) - i))])
        by_cohort = Window([grid.column1], order_by=[grid.column2.asc])
        # period 0's figures beside each period's
        whole_cohort = Window([grid.column1])
        at_start = grid.column2 == 0
        cells = grid.join(per_k, type_='LEFT',
            condition=(per_k.cohort == grid.column1)
            & (per_k.k == grid.column2)).select(
            grid.column1.as_('cohort'), grid.column2.as_('k'),
            Round(Sum(Coalesce(per_k.delta, 0), window=by_cohort),
                PRECISION).as_('mrr'),
            Sum(Coalesce(per_k.active, 0), window=by_cohort
                ).as_('retained'),
            Max(Case((at_start, Coalesce(per_k.customers, 0))),
                window=whole_cohort).as_('size'),
            Round(Max(Case((at_start, Coalesce(per_k.delta, 0))),
                    window=whole_cohort), PRECISION).as_('mrr0'))
        if measure == 'revenue':
            numerator, denominator = cells.mrr, cells.mrr0
        else:
            numerator, denominator = cells.retained, cells.size
        rate = Round(exact(numerator) * 100 / NullIf(denominator, 0), 2)

        def period_column(j):
            field = getattr(cls, 'period_%s' % j)
            return field.sql_cast(Max(Case((cells.k == j, rate),
                        else_=Null))).as_('period_%s' % j)
        # an id per company and cohort: the cohort's day as YYYYMMDD
        ids = Values([(i, period_id(company_id, s), s)
                for i, s in enumerate(starts)])
        return cells.join(ids, condition=ids.column1 == cells.cohort).select(
            Min(ids.column2).as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(Min(ids.column3)).as_('date'),
            Max(cells.size).as_('customers'),
            rounded(cls, 'mrr', Max(cells.mrr0)),
            *[period_column(j) for j in range(PERIODS)],
            # a period without a first MRR is no cohort; without a company
            # in the context there is nothing to report
            where=(cells.size > 0) & Literal(company_id >= 0),
            group_by=[cells.cohort])
