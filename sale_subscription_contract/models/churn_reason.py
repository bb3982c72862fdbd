# Churn by close reason: per period and close reason, the contracts closed
# and the MRR they took away, from the contracts' churn events of the MRR
# log (contract-level: a customer who closes one of two contracts for a
# reason is counted here, as the reason matters even when the customer
# stays). Same filters and periods as the MRR movements.
from sql import Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.functions import Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import (
    PRECISION, ComputedRows, ReportRowEvents, month_of, month_periods)


class ChurnReason(ComputedRows, ReportRowEvents, ModelSQL, ModelView):
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
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Context = pool.get('sale.subscription.reporting.context')
        company_id, currency_id, period, starts = Context.report_range()
        months = month_periods(starts, period)
        event = Event.__table__()
        where = (Movement._event_filter(
                event, company_id, Transaction().context)
            & (event.kind == 'churn'))
        month = month_of(event.date)
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

    @classmethod
    def _row_condition(cls, record, event):
        "The period's churn events of the row's close reason"
        if record.close_reason:
            reason = event.close_reason == record.close_reason.id
        else:
            reason = event.close_reason == Null
        return (event.kind == 'churn') & reason

    def _row_records(self):
        return [self.close_reason]
