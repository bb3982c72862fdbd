"""The subscription reports clicked in sao as a sales manager would: MRR per
sales team and per salesperson, the drill-down of a report's row to the MRR
events behind it (a double-click), a contract's MRR history (Open
related records), and the MRR forecast from today's MRR.

The data is the lifecycle tests' (tests/browser_lifecycle_data.py: contracts
of no salesperson begun this month or the month before, on a database of
this file's own).

Run: CI=true .venv/bin/python -m pytest -p no:cacheprovider tests/test_browser_analytics.py
"""
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from sao_helpers import open_list, rows_of, shot, wait_until
from sao_steps import cell_text, list_rows, open_form, settle
from test_browser import chromium, sao_root  # noqa: F401 (fixtures)
from test_browser_changes import CONTRACTS_MENU, en_date
from test_browser_lifecycle import (  # noqa: F401 (fixtures)
    MOVEMENTS, MRR_MOVEMENTS_MENU, amount, browser_page, data, lifecycle,
    page)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPORTING = ('Subscription Contracts', 'Reporting')


def active_tab(page):
    return page.locator('#tabcontent > .tab-pane.active').first


def net_new(table, row):
    "The row's net new MRR, checked against its movements"
    figures = {name: amount(cell_text(table, row, name))
        for name in MOVEMENTS + ['Net New MRR']}
    assert figures['Net New MRR'] == (figures['New'] + figures['Expansion']
        + figures['Reactivation'] - figures['Contraction'] - figures['Churn'])
    return figures['Net New MRR']


@pytest.mark.parametrize('report,owner', [
        ('MRR per Sales Team', 'Sales Team'),
        ('MRR per Salesperson', 'Salesperson'),
        ])
def test_mrr_per_sales_team_and_salesperson(page, data, report, owner):
    "The contracts of the data have no salesperson: one row, empty team"
    this_month = en_date(data['today'].replace(day=1))
    listing = open_list(page, REPORTING + (report,))
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'sales-team-report')
    rows = [i for i, period in enumerate(rows_of(table, 'Period'))
        if period == this_month]
    assert len(rows) == 1, rows
    assert cell_text(table, rows[0], owner) == ''
    assert amount(cell_text(table, rows[0], 'New')) > 0
    net_new(table, rows[0])


def test_double_click_on_a_movement_opens_its_events(page, data):
    "This month's movements: its MRR events, whose changes make its figure"
    this_month = data['today'].replace(day=1)
    listing = open_list(page, MRR_MOVEMENTS_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    row = rows_of(table, 'Period').index(en_date(this_month))
    figure = net_new(table, row)
    tabs = page.locator('#tablist a')
    before = tabs.count()
    # on a figure (the first cells are the selection's and the period's)
    list_rows(table).nth(row).locator('td:visible').nth(2).dblclick()
    wait_until(lambda: tabs.count() == before + 1,
        "the double-click opens no tab")
    settle(page)
    events = active_tab(page).locator('.treeview').first
    list_rows(events).first.wait_for()
    shot(page, 'movement-events')
    # the tab is named after the row: MRR Events (its period)
    assert tabs.last.inner_text().splitlines()[-1].strip() == (
        f'MRR Events ({en_date(this_month)})')
    dates = rows_of(events, 'Date')
    month = this_month.strftime('%m/')
    assert dates and all(d.startswith(month) for d in dates), dates
    changes = [amount(c) for c in rows_of(events, 'MRR Change')]
    assert sum(changes, Decimal(0)) == figure


def test_a_contracts_mrr_history(page, data):
    "Open related records › MRR History: the list and the line graph"
    contract = data['mailed']
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    tab.locator('button#relate').click()
    tab.locator('.dropdown-menu:visible a', has_text='MRR History').click()
    tabs = page.locator('#tablist a')
    wait_until(lambda: 'MRR History' in tabs.last.inner_text(),
        "no MRR History tab")
    settle(page)
    history = active_tab(page)
    events = history.locator('.treeview').first
    list_rows(events).first.wait_for()
    assert rows_of(events, 'Kind') == ['New']
    assert amount(cell_text(events, 0, 'MRR After')) == Decimal(
        contract['mrr'])
    # the next view: the line graph of the MRR after each change
    history.locator('button[title^="Switch"]').first.click()
    history.locator('.graph svg, .graph canvas').first.wait_for()
    settle(page)
    shot(page, 'mrr-history-graph')


FORECAST_MENU = REPORTING + ('MRR Forecast',)
FORECAST_TERMS = {'New': 1, 'Expansion': 1, 'Reactivation': 1, 'Churn': -1,
    'Contraction': -1, 'Known Ends': 1, 'Known Discount Ends': 1,
    'Known Resumes': 1, 'Known Trial Conversions': 1}


def test_mrr_forecast(page, data):
    """Twelve months from today's MRR, the contracts' (all begun in the
    trailing months); the fixed quarter renewed by quotation ends in its
    month; each row is its start plus its columns"""
    today = data['today']
    keys = ['pause', 'close_today', 'close_end', 'renew', 'add_card',
        'declined', 'mailed']
    mrr_today = sum((Decimal(data[k]['mrr']) for k in keys), Decimal(0))
    listing = open_list(page, FORECAST_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'mrr-forecast')
    months = [today + relativedelta(months=m) for m in range(1, 13)]
    assert rows_of(table, 'Month End') == [en_date(m) for m in months]
    assert amount(cell_text(table, 0, 'MRR at Start')) == mrr_today
    renewal = data['renew']
    ends = renewal['end'] + relativedelta(days=1)
    month = next(i for i, m in enumerate(months) if ends <= m)
    known_ends = [amount(e) for e in rows_of(table, 'Known Ends')]
    assert known_ends[month] == -Decimal(renewal['mrr'])
    assert sum(known_ends) == known_ends[month]
    start = mrr_today
    for row in range(12):
        assert amount(cell_text(table, row, 'MRR at Start')) == start
        start += sum(sign * amount(cell_text(table, row, name))
            for name, sign in FORECAST_TERMS.items())
        assert amount(cell_text(table, row, 'MRR at End')) == start
    # the next view: the line graph of the MRR
    listing.locator('button[title^="Switch"]').first.click()
    listing.locator('.graph svg, .graph canvas').first.wait_for()
    settle(page)
    shot(page, 'mrr-forecast-graph')
