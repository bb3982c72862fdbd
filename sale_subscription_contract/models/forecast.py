# MRR forecast: the next 12 months of MRR, customers and contracts, from
#   1. today's figures: the MRR (the filtered MRR event log summed up to
#      today), the customers and the contracts with MRR;
#   2. the trailing 6 months' movements, classified per customer as the MRR
#      movements are (mrr_movement.py), in SQL: new, expansion and
#      reactivation as amounts per month, churn and contraction as a rate
#      of the MRR at the start of the months (their sum ÷ the sum of the six
#      starting MRRs); the customers' and the contracts' alike;
#   3. the changes already known, dated in the 12 months: fixed terms and
#      scheduled closes ending without renewal, discounts ending, pauses
#      resuming, trials converting at the conversion rate of the trials
#      that ended in the trailing 6 months. The contracts are selected in
#      SQL; their amounts are what the daily run will log, computed by the
#      contracts' own MRR (compute_mrr, running_mrr: the plans' monthly
#      factor comes from their recurrence rule, which SQL cannot read).
# A month is a step of one month from today: month m ends on today + m
# months (the trailing months end on today - k months), so that no day is
# left out or counted twice. The 12 rows are computed here in Python from
# those figures (a VALUES list), each from the one before:
#   MRR_m = MRR_m-1 + new + expansion + reactivation
#           - churn rate × MRR_m-1 - contraction rate × MRR_m-1
#           + the known changes of month m
# each term rounded to the currency and shown in its column, so that every
# row can be recomputed from the row before and the rates it shows.
import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Null, Values
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .mrr_kpi import RATE_DIGITS
from .mrr_movement import (
    KINDS, PRECISION, PeriodRowFields, ReportingContext, active_change)

HORIZON = 12  # months forecast
TRAILING = 6  # months averaged
COUNT_DIGITS = (16, 2)
KNOWN = ['known_end', 'known_discount_end', 'known_resume', 'known_trial']
# the columns of Forecast._per_interval after the interval
INTERVAL_COLUMNS = ['delta', 'active', 'contracts', *KINDS, 'got_first',
    'got_back', 'lost']


def decimal(value):
    "A sum of SQL (a float on SQLite) as a Decimal"
    return Decimal(str(value or 0))


def ratio(numerator, denominator, digits=4):
    "numerator ÷ denominator rounded as shown, 0 without a denominator"
    if not denominator:
        return Decimal(0)
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-digits))


def count(value):
    "A forecast number of customers or contracts: 2 decimals"
    return Decimal(value).quantize(Decimal('0.01'))


class ForecastContext(ReportingContext):
    "The filters of the MRR forecast: the company and the book"
    __name__ = 'sale.subscription.reporting.forecast.context'


class Forecast(PeriodRowFields, ModelSQL, ModelView):
    "MRR forecast of a month"
    __name__ = 'sale.subscription.reporting.forecast'

    month = fields.Integer("Month", help="Months from today.")
    mrr_start = Monetary(
        "MRR at Start", currency='currency', digits='currency',
        help="The MRR at the end of the month before (today's for the "
        "first).")
    new = Monetary(
        "New", currency='currency', digits='currency',
        help="The average new MRR per month of the trailing 6 months.")
    expansion = Monetary(
        "Expansion", currency='currency', digits='currency',
        help="The average expansion per month of the trailing 6 months.")
    reactivation = Monetary(
        "Reactivation", currency='currency', digits='currency',
        help="The average reactivation per month of the trailing 6 months.")
    churn = Monetary(
        "Churn", currency='currency', digits='currency',
        help="The churn rate × the MRR at the start.")
    contraction = Monetary(
        "Contraction", currency='currency', digits='currency',
        help="The contraction rate × the MRR at the start.")
    known_end = Monetary(
        "Known Ends", currency='currency', digits='currency',
        help="Minus the MRR of the contracts whose fixed term or scheduled "
        "close ends in the month without renewal.")
    known_discount_end = Monetary(
        "Known Discount Ends", currency='currency', digits='currency',
        help="The MRR the discounts ending in the month give back.")
    known_resume = Monetary(
        "Known Resumes", currency='currency', digits='currency',
        help="The MRR of the paused contracts resuming in the month.")
    trial_mrr = Monetary(
        "Trials Ending MRR", currency='currency', digits='currency',
        help="The MRR after the trial of the trials ending in the month.")
    known_trial = Monetary(
        "Known Trial Conversions", currency='currency', digits='currency',
        help="The trials ending MRR × the trial conversion rate.")
    mrr = Monetary(
        "MRR at End", currency='currency', digits='currency',
        help="MRR at start + new + expansion + reactivation - churn - "
        "contraction + the known changes.")
    arr = Monetary(
        "ARR", currency='currency', digits='currency',
        help="12 × the MRR at the end.")
    growth = fields.Numeric(
        "Growth (%)", digits=RATE_DIGITS,
        help="The MRR at the end ÷ today's MRR - 1; the 12th month's is "
        "the projected annual growth.")
    customers = fields.Numeric(
        "Customers", digits=COUNT_DIGITS,
        help="Customers at the start + the average new and reactivated "
        "customers per month - the customer churn rate × the customers at "
        "the start.")
    contracts = fields.Numeric(
        "Contracts", digits=COUNT_DIGITS,
        help="Contracts at the start + the average new and reactivated "
        "contracts per month - the contract churn rate × the contracts at "
        "the start.")

    # the inputs, the same on every row
    today = fields.Date("Today", help="The day the forecast starts from.")
    trailing_from = fields.Date(
        "Trailing From",
        help="The first day of the trailing 6 months (up to today).")
    mrr_today = Monetary(
        "MRR Today", currency='currency', digits='currency',
        help="The sum of the MRR event log up to today.")
    trailing_new = Monetary(
        "Trailing New", currency='currency', digits='currency',
        help="The new MRR of the trailing 6 months.")
    trailing_expansion = Monetary(
        "Trailing Expansion", currency='currency', digits='currency',
        help="The expansion of the trailing 6 months.")
    trailing_reactivation = Monetary(
        "Trailing Reactivation", currency='currency', digits='currency',
        help="The reactivation of the trailing 6 months.")
    trailing_churn = Monetary(
        "Trailing Churn", currency='currency', digits='currency',
        help="The churn of the trailing 6 months.")
    trailing_contraction = Monetary(
        "Trailing Contraction", currency='currency', digits='currency',
        help="The contraction of the trailing 6 months.")
    trailing_mrr_start = Monetary(
        "Trailing Starting MRR", currency='currency', digits='currency',
        help="The sum of the MRR at the start of each of the trailing 6 "
        "months.")
    churn_rate = fields.Numeric(
        "Churn Rate (%)", digits=RATE_DIGITS,
        help="Trailing churn ÷ trailing starting MRR.")
    contraction_rate = fields.Numeric(
        "Contraction Rate (%)", digits=RATE_DIGITS,
        help="Trailing contraction ÷ trailing starting MRR.")
    trials_ended = fields.Integer(
        "Trials Ended",
        help="The trials whose last day was in the trailing 6 months and "
        "that converted or closed.")
    trials_converted = fields.Integer(
        "Trials Converted", help="The trials ended that converted.")
    trial_conversion_rate = fields.Numeric(
        "Trial Conversion Rate (%)", digits=RATE_DIGITS,
        help="Trials converted ÷ trials ended; 0 without any.")
    customers_today = fields.Integer(
        "Customers Today", help="Customers with MRR today.")
    new_customers = fields.Numeric(
        "New Customers per Month", digits=COUNT_DIGITS,
        help="The customers who first got MRR in the trailing 6 months, "
        "÷ 6.")
    reactivated_customers = fields.Numeric(
        "Reactivated Customers per Month", digits=COUNT_DIGITS,
        help="The customers who got MRR back in the trailing 6 months, "
        "÷ 6.")
    customer_churn_rate = fields.Numeric(
        "Customer Churn Rate (%)", digits=RATE_DIGITS,
        help="The customers who lost all MRR in the trailing 6 months ÷ the "
        "sum of the customers at the start of each month.")
    contracts_today = fields.Integer(
        "Contracts Today", help="Contracts with MRR today.")
    new_contracts = fields.Numeric(
        "New Contracts per Month", digits=COUNT_DIGITS,
        help="The contracts that first got MRR in the trailing 6 months, "
        "÷ 6.")
    reactivated_contracts = fields.Numeric(
        "Reactivated Contracts per Month", digits=COUNT_DIGITS,
        help="The contracts that got MRR back in the trailing 6 months "
        "(reopened, resumed), ÷ 6.")
    contract_churn_rate = fields.Numeric(
        "Contract Churn Rate (%)", digits=RATE_DIGITS,
        help="The contracts that lost all MRR in the trailing 6 months ÷ the "
        "sum of the contracts at the start of each month.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        cls.date.string = "Month End"
        cls.date.help = "The last day of the month forecast."
        cls.net_new.help = (
            "New + expansion + reactivation - contraction - churn, without "
            "the known changes.")

    @classmethod
    def table_query(cls):
        context = Transaction().context
        company_id = context.get('company') or -1
        rows = cls.forecast(company_id) if company_id >= 0 else []
        names = ['id'] + [n for n, f in cls._fields.items()
            if not isinstance(f, fields.Function) and n not in {
                'id', 'create_uid', 'create_date', 'write_uid',
                'write_date'}]
        # an empty VALUES is no SQL: one row that the condition drops
        values = Values([tuple(r[n] for n in names) for r in rows]
            or [(0,) + (None,) * (len(names) - 1)])
        columns = []
        for i, name in enumerate(names, 1):
            column = Column(values, 'column%d' % i)
            if name != 'id':
                column = cls._fields[name].sql_cast(column)
            columns.append(column.as_(name))
        return values.select(*columns, where=Literal(bool(rows)))

    @classmethod
    def forecast(cls, company_id):
        "The rows of the forecast of the company, as dictionaries"
        pool = Pool()
        Company = pool.get('company.company')
        Date = pool.get('ir.date')
        currency = Company(company_id).currency
        context = Transaction().context
        with Transaction().set_context(company=company_id):
            today = Date.today()
        inputs = cls._inputs(company_id, context, today, currency)
        known = cls._known_changes(company_id, context, today)
        rate = inputs['trial_conversion_rate']
        growth_rates = ['new', 'expansion', 'reactivation']
        rows = []
        mrr, customers, contracts = (inputs['mrr_today'],
            Decimal(inputs['customers_today']),
            Decimal(inputs['contracts_today']))
        for month in range(1, HORIZON + 1):
            date = today + relativedelta(months=month)
            row = dict(inputs, id=company_id * 100 + month, month=month,
                company=company_id, currency=currency.id, date=date,
                mrr_start=mrr)
            for name in growth_rates:
                row[name] = inputs['avg_' + name]
            row['churn'] = currency.round(inputs['churn_rate'] * mrr)
            row['contraction'] = currency.round(
                inputs['contraction_rate'] * mrr)
            row['net_new'] = (sum(row[n] for n in growth_rates)
                - row['churn'] - row['contraction'])
            for name in KNOWN[:-1] + ['trial_mrr']:
                row[name] = known[name].get(month, Decimal(0))
            row['known_trial'] = currency.round(row['trial_mrr'] * rate)
            mrr = mrr + row['net_new'] + sum(row[n] for n in KNOWN)
            row['mrr'] = mrr
            row['arr'] = mrr * 12
            row['growth'] = (ratio(mrr, inputs['mrr_today'])
                - 1 if inputs['mrr_today'] else None)
            customers = count(customers + inputs['new_customers']
                + inputs['reactivated_customers']
                - inputs['customer_churn_rate'] * customers)
            contracts = count(contracts + inputs['new_contracts']
                + inputs['reactivated_contracts']
                - inputs['contract_churn_rate'] * contracts)
            row['customers'], row['contracts'] = customers, contracts
            rows.append(row)
        return rows

    @classmethod
    def _inputs(cls, company_id, context, today, currency):
        "Today's figures and the trailing 6 months' rates, by name"
        Movement = Pool().get('sale.subscription.reporting.mrr_movement')
        # the days whose end starts each trailing month, today last
        starts = [today - relativedelta(months=k)
            for k in range(TRAILING, 0, -1)]
        inputs = {'today': today,
            'trailing_from': starts[0] + relativedelta(days=1)}
        cursor = Transaction().connection.cursor()

        # the customers' book in one pass: per interval up to each of
        # starts and today
        cursor.execute(*cls._per_interval(
                Movement._customer_book(company_id, context),
                starts + [today]))
        intervals = {int(i): [decimal(v) for v in row]
            for i, *row in cursor}
        empty = [Decimal(0)] * len(INTERVAL_COLUMNS)

        def column(i, name):
            return intervals.get(i, empty)[INTERVAL_COLUMNS.index(name)]
        # the MRR, the customers and the contracts with MRR at the end of
        # each of starts and today: the running sums of the intervals
        at, figures = [], [Decimal(0)] * 3
        for i in range(len(starts) + 1):
            figures = [f + column(i, n) for f, n in zip(figures,
                    ['delta', 'active', 'contracts'])]
            at.append(figures)
        *start_figures, (mrr_today, customers_today, contracts_today) = at

        def trailing(name):
            "the sum over the trailing months: the intervals after starts[0]"
            return sum(column(i, name) for i in range(1, len(starts) + 1))
        mrr_start = sum((m for m, _, _ in start_figures), Decimal(0))
        inputs.update({
                'mrr_today': currency.round(mrr_today),
                'trailing_mrr_start': currency.round(mrr_start),
                'customers_today': int(customers_today),
                'contracts_today': int(contracts_today),
                'new_customers': count(ratio(trailing('got_first'),
                        TRAILING, 2)),
                'reactivated_customers': count(ratio(trailing('got_back'),
                        TRAILING, 2)),
                'customer_churn_rate': ratio(trailing('lost'),
                    sum(c for _, c, _ in start_figures)),
                })
        for name in ['new', 'expansion', 'reactivation', 'churn',
                'contraction']:
            total = currency.round(trailing(name))
            inputs['trailing_' + name] = total
            inputs['avg_' + name] = currency.round(total / TRAILING)
        for name in ['churn', 'contraction']:
            inputs[name + '_rate'] = ratio(
                inputs['trailing_' + name], inputs['trailing_mrr_start'])

        # the contracts' movements of the trailing months only
        cursor.execute(*cls._contract_movements(
                Movement._customer_book(
                    company_id, context, per='subscription'),
                starts[0], today))
        got_first, got_back, lost = [decimal(v) for v in cursor.fetchone()]
        inputs.update({
                'new_contracts': count(ratio(got_first, TRAILING, 2)),
                'reactivated_contracts': count(ratio(got_back, TRAILING, 2)),
                'contract_churn_rate': ratio(lost,
                    sum(c for _, _, c in start_figures)),
                })
        ended, converted = cls._trials(company_id, context, starts[0], today)
        inputs.update({
                'trials_ended': ended,
                'trials_converted': converted,
                'trial_conversion_rate': ratio(converted, ended),
                })
        return inputs

    @staticmethod
    def _per_interval(days, dates):
        """Of the customer-days classified, per interval i of the ascending
        dates (0: up to dates[0], i: after dates[i-1] up to dates[i]), in
        one pass, the INTERVAL_COLUMNS: the change of the MRR (delta), the
        customers that got MRR minus those that lost it (active), the same
        of their contracts (contracts), the amounts of each kind, and the
        customers that got MRR for the first time (got_first), got it back
        (got_back) and lost it (lost)"""
        interval = Case(*[(days.date <= d, i) for i, d in enumerate(dates)])
        rows = days.select(interval.as_('interval'), days.delta,
            active_change(days).as_('active'),
            days.contracts, *[Column(days, k) for k in KINDS],
            where=days.date <= dates[-1])

        def counted(condition):
            return Sum(Case((condition, 1), else_=0))
        return rows.select(rows.interval,
            Round(Sum(rows.delta), PRECISION), Sum(rows.active),
            Sum(rows.contracts),
            *[Round(Sum(Column(rows, k)), PRECISION) for k in KINDS],
            counted(rows.new > 0), counted(rows.reactivation > 0),
            counted(rows.churn > 0),
            group_by=[rows.interval])

    @staticmethod
    def _contract_movements(days, start, end):
        """Of the contract-days classified after start up to end: the
        contracts that got MRR for the first time, got it back and lost
        it"""
        def counted(condition):
            return Coalesce(Sum(Case((condition, 1), else_=0)), 0)
        return days.select(
            counted(days.new > 0), counted(days.reactivation > 0),
            counted(days.churn > 0),
            where=(days.date > start) & (days.date <= end))

    @classmethod
    def _contracts(cls, company_id, context):
        """The contract table and the condition of the context's filters on
        it (as on the MRR events, see MRRMovement._event_filter)"""
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        contract = Contract.__table__()
        where = ((contract.company == company_id) & (contract.plan != Null)
            & Movement._filter_condition(contract, contract.id, context))
        return contract, where

    @classmethod
    def _trials(cls, company_id, context, start, today):
        """The trials whose last day was after start and before today that
        ended (converted or closed), and those of them that converted"""
        contract, where = cls._contracts(company_id, context)
        converted = Coalesce(contract.trial, False) == Literal(False)
        ended = converted | (contract.state == 'closed')
        cursor = Transaction().connection.cursor()
        cursor.execute(*contract.select(
                Count(Literal(1)),
                Coalesce(Sum(Case((converted, 1), else_=0)), 0),
                where=where & (contract.trial_end_date >= start)
                & (contract.trial_end_date < today) & ended))
        ended, converted = cursor.fetchone()
        return int(ended or 0), int(converted or 0)

    @classmethod
    def _known_changes(cls, company_id, context, today):
        """The known changes per month (1 .. 12) by name: known_end,
        known_discount_end, known_resume and trial_mrr (before the
        conversion rate)"""
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Plan = pool.get('sale.subscription.plan')
        Line = pool.get('sale.subscription.line')
        contract, where = cls._contracts(company_id, context)
        plan = Plan.__table__()
        line = Line.__table__()
        horizon = today + relativedelta(months=HORIZON)
        running = (where & (contract.state == 'running')
            & (Coalesce(contract.trial, False) == Literal(False)))

        def in_horizon(column):
            "A last day whose next day is in the 12 months"
            return (column >= today) & (column < horizon)
        # ends without renewal: a close asked for, or a term that does not
        # renew by itself (a renewal quotation not confirmed yet)
        ends = contract.join(plan, condition=contract.plan == plan.id).select(
            contract.id, contract.end_date,
            where=running & in_horizon(contract.end_date)
            & ((contract.ends_on != Null) | (plan.duration != 'fixed')
                | (plan.renewal != 'automatic')))
        # discounts ending before their contract does
        discounts = line.join(contract,
            condition=line.subscription == contract.id).select(
            contract.id, line.discount_end_date,
            where=running & in_horizon(line.discount_end_date)
            & (line.discount_rate != Null) & (line.discount_rate != 0)
            & (Coalesce(line.discount_ended, False) == Literal(False))
            & ((contract.end_date == Null)
                | (contract.end_date > line.discount_end_date)),
            group_by=[contract.id, line.discount_end_date])
        resumes = contract.select(contract.id, contract.resume_on,
            where=where & (contract.state == 'paused')
            & (contract.resume_on > today) & (contract.resume_on <= horizon))
        trials = contract.select(contract.id, contract.trial_end_date,
            where=where & (contract.state == 'running')
            & (contract.trial == Literal(True))
            & in_horizon(contract.trial_end_date))

        def month_of(date):
            "The month (1 .. 12) from today that holds date"
            month = 1
            while date > today + relativedelta(months=month):
                month += 1
            return month

        one_day = relativedelta(days=1)
        changes = {
            # the MRR on its last day, lost the day after
            'known_end': (ends, lambda c, d: (
                    d + one_day, -c.compute_mrr(d))),
            # what the daily run logs the day after the discount's end
            'known_discount_end': (discounts, lambda c, d: (
                    d + one_day,
                    c.compute_mrr(d + one_day) - c.compute_mrr(d))),
            'known_resume': (resumes, lambda c, d: (d, c.running_mrr(d))),
            'trial_mrr': (trials, lambda c, d: (
                    d + one_day, c.running_mrr(d + one_day))),
            }
        cursor = Transaction().connection.cursor()
        known = {}
        for name, (query, change) in changes.items():
            cursor.execute(*query)
            found = [(i, d if isinstance(d, datetime.date)
                    else datetime.date.fromisoformat(d)) for i, d in cursor]
            records = Contract.browse([i for i, _ in found])
            per_month = known[name] = {}
            for record, (_, day) in zip(records, found):
                date, amount = change(record, day)
                month = month_of(date)
                per_month[month] = per_month.get(month, Decimal(0)) + amount
        return known


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # the forecast's known changes read the few contracts ending,
        # resuming or ending a trial in a range of days, not all of them
        cls._sql_indexes.update({
                Index(t, (t.end_date, Index.Range()),
                    where=t.state == 'running'),
                Index(t, (t.resume_on, Index.Range()),
                    where=t.state == 'paused'),
                Index(t, (t.trial_end_date, Index.Range()),
                    where=t.trial_end_date != Null),
                })
