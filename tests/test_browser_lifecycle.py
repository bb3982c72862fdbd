"""A contract's life clicked in the sao web client as a subscription
manager would: pause and resume, close today or at the end of the period,
reopen, renew a fixed term, store a customer's card, follow a failed charge
and its dunning, read the invoice e-mail sent to the customer.

The data (tests/browser_lifecycle_data.py) is built in Python on a
database of its own, the nightly billing included; every feature under test
is reached by clicking in sao, and the tests assert what the screen shows.
One server and one browser for the file.

Run: .venv/bin/python -m pytest -p no:cacheprovider tests/test_browser_lifecycle.py
Screenshots go to /tmp/browser-shots/ (prefixed "lifecycle-").
"""
import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

import rpc_server
import sao_steps
from sao_helpers import (
    button, choose, close_all, confirm, field_list, icon_loaded, open_list,
    open_page, opened_dialog, rows_of, shot, sign_in, type_into, user_error,
    wait_hidden, wait_until, wizard_button)
from test_browser import (  # noqa: F401 (fixtures)
    ADMIN_PASSWORD, SHOTS, chromium, chromium_page,
    close_config_wizard, same_value, sao_root, serve)
from sao_steps import (
    assert_field, cell_text, click_button, dialog, field, list_rows,
    open_form, settle)
from test_browser_changes import CONTRACTS_MENU, SALES_MENU, en_date

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
PAYMENT_FAILED_MENU = ('Subscription Contracts', 'Payment Failed')
PAYMENT_METHODS_MENU = ('Subscription Contracts', 'Payment Methods')
MRR = 2 * Decimal('29.90')  # two seats a month on every contract


@pytest.fixture(scope='module')
def lifecycle(tmp_path_factory, sao_root):
    """sao and trytond on a database of its own with the contracts the
    tests click on (see browser_lifecycle_data.py)"""
    tmp = tmp_path_factory.mktemp('lifecycle')
    name, uri, path = rpc_server.database_for(tmp, 'lifecycle')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(TESTS / 'browser_lifecycle_data.py', name, path,
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
        yield dict(facts, url=f'http://127.0.0.1:{port}/', database=name)
    finally:
        process.terminate()
        process.wait(10)
        if not path:
            rpc_server.drop_postgresql(uri, name)


@pytest.fixture(scope='module')
def data(lifecycle):
    "The facts with their dates as dates"
    def dates(value):
        if isinstance(value, dict):
            return {k: dates(v) for k, v in value.items()}
        if isinstance(value, str) and len(value) == 10 and value[4] == '-':
            return datetime.date.fromisoformat(value)
        return value
    return dates(lifecycle)


@pytest.fixture(scope='module')
def browser_page(chromium, lifecycle):
    "sao logged in as admin, kept for all the tests of the file"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob('lifecycle-*.png'):
        old.unlink()
    with chromium_page(chromium, 1400, 1000) as page, \
            pytest.MonkeyPatch.context() as patch:
        # the helpers' screenshots are this file's
        patch.setattr(sao_steps, 'shot', shot)
        patch.setattr(sao_steps, 'open_list', open_list)

        def relogin():
            sign_in(page, lifecycle['url'], lifecycle['database'],
                password=ADMIN_PASSWORD)
            close_config_wizard(page)
            settle(page)
        page.relogin = relogin
        relogin()
        yield page


@pytest.fixture
def page(browser_page, request):
    "Each test starts with no tab open; its last screen is kept"
    close_all(browser_page)
    yield browser_page
    shot(browser_page, f'end-{request.node.name}')


# --- pause and resume -------------------------------------------------------

def test_pause_and_resume(page, data):
    today = data['today']
    tab = open_form(page, CONTRACTS_MENU, data['pause']['party'])
    pause = button(tab, 'Pause')
    pause.wait_for()
    assert icon_loaded(pause), "the Pause button has no icon"
    assert_field(tab, 'MRR', MRR)
    pause.click()
    wizard = opened_dialog(page)
    assert_field(wizard, 'From', en_date(today))
    shot(page, 'pause-start')
    wizard_button(wizard, 'Pause')
    # not invoiced yet: the pause begins today, nothing is served or billed
    assert_field(tab, 'State', 'Paused')
    assert_field(tab, 'MRR', Decimal(0))
    open_page(tab, 'Trial, Pause and Renewal')
    assert_field(tab, 'Paused From', en_date(today))
    # the plan's maximum: resumed after 90 days unless resumed before
    assert_field(tab, 'Resume On', en_date(
            today + datetime.timedelta(days=90)))
    shot(page, 'paused')
    # a paused contract goes back neither to draft nor into a new pause
    resume = button(tab, 'Resume')
    assert resume.is_visible()
    assert not button(tab, 'Draft').is_visible()
    assert not button(tab, 'Pause').is_visible()

    resume.click()
    confirm(page)
    assert_field(tab, 'State', 'Running')
    assert_field(tab, 'MRR', MRR)
    wait_hidden(field(tab, 'Paused From'), "Paused From still shown")
    # the periods count from the resume day
    open_page(tab, 'Contract')
    assert_field(tab, 'Billing Anchor', en_date(today))
    assert button(tab, 'Pause').is_visible()
    shot(page, 'resumed')


# --- close and reopen -------------------------------------------------------

def close_contract(page, tab, reason, button_name, period_end):
    """Close the contract with the Close wizard: a reason, a comment typed
    last (as users do), then Close Today or Close at Period End"""
    click_button(tab, 'Close')
    wizard = opened_dialog(page)
    field(wizard, 'Reason').wait_for()
    # the last day already paid for is what the period end keeps
    assert_field(wizard, 'Last Day of Service', en_date(period_end))
    choose(wizard, 'Reason', reason)
    field(wizard, 'Comment').fill("Per Telefon gekündigt")
    shot(page, 'close-start')
    wizard_button(wizard, button_name)
    wait_hidden(wizard, "the Close wizard stays open")


def test_close_today_with_a_reason(page, data):
    today = data['today']
    contract = data['close_today']
    period_end = contract['start'] + relativedelta(months=1) - (
        datetime.timedelta(days=1))
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    # its plan allows no pause: none is offered
    button(tab, 'Close').wait_for()
    assert not button(tab, 'Pause').is_visible()
    close_contract(page, tab, "Too expensive", 'Close Today', period_end)
    assert_field(tab, 'State', 'Closed')
    assert_field(tab, 'MRR', Decimal(0))
    assert not button(tab, 'Close').is_visible()
    assert button(tab, 'Reopen').is_visible()
    open_page(tab, 'Contract')
    assert_field(tab, 'Close Reason', "Too expensive")
    assert_field(tab, 'Closed On', en_date(today))
    assert_field(tab, 'Close Comment', "Per Telefon gekündigt")
    # the churn is logged today, the whole MRR
    open_page(tab, 'MRR Events')
    events = field_list(tab)
    wait_until(lambda: list_rows(events).count() == 2,
        "the MRR log does not show the new business and the churn")
    shot(page, 'churn')
    kinds = rows_of(events, 'Kind')
    assert sorted(kinds) == ['Churn', 'New'], kinds
    churn = kinds.index('Churn')
    assert cell_text(events, churn, 'Date') == en_date(today)
    assert same_value(cell_text(events, churn, 'MRR Change'), -MRR)
    assert cell_text(events, churn, 'Close Reason') == "Too expensive"


def test_close_at_the_end_of_the_period_then_reopen(page, data):
    contract = data['close_end']
    last_day = contract['start'] + relativedelta(months=1) - (
        datetime.timedelta(days=1))
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    close_contract(page, tab, "No longer needed", 'Close at Period End',
        last_day)
    # an end asked for: running and counted until its last paid day
    assert_field(tab, 'State', 'Running')
    assert_field(tab, 'Ends On', en_date(last_day))
    assert_field(tab, 'MRR', MRR)
    shot(page, 'ending')

    listing = open_list(page, CONTRACTS_MENU)
    listing.locator('.nav-tabs a', has_text='Ending').first.click()
    settle(page)
    ending = listing.locator('.treeview').first
    row = ending.locator('tbody tr', has_text=contract['party'])
    row.wait_for()
    shot(page, 'ending-list')
    assert list_rows(ending).count() == 1
    assert cell_text(ending, 0, 'Ends On') == en_date(last_day)

    # Reopen cancels the end: nothing happened
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    click_button(tab, 'Reopen')
    confirm(page)
    wait_hidden(field(tab, 'Ends On'), "Ends On still shown after Reopen")
    assert_field(tab, 'State', 'Running')
    assert_field(tab, 'MRR', MRR)
    assert not button(tab, 'Reopen').is_visible()
    shot(page, 'reopened')
    listing = open_list(page, CONTRACTS_MENU)
    listing.locator('.nav-tabs a', has_text='Ending').first.click()
    settle(page)
    ending = listing.locator('.treeview').first
    wait_until(lambda: not ending.locator(
            'tbody tr', has_text=contract['party']).count(),
        "the reopened contract is still listed under Ending")


# --- renewal ----------------------------------------------------------------

def test_renew_a_fixed_term(page, data):
    contract = data['renew']
    end = contract['end']
    assert end == contract['start'] + relativedelta(months=3) - (
        datetime.timedelta(days=1))
    renewed_end = contract['start'] + relativedelta(months=6) - (
        datetime.timedelta(days=1))
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    assert_field(tab, 'End Date', en_date(end))
    click_button(tab, 'Renewal Quotation')
    settle(page)
    open_page(tab, 'Trial, Pause and Renewal')
    renewals = field_list(tab)
    list_rows(renewals).first.wait_for()
    shot(page, 'renewal-quotation')
    assert rows_of(renewals, 'State') == ['Quotation']

    # the customer accepts: the quotation is confirmed in Sales
    sales = open_list(page, SALES_MENU)
    sales.locator('.nav-tabs a', has_text='Quotation').first.click()
    settle(page)
    row = sales.locator('.treeview tbody tr', has_text=contract['party'])
    row.first.wait_for()
    settle(page)
    row.first.locator('td:visible').nth(2).click()
    sales.locator('button[title^="Switch"]').first.click()
    assert_field(sales, 'Renewal Of', contract['number'])
    assert_field(sales, 'Renewal Start', en_date(
            end + datetime.timedelta(days=1)))
    click_button(sales, 'Confirm')
    settle(page)
    shot(page, 'renewal-confirmed')

    # the same contract goes on for another term
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    assert_field(tab, 'End Date', en_date(renewed_end))
    assert_field(tab, 'State', 'Running')
    shot(page, 'renewed')


# --- payment methods --------------------------------------------------------

def add_card(page, tab, number, month, year, cvc='123', holder=None):
    "Fill the Add Card wizard of the contract and click Add Card"
    click_button(tab, 'Add Card')
    wizard = opened_dialog(page)
    field(wizard, 'Card Number').wait_for()
    settle(page)
    if holder:
        type_into(field(wizard, 'Cardholder'), holder)
    type_into(field(wizard, 'Card Number'), number)
    type_into(field(wizard, 'Expiry Month'), str(month))
    type_into(field(wizard, 'Expiry Year'), str(year))
    type_into(field(wizard, 'Security Code'), cvc)
    shot(page, 'add-card')
    wizard_button(wizard, 'Add Card')
    return wizard


def test_store_a_card_for_a_contract(page, data):
    today = data['today']
    contract = data['add_card']
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    open_page(tab, 'Payment')
    click_button(tab, 'Add Card')
    wizard = opened_dialog(page)
    # the contract's customer and the company's card journal are given
    assert_field(wizard, 'Contract', contract['number'])
    assert_field(wizard, 'Customer', contract['party'])
    assert_field(wizard, 'Payment Journal', data['journal'])
    wizard_button(wizard, 'Cancel')
    wait_hidden(wizard, "Cancel left the wizard open")

    # a mistyped number and an expired card are refused, nothing stored
    wizard = add_card(page, tab, '4242 4242 4242 4241', 12, today.year + 3,
        holder="Erika Mustermann")
    message = user_error(page, 'not a valid card number')
    assert '"4241"' in message, message
    type_into(field(wizard, 'Card Number'), '4242 4242 4242 4242')
    type_into(field(wizard, 'Expiry Year'), str(today.year - 1))
    wizard_button(wizard, 'Add Card')
    message = user_error(page, 'expired')
    assert f'12/{today.year - 1}' in message, message
    type_into(field(wizard, 'Expiry Year'), str(today.year + 3))
    wizard_button(wizard, 'Add Card')
    wait_hidden(wizard, "the Add Card wizard stays open")
    # the contract is charged with it from now on
    assert_field(tab, 'Payment Method', "Visa •••• 4242")
    shot(page, 'card-added')

    listing = open_list(page, PAYMENT_METHODS_MENU)
    cards = listing.locator('.treeview').first
    row = cards.locator('tbody tr', has_text=contract['party'])
    row.wait_for()
    shot(page, 'payment-methods')
    index = [i for i in range(list_rows(cards).count())
        if cell_text(cards, i, 'Customer') == contract['party']]
    assert len(index) == 1, rows_of(cards, 'Customer')
    assert cell_text(cards, index[0], 'Card') == "Visa •••• 4242"
    assert cell_text(cards, index[0], 'Expiry Month') == '12'
    assert cell_text(cards, index[0], 'Expiry Year') == str(today.year + 3)
    # its form: brand, last digits, expiry, holder; the token is shown to
    # the administrator only (a field access)
    tab = open_form(page, PAYMENT_METHODS_MENU, contract['party'])
    assert_field(tab, 'Brand', 'Visa')
    assert_field(tab, 'Last 4 Digits', '4242')
    assert_field(tab, 'Expiry Month', '12')
    assert_field(tab, 'Expiry Year', str(today.year + 3))
    assert_field(tab, 'Cardholder', "Erika Mustermann")
    token = field(tab, 'Token')
    wait_until(lambda: token.input_value().startswith('tok_test_'),
        f"no token shown: {token.input_value()!r}")
    assert '4242424242424242' not in tab.inner_text()

    # another card of the same customer, from the list's actions
    listing = open_list(page, PAYMENT_METHODS_MENU)
    cards = listing.locator('.treeview').first
    row = cards.locator('tbody tr', has_text=contract['party']).first
    row.wait_for()
    settle(page)
    row.locator('td:visible').nth(2).click()
    settle(page)
    listing.locator('button[title="Launch action"]').first.click()
    page.locator('.dropdown-menu:visible a', has_text='Add Card').first.click()
    wizard = opened_dialog(page)
    assert_field(wizard, 'Customer', contract['party'])
    assert_field(wizard, 'Payment Journal', data['journal'])
    type_into(field(wizard, 'Card Number'), '5555 5555 5555 4444')
    type_into(field(wizard, 'Expiry Month'), '3')
    type_into(field(wizard, 'Expiry Year'), str(today.year + 1))
    type_into(field(wizard, 'Security Code'), '321')
    wizard_button(wizard, 'Add Card')
    wait_hidden(wizard, "the Add Card wizard stays open")
    wait_until(lambda: cards.locator(
            'tbody tr', has_text=contract['party']).count() == 2,
        "the list does not show the second card")
    shot(page, 'second-card')
    assert sorted(cell_text(cards, i, 'Card')
        for i in range(list_rows(cards).count())
        if cell_text(cards, i, 'Customer') == contract['party']) == [
        "Mastercard •••• 4444", "Visa •••• 4242"]


# --- failed payment and dunning ---------------------------------------------

def test_failed_payment_list_and_dunning(page, data):
    today = data['today']
    contract = data['declined']
    listing = open_list(page, PAYMENT_FAILED_MENU)
    failed = listing.locator('.treeview').first
    failed.locator('tbody tr', has_text=contract['party']).wait_for()
    shot(page, 'payment-failed-list')
    assert rows_of(failed, 'Party') == [contract['party']]

    tab = open_form(page, PAYMENT_FAILED_MENU, contract['party'])
    open_page(tab, 'Payment')
    shot(page, 'dunning')
    assert field(tab, 'Payment Failed').is_checked()
    # a hard decline: not charged again until the customer gives a card
    assert field(tab, 'New Payment Method Needed').is_checked()
    assert_field(tab, 'Unpaid Invoice', contract['invoice'])
    assert_field(tab, 'First Failure', en_date(today))
    assert_field(tab, 'Next Retry', en_date(contract['retry']))
    assert_field(tab, 'Reminders Sent', '0')
    assert_field(tab, 'Failed Attempts', '1')
    attempts = field_list(tab, 0)
    assert rows_of(attempts, 'Result') == ['Failed']
    assert rows_of(attempts, 'Error Code') == ['card_declined']
    assert cell_text(attempts, 0, 'Invoice') == contract['invoice']
    # the customer was told by e-mail, the one record of the notice
    open_page(tab, 'Customer E-mails')
    emails = field_list(tab)
    list_rows(emails).first.wait_for()
    assert 'Payment Failed' in rows_of(emails, 'Kind')
    open_page(tab, 'Payment')

    # the customer gives a new card: the dunning charges it on its next run
    # (today) instead of waiting
    add_card(page, tab, '5555 5555 5555 4444', 6, today.year + 2)
    wait_hidden(dialog(page).locator('.modal-footer', has_text='Add Card'),
        "the Add Card wizard stays open")
    assert_field(tab, 'Payment Method', "Mastercard •••• 4444")
    wait_until(lambda: not field(tab, 'New Payment Method Needed'
            ).is_checked(), "a new method is still asked for")
    assert_field(tab, 'Next Retry', en_date(today))
    assert field(tab, 'Payment Failed').is_checked()
    shot(page, 'dunning-new-card')


# --- customer e-mails -------------------------------------------------------

def test_invoice_e_mail_on_the_contract(page, data):
    contract = data['mailed']
    # the mail server got it (in German, the customer's language)
    assert [m['to'] for m in data['mails']
        if contract['invoice'] in m['subject']] == [
        ['buchhaltung@rechnung-post.example']]
    tab = open_form(page, CONTRACTS_MENU, contract['party'])
    open_page(tab, 'Customer E-mails')
    emails = field_list(tab)
    list_rows(emails).first.wait_for()
    shot(page, 'customer-emails')
    assert rows_of(emails, 'Kind') == ['Invoice']
    assert rows_of(emails, 'State') == ['Sent']
    assert rows_of(emails, 'Invoice') == [contract['invoice']]


# --- reporting --------------------------------------------------------------

MRR_MOVEMENTS_MENU = ('Subscription Contracts', 'Reporting', 'MRR Movements')
MOVEMENTS = ['New', 'Expansion', 'Reactivation', 'Contraction', 'Churn']


def amount(text):
    "The amount of a cell as sao shows it to the admin (€ 1,234.50)"
    return Decimal(re.sub(r'[^\d.-]', '', text) or '0')


def test_mrr_movements_report(page, data):
    "The manager reads the MRR movements by month, then by quarter"
    today = data['today']
    listing = open_list(page, MRR_MOVEMENTS_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'mrr-movements')
    periods = rows_of(table, 'Period')
    # a year of months up to this one, each with its row
    assert periods[-1] == en_date(today.replace(day=1))
    assert len(periods) == 12
    row = len(periods) - 1
    figures = {name: amount(cell_text(table, row, name))
        for name in MOVEMENTS + ['Net New MRR', 'MRR at End']}
    # the contracts of the data started this month or the month before
    assert figures['New'] > 0
    assert figures['Net New MRR'] == (figures['New'] + figures['Expansion']
        + figures['Reactivation'] - figures['Contraction'] - figures['Churn'])
    assert figures['MRR at End'] > 0

    # by quarter: the same MRR at the end, on the quarter's first day
    period = listing.locator('select:visible').first
    period.select_option(label='Quarter')
    # the filters apply with the next search
    listing.locator('form.filter-box input').first.press('Enter')
    def quarter_of(date):
        return date.replace(month=(date.month - 1) // 3 * 3 + 1, day=1)
    first = quarter_of(today.replace(day=1) - relativedelta(months=11))
    quarters = []
    while first <= today:
        quarters.append(en_date(first))
        first += relativedelta(months=3)
    wait_until(lambda: list_rows(table).count() == len(quarters),
        "the report is not shown by quarter")
    assert rows_of(table, 'Period') == quarters
    shot(page, 'mrr-movements-quarter')
    last = list_rows(table).count() - 1
    assert amount(cell_text(table, last, 'MRR at End')) == figures[
        'MRR at End']


KPI_MENU = ('Subscription Contracts', 'Reporting', 'Subscription KPIs')


def test_subscription_kpis(page, data):
    "The manager reads this month's KPIs: ARR, customers, ARPA"
    today = data['today']
    listing = open_list(page, KPI_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'kpis')
    periods = rows_of(table, 'Period')
    assert periods[-1] == en_date(today.replace(day=1))
    row = len(periods) - 1
    mrr = amount(cell_text(table, row, 'MRR at End'))
    customers = int(cell_text(table, row, 'Active Customers'))
    assert mrr > 0 and customers > 0
    assert amount(cell_text(table, row, 'ARR')) == 12 * mrr
    assert amount(cell_text(table, row, 'ARPA')) == (
        mrr / customers).quantize(Decimal('0.01'))


CHURN_MENU = ('Subscription Contracts', 'Reporting', 'Churn by Reason')


def test_churn_by_reason(page, data):
    "The contracts closed today (tests above) show under their reason"
    today = data['today']
    listing = open_list(page, CHURN_MENU)
    table = listing.locator('.treeview').first
    list_rows(table).first.wait_for()
    shot(page, 'churn-by-reason')
    this_month = [i for i, period in enumerate(rows_of(table, 'Period'))
        if period == en_date(today.replace(day=1))]
    assert this_month, "no churn this month"
    reasons = [cell_text(table, i, 'Close Reason') for i in this_month]
    assert all(reasons), reasons
    assert sum(amount(cell_text(table, i, 'Churned MRR'))
        for i in this_month) > 0
