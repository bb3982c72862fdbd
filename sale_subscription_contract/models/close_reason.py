# Why a contract was closed: a list the company maintains, used in churn analysis.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields

from .sizes import CODE_SIZE, NAME_SIZE


class CloseReason(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'sale.subscription.close_reason'

    name = fields.Char(
        "Name", required=True, translate=True, size=NAME_SIZE,
        help="The reason as shown to users and customers.")
    code = fields.Char(
        "Code", size=CODE_SIZE, help="A stable key for reports and automated actions.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))
