# The drill-down of the subscription reports: double-clicking a row of a
# report opens the MRR events behind it (data/drill_down.xml), as the ERP's
# sale reporting opens a row's records. The action's domain names the row
# (its report and id, from the active record); the events are those of the
# row's period under the report's filters, which come with the action's
# context (see ReportRowEvents in mrr_movement.py).
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

REPORTS = [
    (None, ""),
    ('sale.subscription.reporting.mrr_movement', "MRR Movements"),
    ('sale.subscription.reporting.churn_reason', "Churn by Reason"),
    ('sale.subscription.reporting.sales_team', "MRR per Sales Team"),
    ('sale.subscription.reporting.salesperson', "MRR per Salesperson"),
    ]


class MRREvent(metaclass=PoolMeta):
    __name__ = 'sale.subscription.mrr_event'

    reporting_row = fields.Function(fields.Reference(
            "Report Row", selection=REPORTS,
            help="Searched only: the row of a report whose figures the "
            "event makes, in the filters of the context."),
        'get_reporting_row', searcher='search_reporting_row')

    def get_reporting_row(self, name):
        # an event is behind a row of each report and period kind
        return None

    @classmethod
    def search_reporting_row(cls, name, clause):
        "('reporting_row', '=', [report, row id]): the events behind the row"
        _, operator, value = clause[:3]
        if isinstance(value, str) and ',' in value:
            value = value.split(',', 1)
        if (operator != '=' or not isinstance(value, (list, tuple))
                or len(value) != 2
                or not value[0] or value[0] not in dict(REPORTS)):
            return [('id', '=', None)]
        Report = Pool().get(value[0])
        try:
            row_id = int(value[1])
        except (TypeError, ValueError):
            return [('id', '=', None)]
        rows = Report.search([('id', '=', row_id)])
        if not rows:
            return [('id', '=', None)]
        row, = rows
        return [('id', 'in', Report.row_events(row))]
