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
from sql.functions import DateTrunc, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .mrr_movement import PRECISION, ReportRowEvents, month_periods

KINDS = ['new', 'expansion', 'contraction', 'churn', 'reactivation']


class OwnerMovement(ReportRowEvents, ModelSQL, ModelView):
    """MRR movements of a period per owner of the contracts: _owner names
    the column of the MRR events (and the field) the rows are keyed by"""
    _owner = None

    company = fields.Many2One('company.company', "Company")
    currency = fields.Many2One('currency.currency', "Currency")
    date = fields.Date("Period", help="The first day of the period.")
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
    net_new = Monetary(
        "Net New MRR", currency='currency', digits='currency',
        help="New + expansion + reactivation - contraction - churn.")

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

        classified = Movement._classified(Movement._customer_days(
                company_id, context, by=cls._owner), by=True)
        months = month_periods(starts, period)
        month = cls.date.sql_cast(DateTrunc('month', classified.date))
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

        def amount(name, value):
            field = getattr(cls, name)
            return field.sql_cast(Round(value, PRECISION)).as_(name)
        new, expansion, contraction, churn, reactivation = [
            Coalesce(Column(per_period, k), 0) for k in KINDS]
        return per_period.join(periods,
            condition=periods.column1 == per_period.start).select(
            (owner * 10 ** 8 + periods.column2).as_('id'),
            Literal(company_id).as_('company'),
            Literal(currency_id).as_('currency'),
            cls.date.sql_cast(per_period.start).as_('date'),
            per_period.owner.as_(cls._owner),
            amount('new', new),
            amount('expansion', expansion),
            amount('contraction', contraction),
            amount('churn', churn),
            amount('reactivation', reactivation),
            amount('net_new',
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
