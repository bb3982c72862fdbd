# MRR movements per period, counted per customer (ChartMogul's semantics),
# from the contract-level MRR event log in one SQL query:
#   1. the filtered events of the company, summed per customer and day
#      (changes of one customer on the same day are one movement);
#   2. each customer's MRR after each of those days (a running sum) and
#      whether they had MRR before (for reactivations);
#   3. each change classified: 0 -> >0 new (or reactivation when the
#      customer had MRR before), up expansion, down but > 0 contraction,
#      -> 0 churn;
#   (1-3 are stored per customer for the whole log: without a filter the
#   report reads them from the customers' book, mrr_book.py)
#   4. summed per period; a period without any change still has its row,
#      and the MRR at its end is the MRR before the first period plus the
#      running sum of the changes.
# The periods are computed here in Python (their start dates as a VALUES
# list), so that months, quarters and years group alike on PostgreSQL and
# SQLite.
from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Values, Window
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import DatePart, DateTrunc, Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

# months in each kind of period
PERIOD_MONTHS = {'month': 1, 'quarter': 3, 'year': 12}
# amounts are compared and summed at this precision (SQLite sums numerics
# as floats): finer than any currency's cents
PRECISION = 6
# the movements, in the order of the reports' columns
KINDS = ['new', 'expansion', 'contraction', 'churn', 'reactivation']
# the context's filters of the book (see _event_filter)
FILTERS = ['plan', 'product', 'sales_team', 'salesperson', 'country']
# A report's rows have an id per period, their figures depend on the
# context: records read in one transaction are cached apart per these keys
# of the context (as the company module does for the company), so that
# reading a report again with other filters never shows the figures read
# before
Transaction.cache_keys.update(
    {'from_date', 'to_date', 'period', *FILTERS, 'cohort_measure'})
# the columns of a classified book (_classified(first=True))
BOOK_COLUMNS = ['party', 'date', 'delta', 'before', 'after', 'first', *KINDS,
    'since']


def period_start(date, period):
    "The first day of the period of kind period that holds date"
    months = PERIOD_MONTHS[period]
    return date.replace(month=(date.month - 1) // months * months + 1, day=1)


def period_starts(from_date, to_date, period):
    "The first days of the periods from from_date's to to_date's"
    step = relativedelta(months=PERIOD_MONTHS[period])
    start, last = period_start(from_date, period), period_start(
        to_date, period)
    starts = []
    while start <= last:
        starts.append(start)
        start += step
    return starts


def period_id(company_id, start):
    "A report row's id per company and period: the period's day YYYYMMDD"
    return (max(company_id, 0) * 10 ** 8
        + start.year * 10000 + start.month * 100 + 1)


def rounded(Model, name, value):
    "The SQL value as Model's field name, rounded as the reports sum"
    return getattr(Model, name).sql_cast(Round(value, PRECISION)).as_(name)


def active_change(classified):
    """Of a classified row: 1 when its key got MRR, -1 when it lost it,
    else 0 (summed up to a day: the keys with MRR then)"""
    got = (classified.before <= 0) & (classified.after > 0)
    lost = (classified.before > 0) & (classified.after <= 0)
    return Case((got, 1), (lost, -1), else_=0)


def month_of(date):
    "The first day of the SQL date's month, as a date"
    if backend.name == 'postgresql':
        # the date less its day of the month: date_trunc goes through a
        # timestamp, half the reports' time on a large book
        return date - (DatePart('day', date).cast('INTEGER') - 1)
    return fields.Date("Month").sql_cast(DateTrunc('month', date))


def month_periods(starts, period):
    "VALUES (month's first day, its period's first day) of the periods"
    return Values([(start + relativedelta(months=m), start)
            for start in starts for m in range(PERIOD_MONTHS[period])])


class ReportingContext(ModelView):
    "The filters of the subscription reports"
    __name__ = 'sale.subscription.reporting.context'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        help="The company whose contracts are reported, in its currency.")
    from_date = fields.Date(
        "From Date", required=True,
        domain=[If(Eval('to_date'), ('from_date', '<=', Eval('to_date')),
                ())],
        help="The first period shown is the one holding this day.")
    to_date = fields.Date(
        "To Date", required=True,
        domain=[If(Eval('from_date'), ('to_date', '>=', Eval('from_date')),
                ())],
        help="The last period shown is the one holding this day.")
    period = fields.Selection([
            ('month', "Month"),
            ('quarter', "Quarter"),
            ('year', "Year"),
            ], "Period", required=True, sort=False)
    plan = fields.Many2One(
        'sale.subscription.plan', "Plan",
        help="Only the contracts on this plan.")
    product = fields.Many2One(
        'product.product', "Product",
        domain=[('type', '=', 'service')],
        help="Only the contracts with a line of this product (with all "
        "their MRR: the log is per contract).")
    sales_team = fields.Many2One(
        'sale.team', "Sales Team",
        help="Only the contracts credited to this team.")
    salesperson = fields.Many2One(
        'company.employee', "Salesperson",
        help="Only the contracts credited to this salesperson.")
    country = fields.Many2One(
        'country.country', "Customer Country",
        help="Only the contracts invoiced to an address in this country.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_date(cls):
        Date = Pool().get('ir.date')
        context = Transaction().context
        if context.get('from_date'):
            return context['from_date']
        return Date.today().replace(day=1) - relativedelta(months=11)

    @classmethod
    def default_to_date(cls):
        Date = Pool().get('ir.date')
        return Transaction().context.get('to_date') or Date.today()

    @classmethod
    def default_period(cls):
        return Transaction().context.get('period', 'month')

    @classmethod
    def report_range(cls):
        """(company id, its currency id, period, first days of the periods)
        the reports of the context cover; -1 and None without a company"""
        Company = Pool().get('company.company')
        context = Transaction().context
        company_id = context.get('company') or -1
        period = context.get('period') or 'month'
        if period not in PERIOD_MONTHS:
            period = 'month'
        from_date = context.get('from_date') or cls.default_from_date()
        to_date = max(context.get('to_date') or cls.default_to_date(),
            from_date)
        currency_id = (Company(company_id).currency.id
            if company_id >= 0 else None)
        return (company_id, currency_id, period,
            period_starts(from_date, to_date, period))


class ComputedRows:
    """A report whose rows its table query computes: a search reads only
    their ids (the database then leaves out what the rows do not depend
    on), the client's read computes the figures"""
    __slots__ = ()

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        for name, field in cls._fields.items():
            if name != 'id':
                field.loading = 'lazy'


class ReportRowEvents:
    """The MRR events behind a row of a report (its drill-down): the
    events of the row's period under the context's filters, restricted by
    _row_condition"""
    __slots__ = ()

    @classmethod
    def row_events(cls, record):
        "The query of the ids of the MRR events behind record"
        pool = Pool()
        Event = pool.get('sale.subscription.mrr_event')
        Context = pool.get('sale.subscription.reporting.context')
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        company_id, _, period, _ = Context.report_range()
        event = Event.__table__()
        end = record.date + relativedelta(months=PERIOD_MONTHS[period])
        where = (Movement._event_filter(
                event, company_id, Transaction().context)
            & (event.date >= record.date) & (event.date < end)
            & cls._row_condition(record, event))
        return event.select(event.id, where=where)

    @classmethod
    def _row_condition(cls, record, event):
        "The condition on the events of the period behind record"
        return Literal(True)

    def get_rec_name(self, name):
        "The period and what else the row is of (the drill-down's title)"
        Lang = Pool().get('ir.lang')
        return ' - '.join([Lang.get().strftime(self.date)]
            + [r.rec_name for r in self._row_records() if r])

    def _row_records(self):
        "The records the row is of besides its period"
        return []


class PeriodRowFields:
    "The company, period and net new MRR of a row of the period reports"
    __slots__ = ()

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    date = fields.Date("Period", help="The first day of the period.")
    net_new = Monetary(
        "Net New MRR", currency='currency', digits='currency',
        help="New + expansion + reactivation - contraction - churn.")


class MovementFields(PeriodRowFields):
    "The movements of a row of the movement reports"
    __slots__ = ()

    new = Monetary(
        "New", currency='currency', digits='currency',
        help="MRR of customers who got MRR for the first time.")
    expansion = Monetary(
        "Expansion", currency='currency', digits='currency',
        help="MRR gained from customers whose MRR went up.")
    contraction = Monetary(
        "Contraction", currency='currency', digits='currency',
        help="MRR lost from customers whose MRR went down but not to zero.")
    churn = Monetary(
        "Churn", currency='currency', digits='currency',
        help="MRR lost from customers whose MRR went to zero.")
    reactivation = Monetary(
        "Reactivation", currency='currency', digits='currency',
        help="MRR of customers who had MRR before, lost it and came back.")


class MRRMovement(
        ComputedRows, MovementFields, ReportRowEvents, ModelSQL, ModelView):
    "MRR movements of a period, per customer"
    __name__ = 'sale.subscription.reporting.mrr_movement'

    mrr = Monetary(
        "MRR at End", currency='currency', digits='currency',
        help="The MRR on the last day of the period.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Context = pool.get('sale.subscription.reporting.context')
        context = Transaction().context
        company_id, currency_id, period, starts = Context.report_range()

        classified = cls._customer_book(company_id, context)
        # each month of the range maps to its period's first day
        months = month_periods(starts, period)
        month = month_of(classified.date)
        per_period = classified.join(months,
            condition=month == months.column1).select(
            months.column2.as_('start'),
            *[Sum(Column(classified, k)).as_(k) for k in KINDS],
            Sum(classified.delta).as_('delta'),
            group_by=[months.column2])

        # the MRR before the first period: the whole log up to it
        opening = classified.select(Coalesce(Sum(classified.delta), 0),
            where=classified.date < starts[0])
        periods = Values([(period_id(company_id, s), s) for s in starts])
        running = Window([], order_by=[periods.column2.asc])

        new, expansion, contraction, churn, reactivation = [
            Coalesce(Column(per_period, k), 0) for k in KINDS]
        return periods.join(per_period, type_='LEFT',
            condition=per_period.start == periods.column2).select(
            periods.column1.as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(periods.column2).as_('date'),
            rounded(cls, 'new', new),
            rounded(cls, 'expansion', expansion),
            rounded(cls, 'contraction', contraction),
            rounded(cls, 'churn', churn),
            rounded(cls, 'reactivation', reactivation),
            rounded(cls, 'net_new',
                new + expansion + reactivation - contraction - churn),
            rounded(cls, 'mrr', Sum(Coalesce(per_period.delta, 0),
                    window=running) + opening),
            # without a company in the context there is nothing to report
            where=Literal(company_id >= 0))

    @classmethod
    def _customer_days(cls, company_id, context, per='party', by=None,
            parties=None):
        """The filtered MRR changes summed per customer (or per contract
        with per='subscription', named party alike) and day (delta), with
        the MRR after the day (after); with by (a
        column of the events: sales_team, salesperson) per owner (named
        owner) and customer: each owner's book counted on its own; only of
        the customers of the ids parties when given"""
        Event = Pool().get('sale.subscription.mrr_event')
        event = Event.__table__()
        where = cls._event_filter(event, company_id, context)
        if parties is not None:
            where &= fields.SQL_OPERATORS['in'](event.party, parties)
        keys = [Column(event, per)]
        columns = [keys[0].as_('party')]
        if by:
            keys.append(Column(event, by))
            columns.append(keys[-1].as_('owner'))
        delta = Round(Sum(event.mrr_change), PRECISION)
        # the MRR after the day: a window over the days summed (in this
        # query, not one more around it: SQLite's parser has a bounded
        # depth)
        by_key = Window(keys, order_by=[event.date.asc])
        return event.select(
            *columns, event.date.as_('date'), delta.as_('delta'),
            Round(Sum(delta, window=by_key), PRECISION).as_('after'),
            where=where, group_by=keys + [event.date])

    @classmethod
    def _event_filter(cls, event, company_id, context):
        """The condition on the MRR events of the context's filters: the
        plan, team and salesperson of the events (when their MRR changed)"""
        return (event.company == company_id) & cls._filter_condition(
            event, event.subscription, context)

    @classmethod
    def _filter_condition(cls, table, contract, context):
        """The condition of the context's filters (FILTERS) on table, whose
        plan, sales_team and salesperson columns are compared and whose
        column contract is the contract's id"""
        where = Literal(True)
        for name in ['plan', 'sales_team', 'salesperson']:
            if context.get(name):
                where &= Column(table, name) == context[name]
        for name, contracts in [
                ('product', cls._contracts_with_product),
                ('country', cls._contracts_in_country)]:
            if context.get(name):
                where &= contract.in_(contracts(context[name]))
        return where

    @classmethod
    def _contracts_with_product(cls, product):
        "The ids of the contracts with a line of the product"
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        Service = pool.get('sale.subscription.service')
        line = Line.__table__()
        service = Service.__table__()
        return line.join(service,
            condition=line.service == service.id).select(
            line.subscription, where=service.product == product)

    @classmethod
    def _contracts_in_country(cls, country):
        "The ids of the contracts invoiced to an address in country"
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Address = pool.get('party.address')
        contract = Contract.__table__()
        address = Address.__table__()
        return contract.join(address,
            condition=contract.invoice_address == address.id).select(
            contract.id, where=address.country == country)

    @classmethod
    def _customer_book(cls, company_id, context, per='party', by=None):
        """The customer-days (contract-days with per='subscription', with by
        owner-customer-days) of the context's book classified (the columns
        of _classified with first, and the customer-days' contracts of
        _with_contracts): the stored book of the company when the context
        filters nothing, else the filtered log classified"""
        Book = Pool().get('sale.subscription.mrr_book')
        if not any(context.get(f) for f in FILTERS):
            return Book.book(company_id, per=per, by=by)

        def classified(per, by=None):
            return cls._classified(cls._customer_days(
                    company_id, context, per=per, by=by),
                by=bool(by), first=True)
        if per == 'party' and not by:
            return cls._with_contracts(classified('party'),
                classified('subscription', by='party'))
        return classified(per, by)

    @classmethod
    def _with_contracts(cls, customers, contracts):
        """The customer-days classified with, for each, the customer's
        contracts that got MRR that day minus those that lost it
        (contracts), from the contract-days classified per customer (their
        owner)"""
        per_day = contracts.select(contracts.owner, contracts.date,
            Sum(active_change(contracts)).as_('contracts'),
            group_by=[contracts.owner, contracts.date])
        # a contract's change is a change of its customer's that day
        return customers.join(per_day, type_='LEFT',
            condition=(per_day.owner == customers.party)
            & (per_day.date == customers.date)).select(
            *[Column(customers, c) for c in BOOK_COLUMNS],
            Coalesce(per_day.contracts, 0).as_('contracts'))

    @classmethod
    def _classified(cls, daily, by=False, first=False):
        """Each customer-day (with by, owner-customer-day of
        _customer_days(by=...)) with its MRR before and after and the amount
        it adds to each kind; with first, the customer's first day with MRR
        (first); for a churn, the day the MRR it ends began (since: the
        customer churned in each period that starts after it)"""
        names = ['party', 'owner'] if by else ['party']

        def keys(query):
            return [Column(query, n) for n in names]
        before = daily.after - daily.delta
        earlier = Window(keys(daily), order_by=[daily.date.asc],
            frame='ROWS', start=None, end=-1)
        had_mrr = Coalesce(Max(Case((daily.after > 0, 1), else_=0),
                window=earlier), 0)
        # the last earlier day the MRR went up from zero: for a churn, the
        # day the MRR it ends began
        since = Max(Case(((before <= 0) & (daily.after > 0), daily.date)),
            window=earlier)
        steps = daily.select(*keys(daily), daily.date, daily.delta,
            before.as_('before'), daily.after.as_('after'),
            had_mrr.as_('had_mrr'), since.as_('since'))
        up_from_zero = (steps.before <= 0) & (steps.after > 0)
        to_zero = (steps.before > 0) & (steps.after <= 0)
        zero = Literal(0)
        extra = []
        if first:
            extra.append(Min(Case((steps.after > 0, steps.date)),
                    window=Window(keys(steps))).as_('first'))
        return steps.select(*keys(steps), steps.date, steps.delta,
            steps.before, steps.after, *extra,
            Case((up_from_zero & (steps.had_mrr == 0), steps.after),
                else_=zero).as_('new'),
            Case((up_from_zero & (steps.had_mrr == 1), steps.after),
                else_=zero).as_('reactivation'),
            Case(((steps.before > 0) & (steps.after > steps.before),
                    steps.after - steps.before), else_=zero).as_('expansion'),
            Case(((steps.before > 0) & (steps.after > 0)
                    & (steps.after < steps.before),
                    steps.before - steps.after), else_=zero
                ).as_('contraction'),
            Case((to_zero, steps.before), else_=zero).as_('churn'),
            Case((to_zero, steps.since)).as_('since'))
