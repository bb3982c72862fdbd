# Why a contract was closed: a list the company maintains, used in churn analysis.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields


class CloseReason(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'sale.subscription.close_reason'

    name = fields.Char(
        "Name", required=True, translate=True,
        help="The reason as shown to users and customers.")
    code = fields.Char(
        "Code", help="A stable key for reports and automated actions.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))
