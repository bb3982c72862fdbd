"""The printed subscription KPI report (Subscription Contracts › Reporting ›
Print KPI Report): the book of test_mrr_movements.py from January to April
2026, printed through the wizard as a user does; its figures, written out
by hand from the definitions (see test_mrr_movements.py, test_cohorts.py),
are found in the report's text in English and in German, and the PDF
LibreOffice makes of it has its three pages.

The book (the MRR at the end of each month):
    Alice  Jan 100, Feb 150, Mar 100, Apr 100
    Bob    Jan 200, Feb 200, Mar 150, Apr   0 (closed)
April, the last period: MRR 100, ARR 1,200, net new -150 (Bob's churn),
one active customer, ARPA 100; one of the two customers at the start
churned (50 %); (150 churn + 0 contraction) ÷ 250 = 60 % gross and net.
The January cohort's revenue retention: 300, 350, 250, 100 of 300.
"""
import datetime
import io
import re
import zipfile

from lxml import etree

from trytond.transaction import Transaction

from test_email import german
from test_mrr_movements import build_book

D = datetime.date
MODULE = 'sale_subscription_contract'


def print_report(env, **values):
    """Run the wizard as the client does: its form's defaults, then Print;
    the report's action and data"""
    Wizard = env.get(
        'sale.subscription.reporting.kpi_report.print', type='wizard')
    session_id, start, _ = Wizard.create()
    defaults = Wizard.execute(session_id, {}, start)['view']['defaults']
    # as the client sends it back: without the names of the relations
    defaults = {k: v for k, v in defaults.items() if '.' not in k}
    defaults.update(values)
    (action, data), = Wizard.execute(
        session_id, {start: defaults}, 'print_')['actions']
    Wizard.delete(session_id)
    return action, data


def report_text(env, data):
    "The text of the report's ODT (before LibreOffice), one line a paragraph"
    pool = env.pool
    ActionReport = pool.get('ir.action.report')
    ModelData = pool.get('ir.model.data')
    Report = pool.get('sale.subscription.reporting.kpi_report', type='report')
    action = ActionReport(ModelData.get_id(MODULE, 'report_kpi'))
    odt = Report.render(action, Report.get_context([], {}, data))
    with zipfile.ZipFile(io.BytesIO(odt)) as archive:
        content = etree.fromstring(archive.read('content.xml'))
        names = archive.namelist()
    text = '\n'.join(''.join(p.itertext()) for p in content.iter(
            '{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p'))
    # the chart is an image of its own in the document
    assert any(n.endswith('.svg') for n in names), names
    return text.replace('\u00a0', ' ')


def cards(lines):
    "The headline's cards: each label (its first line) and the value below"
    values = {}
    for label, value in zip(lines, lines[1:]):
        values.setdefault(label, value)
    return values


def execute(env, data):
    Report = env.get('sale.subscription.reporting.kpi_report', type='report')
    return Report.execute([], data)


def test_kpi_report_in_english(env):
    build_book(env)
    action, data = print_report(env, company=env.company.id,
        from_date=D(2026, 1, 1), to_date=D(2026, 4, 30), period='month',
        cohort_measure='revenue')
    assert action['report_name'] == 'sale.subscription.reporting.kpi_report'
    assert data['from_date'] == D(2026, 1, 1) and data['period'] == 'month'
    with Transaction().set_context(language='en'):
        text = report_text(env, data)
    lines = text.splitlines()
    assert "Subscription KPI Report" in lines
    assert ("From 01/01/2026 to 04/30/2026 · Periods: Month · Amounts in EUR"
        in lines)
    assert "Headline figures of the last period: Apr 2026" in lines
    # the headline cards: a label, then its value
    headline = cards(lines)
    assert headline["MRR at End"] == "€100.00"
    assert headline["ARR"] == "€1,200.00"
    assert headline["Net New MRR"] == "-€150.00"
    assert headline["Active Customers"] == "1"
    assert headline["ARPA"] == "€100.00"
    assert headline["Customer Churn (%)"] == "50.00 %"
    assert headline["Gross MRR Churn (%)"] == "60.00 %"
    assert headline["Net MRR Churn (%)"] == "60.00 %"
    # the movements' table: April's row, then the cohort's
    assert "Apr 2026\n0.00\n0.00\n0.00\n0.00\n150.00\n-150.00\n100.00" in text
    assert "Cohort retention: Revenue Retention (Month)" in text
    assert "Jan 2026\n2\n300.00\n100.00\n116.67\n83.33\n33.33\n" in text

    extension, pdf, _, name = execute(env, data)
    assert (extension, name) == ('pdf', "Subscription KPI Report")
    assert pdf.startswith(b'%PDF')
    # the figures, the movements and the cohorts each on a page
    assert len(re.findall(rb'/Type\s*/Page\b', pdf)) == 3


def test_kpi_report_in_german(env):
    german(env)
    build_book(env)
    _, data = print_report(env, company=env.company.id,
        from_date=D(2026, 1, 1), to_date=D(2026, 4, 30), period='month',
        cohort_measure='revenue')
    with Transaction().set_context(language='de'):
        text = report_text(env, data)
    lines = text.splitlines()
    assert "Abonnement-Kennzahlen" in lines
    assert "Vom 01.01.2026 bis 30.04.2026 · Perioden: Monat · Beträge in EUR" in lines
    assert "Kennzahlen der letzten Periode: Apr 2026" in lines
    headline = cards(lines)
    assert headline["MRR am Ende"] == "100,00 €"
    assert headline["ARR"] == "1.200,00 €"
    assert headline["Kundenabwanderung (%)"] == "50,00 %"
    assert headline["Brutto-MRR-Abwanderung (%)"] == "60,00 %"
    assert "Apr 2026\n0,00\n0,00\n0,00\n0,00\n150,00\n-150,00\n100,00" in text
    assert "Jan 2026\n2\n300,00\n100,00\n116,67\n83,33\n33,33\n" in text
    assert "Kohortenbindung: Umsatzbindung (Monat)" in text
    with Transaction().set_context(language='de'):
        extension, pdf, _, name = execute(env, data)
    assert extension == 'pdf' and pdf.startswith(b'%PDF')


def test_by_year_the_cohorts_are_by_quarter(env):
    "Yearly cohorts are too coarse: the report's cohort table is by quarter"
    build_book(env)
    _, data = print_report(env, company=env.company.id,
        from_date=D(2026, 1, 1), to_date=D(2026, 6, 30), period='year',
        cohort_measure='logo')
    with Transaction().set_context(language='en'):
        text = report_text(env, data)
    # the year's movements (test_mrr_movements.py)
    assert "2026\n300.00\n70.00\n80.00\n100.00\n150.00\n200.00\n200.00" in text
    assert "Cohort retention: Logo Retention (Quarter)" in text
    # the first quarter's cohort: Alice and Bob, 250 at its end; both have
    # MRR at the end of the second quarter
    assert "Q1 2026\n2\n250.00\n100.00\n100.00\n" in text
