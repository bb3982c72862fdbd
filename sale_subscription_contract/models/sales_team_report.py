# MRR movements per period and sales team (or salesperson), from the same
# filtered MRR event log as the MRR movements (mrr_movement.py), in one SQL
# query. A team's movements are the customer-level movements of the book
# restricted to the team's contracts: the MRR movements report filtered by
# that team. So each team's book is classified on its own, per team and
# customer: a customer who leaves one team's contract for another team's
# churns for the first and is new (or reactivated) for the second. The team
# is the one the contract had when its MRR changed (the event's); the
# contracts of no team have a row with an empty team. Only the periods in
# which a team's book changed have a row for it.
from sql import Cast, Column, Literal, Null, Values
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import (
    KINDS, ComputedRows, MovementFields, ReportRowEvents, month_of, month_periods,
    rounded)


class OwnerMovement(
        ComputedRows, MovementFields, ReportRowEvents, ModelSQL, ModelView):
    """MRR movements of a period per owner of the contracts: _owner names
    the column of the MRR events (and the field) the rows are keyed by"""
    _owner = None

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('net_new', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Context = pool.get('sale.subscription.reporting.context')
        context = Transaction().context
        company_id, currency_id, period, starts = Context.report_range()

        classified = Movement._customer_book(
            company_id, context, by=cls._owner)
        months = month_periods(starts, period)
        month = month_of(classified.date)
        per_period = classified.join(months,
            condition=month == months.column1).select(
            months.column2.as_('start'), classified.owner.as_('owner'),
            *[Sum(Column(classified, k)).as_(k) for k in KINDS],
            group_by=[months.column2, classified.owner])

        # an id per company, period and owner: the period as a month
        # number, the company below 1000, the owner above
        company = max(company_id, 0)
        periods = Values([(s, company * 10 ** 5 + s.year * 12 + s.month - 1)
                for s in starts])
        # 64 bits: PostgreSQL multiplies integers in 32
        owner = Cast(Coalesce(per_period.owner, 0), 'BIGINT')

        new, expansion, contraction, churn, reactivation = [
            Coalesce(Column(per_period, k), 0) for k in KINDS]
        return per_period.join(periods,
            condition=periods.column1 == per_period.start).select(
            (owner * 10 ** 8 + periods.column2).as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(per_period.start).as_('date'),
            per_period.owner.as_(cls._owner),
            rounded(cls, 'new', new),
            rounded(cls, 'expansion', expansion),
            rounded(cls, 'contraction', contraction),
            rounded(cls, 'churn', churn),
            rounded(cls, 'reactivation', reactivation),
            rounded(cls, 'net_new',
                new + expansion + reactivation - contraction - churn),
            # without a company in the context there is nothing to report
            where=Literal(company_id >= 0))

    @classmethod
    def _row_condition(cls, record, event):
        "The period's events of the row's owner (or of no owner)"
        owner = getattr(record, cls._owner)
        column = Column(event, cls._owner)
        return column == owner.id if owner else column == Null

    def _row_records(self):
        return [getattr(self, self._owner)]


class SalesTeamMovement(OwnerMovement):
    "MRR movements of a period per sales team"
    __name__ = 'sale.subscription.reporting.sales_team'
    _owner = 'sales_team'

    sales_team = fields.Many2One(
        'sale.team', "Sales Team",
        help="The team the contracts were credited to when their MRR "
        "changed; empty for the contracts of no team.")


class SalespersonMovement(OwnerMovement):
    "MRR movements of a period per salesperson"
    __name__ = 'sale.subscription.reporting.salesperson'
    _owner = 'salesperson'

    salesperson = fields.Many2One(
        'company.employee', "Salesperson",
        help="The employee the contracts were credited to when their MRR "
        "changed; empty for the contracts of no salesperson.")
