"""The subscription reports clicked in the sao web client as a
subscription manager reads them: the cohort retention, by logo, then by
revenue.

The data (tests/browser_reports_data.py: two monthly cohorts, one customer
leaving) is built in Python on a database of its own; the report is
reached by clicking in sao, and the test asserts what the screen shows.
The other reports are clicked in test_browser_lifecycle.py.

Run (CI=true: fail instead of skip without Chromium):
    CI=true .venv/bin/python -m pytest tests/test_browser_reports.py
Screenshots go to /tmp/browser-shots/ (prefixed "reports-").
"""
import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

import rpc_server
import sao_steps
from sao_helpers import (
    close_all, open_list, opened_dialog, rows_of, sign_in, wait_until,
    wizard_button)
from test_browser import (  # noqa: F401 (fixtures)
    ADMIN_PASSWORD, SHOTS, chromium, chromium_page,
    close_config_wizard, sao_root, serve)
from sao_steps import cell_text, list_rows, settle
from test_browser_changes import en_date

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
COHORT_MENU = ('Subscription Contracts', 'Reporting', 'Cohort Retention')


def shot(page, name):
    shot.count = getattr(shot, 'count', 0) + 1
    page.screenshot(path=str(SHOTS / f'reports-{shot.count:02d}-{name}.png'))


@pytest.fixture(scope='module')
def reports(tmp_path_factory, sao_root):
    """sao and trytond on a database of its own with the cohorts of
    browser_reports_data.py; its facts with their dates as dates"""
    tmp = tmp_path_factory.mktemp('reports')
    name, uri, path = rpc_server.database_for(tmp, 'reports')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(TESTS / 'browser_reports_data.py', name, path,
        [ADMIN_PASSWORD], tmp / 'data.log')
    port = serve.free_port()
    config = serve.write_config(
        str(tmp / 'trytond.conf'), uri, port, path, sao_root)
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')
        and k not in {'DB_NAME', 'DB_CACHE'}}
    with open(tmp / 'server.log', 'w') as log:
        process = serve.start_server(config, name, port, log=log, env=env)
    try:
        yield {k: (datetime.date.fromisoformat(v)
                if k in {'today', 'first', 'second'} else v)
            for k, v in facts.items()} | {
            'url': f'http://127.0.0.1:{port}/', 'database': name}
    finally:
        process.terminate()
        process.wait(10)
        if not path:
            rpc_server.drop_postgresql(uri, name)


@pytest.fixture(scope='module')
def page(chromium, reports):
    "sao logged in as admin, kept for the tests of the file"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob('reports-*.png'):
        old.unlink()
    with chromium_page(chromium, 1400, 1000) as page, \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr(sao_steps, 'shot', shot)

        def relogin():
            sign_in(page, reports['url'], reports['database'],
                password=ADMIN_PASSWORD)
            close_config_wizard(page)
            settle(page)
        page.relogin = relogin
        relogin()
        yield page
        close_all(page)


def amount(text):
    "The amount of a cell as sao shows it to the admin (€ 1,234.50)"
    return Decimal(re.sub(r'[^\d.-]', '', text) or '0')


def periods(table, row, count):
    "The texts of the columns Period 0 .. Period count - 1 of the row"
    return [cell_text(table, row, f'Period {k}') for k in range(count)]


def test_cohort_retention_by_logo_then_revenue(page, reports):
    """Two seats and one seat two months ago, one of them gone last month;
    three seats last month: the retention of each cohort by customers,
    then by MRR"""
    listing = open_list(page, COHORT_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'cohorts-logo')
    assert rows_of(table, 'Cohort') == [
        en_date(reports['first']), en_date(reports['second'])]
    assert rows_of(table, 'Customers') == ['2', '1']
    # Kurz KG left in the cohort's second month; this month is period 2
    assert periods(table, 0, 4) == ['100.00', '50.00', '50.00', '']
    assert periods(table, 1, 3) == ['100.00', '100.00', '']

    # by revenue: Anfang's two seats of the three the cohort started with
    measure = listing.locator('select:visible', has=page.locator(
            'option', has_text='Revenue Retention'))
    measure.select_option(label='Revenue Retention')
    # the filters apply with the next search
    listing.locator('form.filter-box input').first.press('Enter')
    wait_until(lambda: cell_text(table, 0, 'Period 1') == '66.67',
        "the report is not shown by revenue")
    shot(page, 'cohorts-revenue')
    assert periods(table, 0, 4) == ['100.00', '66.67', '66.67', '']
    assert periods(table, 1, 3) == ['100.00', '100.00', '']
    # three seats each
    assert [amount(text) for text in rows_of(table, 'Starting MRR')] == [
        3 * Decimal(reports['seat'])] * 2


DASHBOARD_MENU = (
    'Subscription Contracts', 'Reporting', 'Subscription Dashboard')
# each panel of the dashboard: its title, its graph's kind of marks (the
# billboard.js class of a line or a bar) and its legend
DASHBOARD = [
    ('MRR', 'line', ['MRR at End']),
    ('MRR Movements per Month', 'bar',
        ['New', 'Expansion', 'Reactivation', 'Contraction', 'Churn']),
    ('Churn Rates per Month', 'bar',
        ['Customer Churn (%)', 'Gross MRR Churn (%)', 'Net MRR Churn (%)']),
    ('MRR Forecast (12 Months)', 'line', ['MRR at End']),
    ]


def test_dashboard_shows_mrr_movements_and_churn(page, reports):
    """Subscription Dashboard: the graphs of the last twelve months of the
    user's company and its forecast on one screen, each in its panel"""
    board = open_list(page, DASHBOARD_MENU)
    panels = board.locator('.board-action')
    wait_until(lambda: panels.count() == len(DASHBOARD),
        "the dashboard does not show its panels")
    for index, (title, mark, legend) in enumerate(DASHBOARD):
        panel = panels.nth(index)
        assert panel.locator('.panel-heading').inner_text().strip() == title
        # drawn: the marks of the months with MRR, and the legend
        panel.locator(f'.graph svg .bb-{mark}').first.wait_for(state='attached')
        wait_until(lambda: panel.locator(
                '.bb-legend-item').all_text_contents() == legend,
            f"{title}: the legend is not {legend}")
    settle(page)
    shot(page, 'dashboard')
    # the MRR at the end of the twelve months: none until two months ago,
    # then 3 seats, then 5 (3 more, Kurz KG's one gone) this month too;
    # the heights of the line's points above the zero of the first month
    points = [float(y) for y in panels.nth(0).locator(
            '.bb-circles-mrr circle').evaluate_all(
            'circles => circles.map(c => c.getAttribute("cy"))')]
    assert len(points) == 12
    heights = [round((points[0] - y) / (points[0] - points[-1]), 2)
        for y in points]
    assert heights == [0] * 9 + [0.6, 1, 1]
    # two months with new MRR, one with churn
    movements = panels.nth(1)
    drawn = movements.locator('path.bb-bar').evaluate_all(
        'bars => bars.filter(b => b.getBBox().height > 0).map('
        'b => b.closest(".bb-target").classList.value)')
    assert sorted(c.split('bb-target-')[-1] for c in drawn) == [
        'churn', 'new', 'new']
    # the forecast: a point for each of the next twelve months
    forecast = panels.nth(3).locator('.bb-circles-mrr circle')
    wait_until(lambda: forecast.count() == 12,
        "the forecast does not show twelve months")


def test_print_kpi_report_downloads_the_pdf(page, reports):
    """Reporting › Print KPI Report: the wizard's form, then Print gives
    the PDF as a download"""
    # the dashboard's entry opened first: the Reporting menu is unfolded
    open_list(page, DASHBOARD_MENU)
    entry = page.locator('#menu tr:has(div.column-char'
        '[title="Print KPI Report"])').first
    entry.locator('div.column-char').click()
    wizard = opened_dialog(page)
    shot(page, 'kpi-report-wizard')
    with page.expect_download(timeout=120000) as download_info:
        wizard_button(wizard, 'Print')
    download = download_info.value
    assert download.suggested_filename.startswith("Subscription KPI Report")
    assert download.suggested_filename.endswith('.pdf')
    with open(download.path(), 'rb') as pdf:
        assert pdf.read(5) == b'%PDF-'
    # sao's download dialog closes itself once the file is handed over
    wait_until(lambda: not page.locator('.modal-dialog:visible').count(),
        "the download dialog stays open")
