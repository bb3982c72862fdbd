# The printable subscription KPI report (Subscription Contracts › Reporting
# › Print KPI Report): the filters of the reports asked in a wizard, then
# one PDF with the last period's headline figures, the KPIs and the MRR
# movements per period (a chart and a table) and the cohort retention.
# Every figure is read from the reporting models under the report's
# context, never computed here; the report only formats them in the user's
# language.
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from .cohort import COHORT_PERIODS, MEASURES, PERIODS
from .mrr_movement import FILTERS as BOOK_FILTERS
from .mrr_movement import KINDS, ReportingContext
from .movement_chart import movement_chart

# the context the reports read, as the wizard passes it in the report's data
FILTERS = ['company', 'from_date', 'to_date', 'period', *BOOK_FILTERS]
# the KPIs of the headline and of the table, in their order
HEADLINE = ['mrr', 'arr', 'net_new', 'customers', 'arpa',
    'customer_churn_rate', 'gross_mrr_churn_rate', 'net_mrr_churn_rate']
RATES = {'customer_churn_rate', 'gross_mrr_churn_rate', 'net_mrr_churn_rate'}
COUNTS = {'customers'}
# the movements' table: the kinds, then the net new MRR and the MRR at end
MOVEMENT_COLUMNS = ['new', 'expansion', 'reactivation', 'contraction',
    'churn', 'net_new', 'mrr']


class KPIReportStart(ReportingContext):
    "The filters of the printed KPI report"
    __name__ = 'sale.subscription.reporting.kpi_report.start'

    cohort_measure = fields.Selection(
        MEASURES, "Cohort Measure", required=True, sort=False,
        help="The retention shown in the cohort table: of the customers "
        "(logo) or of their MRR (revenue).")

    @classmethod
    def default_cohort_measure(cls):
        return Transaction().context.get('cohort_measure') or 'logo'


class KPIReportPrint(Wizard):
    "Print the subscription KPI report"
    __name__ = 'sale.subscription.reporting.kpi_report.print'

    start = StateView('sale.subscription.reporting.kpi_report.start',
        'sale_subscription_contract.kpi_report_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('sale.subscription.reporting.kpi_report')

    def do_print_(self, action):
        data = {}
        for name in FILTERS + ['cohort_measure']:
            value = getattr(self.start, name)
            data[name] = getattr(value, 'id', value)
        return action, data


class KPIReport(Report):
    "The subscription KPI report of the filters in data"
    __name__ = 'sale.subscription.reporting.kpi_report'

    @classmethod
    def execute(cls, ids, data):
        # the figures are read without the record rules (a report runs
        # without access checks): the company of data must be the user's
        User = Pool().get('res.user')
        if (Transaction().user
                and data.get('company') not in User.get_companies()):
            # not even its name is told
            raise AccessError(gettext(
                    'sale_subscription_contract.msg_kpi_report_company'))
        return super().execute(ids, data)

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        Company = pool.get('company.company')
        KPI = pool.get('sale.subscription.reporting.kpi')
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Start = pool.get('sale.subscription.reporting.kpi_report.start')
        context = super().get_context(records, header, data)
        lang = Lang.get()
        filters = {n: data.get(n) for n in FILTERS}
        company = Company(filters['company'])
        currency = company.currency
        period = filters['period']
        names = Start.fields_get(['period', 'cohort_measure'])

        def label(date, period=period):
            "A period's name: Jan 2026, Q1 2026, 2026"
            if period == 'quarter':
                return 'Q%s %s' % ((date.month - 1) // 3 + 1, date.year)
            if period == 'year':
                return str(date.year)
            return lang.strftime(date, '%b %Y')

        def amount(value):
            return lang.format_number(value or 0, currency.digits)
        with Transaction().set_context(**filters):
            kpi_rows = [{n: getattr(k, n) for n in ['date'] + HEADLINE}
                for k in KPI.search([])]
            movement_rows = [
                {n: getattr(m, n) for n in ['date'] + MOVEMENT_COLUMNS}
                for m in Movement.search([])]

        def kpi_text(name, value):
            if value is None:
                return '–'
            if name in RATES:
                return '%s %%' % lang.format_number(value * 100, 2)
            if name in COUNTS:
                return lang.format_number(value, 0)
            return amount(value)
        kpi_labels = KPI.fields_get(HEADLINE)
        movement_labels = Movement.fields_get(MOVEMENT_COLUMNS)
        last = kpi_rows[-1] if kpi_rows else {}
        context.update({
                'company': company,
                'currency': currency,
                'from_date': lang.strftime(filters['from_date']),
                'to_date': lang.strftime(filters['to_date']),
                'period_name': dict(names['period']['selection'])[period],
                'filters': cls._filter_names(filters),
                'last_period': label(last['date']) if last else '',
                'headline': [(kpi_labels[n]['string'],
                        lang.currency(last[n], currency, grouping=True)
                        if n in {'mrr', 'arr', 'net_new', 'arpa'}
                        else kpi_text(n, last[n]))
                    for n in HEADLINE] if last else [],
                'kpi_header': [kpi_labels[n]['string'] for n in HEADLINE],
                'kpi_rows': [[label(r['date'])]
                    + [kpi_text(n, r[n]) for n in HEADLINE]
                    for r in kpi_rows],
                'movement_header': [
                    movement_labels[n]['string'] for n in MOVEMENT_COLUMNS],
                'movement_rows': [[label(r['date'])]
                    + [amount(r[n]) for n in MOVEMENT_COLUMNS]
                    for r in movement_rows],
                'movement_chart': movement_chart(
                    [(label(r['date']), r) for r in movement_rows],
                    {n: movement_labels[n]['string']
                        for n in KINDS + ['net_new']},
                    lambda value: lang.format_number(value, 0)),
                })
        context.update(cls._cohorts(filters, data.get('cohort_measure'),
                names['cohort_measure']['selection'], lang, label, amount))
        return context

    @classmethod
    def _cohorts(cls, filters, measure, measures, lang, label, amount):
        """The cohort table's context: its title's measure and period, its
        rows (cohort, customers, starting MRR, the retention in % of each
        period 0 .. 12)"""
        pool = Pool()
        Cohort = pool.get('sale.subscription.reporting.cohort')
        Context = pool.get('sale.subscription.reporting.cohort.context')
        measure = measure if measure in dict(MEASURES) else 'logo'
        # cohorts by year are too coarse to follow: by quarter then
        period = (filters['period'] if filters['period'] in COHORT_PERIODS
            else 'quarter')
        with Transaction().set_context(
                filters, period=period, cohort_measure=measure):
            rows = [[label(c.date, period), lang.format_number(c.customers, 0),
                    amount(c.mrr)]
                + ['' if v is None else lang.format_number(v, 2)
                    for v in (getattr(c, 'period_%s' % k)
                        for k in range(PERIODS))]
                for c in Cohort.search([])]
        periods = dict(Context.fields_get(['period'])['period']['selection'])
        labels = Cohort.fields_get(['date', 'customers', 'mrr'])
        return {
            'cohort_header': [labels[n]['string']
                for n in ['date', 'customers', 'mrr']]
            + [str(k) for k in range(PERIODS)],
            'cohort_title': '%s (%s)' % (
                dict(measures)[measure], periods[period]),
            'cohort_rows': rows,
            }

    @classmethod
    def _filter_names(cls, filters):
        "The names of the records the report is restricted to, in a line"
        pool = Pool()
        models = {
            'plan': 'sale.subscription.plan',
            'sales_team': 'sale.team',
            'salesperson': 'company.employee',
            'country': 'country.country',
            }
        return ', '.join(pool.get(model)(filters[name]).rec_name
            for name, model in models.items() if filters.get(name))
