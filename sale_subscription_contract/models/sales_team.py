# Sales teams and salespeople: the ERP has neither, MRR is reported per both.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .sizes import NAME_SIZE


class SalesTeam(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'sale.team'

    name = fields.Char(
        "Name", required=True, translate=True, size=NAME_SIZE,
        help="The name of the team.")
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    leader = fields.Many2One(
        'company.employee', "Leader",
        domain=[('company', '=', Eval('company', -1))],
        help="The employee who leads the team.")
    members = fields.Many2Many(
        'sale.team-company.employee', 'team', 'employee', "Members",
        domain=[('company', '=', Eval('company', -1))],
        help="The salespeople of the team.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class SalesTeamEmployee(ModelSQL):
    __name__ = 'sale.team-company.employee'

    team = fields.Many2One(
        'sale.team', "Team", required=True, ondelete='CASCADE')
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('team')


class SalespersonMixin:
    "Salesperson and team fields shared by sales and contracts"
    __slots__ = ()

    salesperson = fields.Many2One(
        'company.employee', "Salesperson",
        domain=[('company', '=', Eval('company', -1))],
        help="The employee credited with the sale.")
    sales_team = fields.Many2One(
        'sale.team', "Sales Team",
        domain=[('company', '=', Eval('company', -1))],
        help="The team credited with the sale.")

    @fields.depends('salesperson', 'sales_team')
    def on_change_salesperson(self):
        pool = Pool()
        Team = pool.get('sale.team')
        if self.salesperson and not self.sales_team:
            teams = Team.search([
                    ('members', '=', self.salesperson.id),
                    ], limit=1)
            if teams:
                self.sales_team, = teams


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'

    sales_teams = fields.Many2Many(
        'sale.team-company.employee', 'employee', 'team', "Sales Teams",
        help="The sales teams the employee belongs to.")
