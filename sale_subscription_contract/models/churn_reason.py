# Churn by close reason: per period and close reason, the contracts closed
# and the MRR they took away, from the contracts' churn events of the MRR
# log (contract-level: a customer who closes one of two contracts for a
# reason is counted here, as the reason matters even when the customer
# stays). Same filters and periods as the MRR movements.
from dateutil.relativedelta import relativedelta
from sql import Literal, Values
from sql.aggregate import Count, Min, Sum
from sql.functions import DateTrunc, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import PERIOD_MONTHS, PRECISION, period_starts


class ChurnReason(ModelSQL, ModelView):
    "Churned MRR of a period by close reason"
    __name__ = 'sale.subscription.reporting.churn_reason'

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    date = fields.Date("Period", help="The first day of the period.")
    close_reason = fields.Many2One(
        'sale.subscription.close_reason', "Close Reason",
        help="Empty for contracts that ended with their term.")
    contracts = fields.Integer(
        "Contracts", help="The contracts closed in the period.")
    churned_mrr = Monetary(
        "Churned MRR", currency='currency', digits='currency',
        help="The MRR the closed contracts had.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('churned_mrr', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Event = pool.get('sale.subscription.mrr_event')
        Company = pool.get('company.company')
        Context = pool.get('sale.subscription.reporting.context')
        context = Transaction().context
        company_id = context.get('company') or -1
        period = context.get('period') or 'month'
        if period not in PERIOD_MONTHS:
            period = 'month'
        from_date = context.get('from_date') or Context.default_from_date()
        to_date = max(context.get('to_date') or Context.default_to_date(),
            from_date)
        starts = period_starts(from_date, to_date, period)
        currency_id = (Company(company_id).currency.id
            if company_id >= 0 else None)
        months = Values([(start + relativedelta(months=m), start)
                for start in starts
                for m in range(PERIOD_MONTHS[period])])

        event = Event.__table__()
        where = (event.company == company_id) & (event.kind == 'churn')
        for name in ['plan', 'sales_team', 'salesperson']:
            if context.get(name):
                where &= getattr(event, name) == context[name]
        if context.get('country'):
            Movement = pool.get('sale.subscription.reporting.mrr_movement')
            where &= event.subscription.in_(
                Movement._contracts_in_country(context['country']))
        month = cls.date.sql_cast(DateTrunc('month', event.date))
        return event.join(months, condition=month == months.column1).select(
            # one row per period and reason: the period's first event
            Min(event.id).as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(months.column2).as_('date'),
            event.close_reason.as_('close_reason'),
            Count(event.id).as_('contracts'),
            cls.churned_mrr.sql_cast(
                Round(-Sum(event.mrr_change), PRECISION)).as_('churned_mrr'),
            where=where,
            group_by=[months.column2, event.close_reason])
