"""Contract changes, previews, quotation templates, setup fees and trials,
clicked in the sao web client as a subscription manager would.

The data (company, accounts, plans, products, contracts, drafts) is set up
with proteus over RPC as admin; every feature under test is reached by
clicking in sao, and the tests assert what the screen shows. One server and
one browser for the whole file.

Run: .venv/bin/python -m pytest -p no:cacheprovider tests/test_browser_changes.py
Screenshots go to /tmp/browser-shots/ (prefixed "changes-").

No step sleeps for a fixed time: each waits for what it needs (no call to
the server in flight, the value in the field, the row in the list, the
record saved), so that a loaded machine only makes the file slower. Between
tests, what a failed test left open is not clicked away: sao is reloaded.
"""
import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from dateutil.relativedelta import relativedelta

from test_browser import (  # noqa: F401 (fixtures)
    ADMIN_PASSWORD, MODULE, SHOTS, chromium, chromium_page, same_value,
    sao_root, tryton_server)

from sao_steps import (
    assert_field, cell_text, choose, click_button, close_tabs,
    column_index, dialog, _dialogs_open, field, list_rows, open_form,
    open_list, open_page, save, settle, shot, start_sao, wait_cell,
    wait_until)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CENT = Decimal('0.01')
VAT = Decimal('0.19')
SEAT_PRICE = Decimal('30.00')
BACKUP_PRICE = Decimal('10.00')
SETUP_FEE = Decimal('99.00')
TRIAL_DAYS = 14
CONTRACTS_MENU = ('Subscription Contracts', 'Contracts')
SALES_MENU = ('Sales', 'Sales')


def cents(amount):
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN)


def gross(untaxed):
    "untaxed plus 19 % VAT as the ERP rounds it (once, per invoice)"
    return untaxed + cents(untaxed * VAT)


def en_date(date):
    "How sao shows a date to the admin (English, %m/%d/%Y)"
    return date.strftime('%m/%d/%Y')


# --- data, over RPC ---------------------------------------------------------

@pytest.fixture(scope='module')
def rpc(tryton_server):
    from proteus import config
    with config.set_xmlrpc_session(
            f"{tryton_server['url']}{tryton_server['database']}/rpc/",
            'admin', ADMIN_PASSWORD) as cfg:
        yield cfg


def _run_contract(config, party, plan, start, lines, run=True):
    from proteus import Model
    Contract = Model.get('sale.subscription', config=config)
    contract = Contract(party=party, plan=plan, start_date=start,
        invoice_recurrence=plan.recurrence)
    for service, quantity, price in lines:
        line = contract.lines.new()
        line.service = service
        line.quantity = quantity
        line.unit_price = price
    contract.save()
    if run:
        contract.click('quote')
        contract.click('run')
    contract.reload()
    return contract


@pytest.fixture(scope='module')
def data(rpc):
    return setup_data(rpc)


def setup_data(config):
    """A company with accounts, 19 % VAT, a fiscal year; plans (monthly,
    with a setup fee, with a trial); recurring and one-time products; a
    customer; the contracts and drafts the tests open"""
    from proteus import Model
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear, create_tax, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.currency.tests.tools import get_currency

    today = datetime.date.today()
    Company = Model.get('company.company', config=config)
    create_company(currency=get_currency('EUR', config=config), config=config)
    company, = Company.find([])
    create_chart(company, config=config)
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(company, today, config=config), config=config)
    fiscalyear.click('create_period')
    accounts = get_accounts(company, config=config)
    tax = create_tax(VAT, company, config=config)
    tax.save()

    Category = Model.get('product.category', config=config)
    category = Category(name="Software-Abos", accounting=True,
        account_revenue=accounts['revenue'])
    category.customer_taxes.append(tax)
    category.save()
    Uom = Model.get('product.uom', config=config)
    unit, = Uom.find([('name', '=', 'Unit')])
    Template = Model.get('product.template', config=config)
    Service = Model.get('sale.subscription.service', config=config)

    def product(name, price, recurring=True):
        template = Template(name=name, type='service', default_uom=unit,
            salable=True, sale_uom=unit, list_price=price,
            account_category=category)
        template.save()
        product, = template.products
        if recurring:
            service = Service(product=product)
            service.save()
            return service
        return product
    seat = product("Cloud-Arbeitsplatz", SEAT_PRICE)
    backup = product("Backup 100 GB", BACKUP_PRICE)
    setup = product("Einrichtung", SETUP_FEE, recurring=False)

    RuleSet = Model.get(
        'sale.subscription.recurrence.rule.set', config=config)
    monthly = RuleSet(name="Monatlich")
    rule, = monthly.rules
    rule.freq = 'monthly'
    rule.interval = 1
    monthly.save()
    Plan = Model.get('sale.subscription.plan', config=config)
    plan = Plan(name="Business monatlich", recurrence=monthly,
        company=company)
    plan.save()
    fee_plan = Plan(name="Business mit Einrichtung", recurrence=monthly,
        company=company, setup_fee_product=setup,
        setup_fee_price=SETUP_FEE)
    fee_plan.save()
    trial_plan = Plan(name="Business mit Probezeit", recurrence=monthly,
        company=company, trial_days=TRIAL_DAYS)
    trial_plan.save()

    Party = Model.get('party.party', config=config)

    def customer(name):
        party = Party(name=name)
        party.addresses.new(street="Hauptstraße 1", postal_code="10115",
            city="Berlin")
        party.save()
        return party

    # the change: a contract ten-odd days into its first period, which is
    # invoiced (by the billing cron, as every night)
    offset = 10
    while (today - datetime.timedelta(days=offset)).day > 28:
        offset += 1
    start = today - datetime.timedelta(days=offset)
    change_party = customer("Änderung AG")
    change = _run_contract(config, change_party, plan, start,
        [(seat, 3, SEAT_PRICE)])
    Cron = Model.get('ir.cron', config=config)
    cron, = Cron.find([
            ('method', '=', 'sale.subscription|bill_due_contracts')])
    cron.companies.append(Company(company.id))
    cron.save()
    cron.click('run_once')
    Period = Model.get('sale.subscription.period', config=config)
    assert Period.find([('subscription', '=', change.id)]), (
        "the billing cron did not invoice the first period")

    # the upsell: a running contract and a draft quotation of its customer
    upsell_party = customer("Upsell KG")
    upsell = _run_contract(config, upsell_party, plan, today,
        [(seat, 2, SEAT_PRICE)])
    Sale = Model.get('sale.sale', config=config)
    sale = Sale(party=upsell_party)
    line = sale.lines.new()
    line.product = backup.product
    line.quantity = 1
    sale.save()

    # a setup fee on the first invoice only
    fee_party = customer("Einrichtung GmbH")
    fee = _run_contract(config, fee_party, fee_plan,
        today, [(seat, 2, SEAT_PRICE)])

    # a draft on the trial plan, started by clicking
    trial = _run_contract(config, customer("Probe e.K."), trial_plan,
        today, [(seat, 1, SEAT_PRICE)], run=False)

    # a quotation template and an empty draft quotation
    QuotationTemplate = Model.get(
        'sale.subscription.quotation_template', config=config)
    quotation_template = QuotationTemplate(name="Starterpaket",
        company=company, plan=plan)
    template_line = quotation_template.lines.new()
    template_line.product = seat.product
    template_line.quantity = 5
    template_line = quotation_template.lines.new()
    template_line.product = setup
    template_line.quantity = 1
    quotation_template.save()
    template_party = customer("Vorlage OHG")
    template_sale = Sale(party=template_party)
    template_sale.save()

    return {
        'today': today,
        # rows are found by the customer's name: numbers are short
        'change': {'number': change.number, 'party': change_party.name,
            'start': start},
        'upsell': {'number': upsell.number, 'party': upsell_party.name,
            'plan': plan.name},
        'fee': {'number': fee.number, 'party': fee_party.name},
        'trial': {'party': "Probe e.K."},
        'template': {'name': quotation_template.name, 'plan': plan.name,
            'party': template_party.name},
        }


# --- one browser for the file -----------------------------------------------

@pytest.fixture(scope='module')
def browser_page(chromium, tryton_server, data):
    "sao logged in as admin, kept for all the tests of the file"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob('changes-*.png'):
        old.unlink()
    with chromium_page(chromium, 1400, 1000) as page:
        start_sao(page, tryton_server['url'], tryton_server['database'])
        yield page


@pytest.fixture
def page(browser_page, request):
    "Each test starts with no tab and no dialog open; its last screen is kept"
    close_tabs(browser_page)
    yield browser_page
    shot(browser_page, f'end-{request.node.name}')


# --- the views themselves ---------------------------------------------------

def test_every_view_extension_extends_a_base_view(rpc):
    """Tryton applies an extension only to a base view: an extension of the
    module's own extension never shows"""
    from proteus import Model
    View = Model.get('ir.ui.view', config=rpc)
    nested = [v.name for v in View.find([
                ('module', '=', MODULE),
                ('inherit', '!=', None),
                ]) if v.inherit.inherit and v.inherit.model == v.model]
    assert nested == []


# --- Change Contract wizard, adjustments ------------------------------------

def test_change_contract_with_proration(page, data):
    today = data['today']
    start = data['change']['start']
    end = start + relativedelta(months=1) - datetime.timedelta(days=1)
    full = (end - start).days + 1
    remaining = (end - today).days + 1
    # 3 → 5 seats for the rest of the paid period, invoiced at once
    prorated = cents(2 * SEAT_PRICE * remaining / full)
    now_total = gross(prorated)
    next_total = gross(5 * SEAT_PRICE)

    tab = open_form(page, CONTRACTS_MENU, data['change']['party'])
    # a plan without pauses does not offer Pause
    tab.get_by_role('button', name='Change Contract', exact=True).wait_for()
    assert not tab.get_by_role('button', name='Pause', exact=True
        ).is_visible()
    shot(page, 'contract')
    click_button(tab, 'Change Contract')
    wizard = dialog(page)
    wizard.get_by_text('Change Contract').first.wait_for()
    lines = wizard.locator('.treeview').first
    list_rows(lines).first.wait_for()
    settle(page)
    shot(page, 'change-start')
    # the quantity of the seat line: 3 → 5, typed in the editable list
    index = column_index(lines, 'Quantity')
    row = list_rows(lines).first
    assert same_value(cell_text(lines, 0, 'Quantity'), Decimal(3))
    editor = row.locator('td').nth(index).locator('input:visible').first
    # the first click selects the row, the next one edits the cell
    for _ in range(5):
        row.locator('td').nth(index).click()
        settle(page)
        if wait_until(editor.is_visible, timeout=2):
            break
    editor.wait_for()
    editor.fill('5')
    editor.press('Tab')
    settle(page)
    assert wait_cell(lines, 0, 'Quantity', Decimal(5))
    shot(page, 'change-quantity')
    wizard.get_by_role('button', name='Preview', exact=True).click()
    preview = dialog(page)
    field(preview, 'Invoiced Now').wait_for()
    assert_field(preview, 'Kind', 'Upgrade')
    assert_field(preview, 'Invoiced Now', now_total)
    assert_field(preview, 'Next Invoice Date', en_date(
            start + relativedelta(months=1)))
    assert_field(preview, 'Next Invoice', next_total)
    details = preview.locator('textarea').first.input_value()
    assert f'prorated {remaining}/{full} days' in details, details
    shot(page, 'change-preview')
    preview.get_by_role('button', name='Apply', exact=True).click()
    settle(page)
    shot(page, 'change-applied')

    # the contract line has 5 seats now
    preview.wait_for(state='detached')
    lines = tab.locator('.treeview').first
    assert same_value(wait_cell(lines, 0, 'Quantity', Decimal(5)),
        Decimal(5))
    # the MRR follows: 5 × 30.00 a month
    assert_field(tab, 'MRR', 5 * SEAT_PRICE)

    # the adjustments tab lists the prorated charge, invoiced at once
    open_page(tab, 'Adjustments')
    adjustments = tab.locator('.tab-pane.active .treeview:visible').last
    list_rows(adjustments).first.wait_for()
    shot(page, 'adjustments')
    assert list_rows(adjustments).count() == 1
    assert same_value(cell_text(adjustments, 0, 'Amount'), prorated)
    assert cell_text(adjustments, 0, 'State') == 'Invoiced'
    assert f'{remaining}/{full}' in cell_text(
        adjustments, 0, 'Description')
    # a list of what happened: nothing to add or delete
    buttons = tab.locator('.tab-pane.active .form-one2many-toolbar:visible'
        ).last
    assert buttons.locator('button[title="New"]').is_disabled()
    assert buttons.locator('button[title="Delete"]').is_disabled()


# --- upsell quotation -------------------------------------------------------

def test_upsell_quotation_changes_the_running_contract(page, data):
    upsell = data['upsell']
    tab = open_form(page, SALES_MENU, upsell['party'])
    # only the customer's running contracts can be chosen: the number finds it
    shown = choose(tab, 'Contract to Change', upsell['number'])
    assert upsell['number'] in shown, shown
    # the plan comes with the contract
    assert_field(tab, 'Subscription Plan', upsell['plan'])
    shot(page, 'upsell-draft')
    save(page)
    click_button(tab, 'Quote')
    assert_field(tab, 'State', 'Quotation')
    click_button(tab, 'Confirm')
    settle(page)
    # the sale is processed after the confirmation: reload until it is
    changed = field(tab, 'Contract Changed')

    def processed():
        if changed.is_checked():
            return True
        tab.locator('button[title="Reload"]').first.click()
        settle(page)
        return changed.is_checked()
    wait_until(processed, interval=0.5)
    shot(page, 'upsell-confirmed')
    assert changed.is_checked()

    # the contract has the backup line too, and no second contract was made
    tab = open_form(page, CONTRACTS_MENU, upsell['party'])
    lines = tab.locator('.treeview').first
    wait_until(lambda: list_rows(lines).count() >= 2)
    services = [cell_text(lines, i, 'Service')
        for i in range(list_rows(lines).count())]
    shot(page, 'upsell-contract')
    assert sorted(services) == ["Backup 100 GB", "Cloud-Arbeitsplatz"]
    assert_field(tab, 'MRR', 2 * SEAT_PRICE + BACKUP_PRICE)
    listing = open_list(page, CONTRACTS_MENU)
    listing.locator('.nav-tabs a', has_text='All').first.click()
    settle(page)
    listing.locator('.treeview tbody tr', has_text=upsell['party']
        ).first.wait_for()
    assert listing.locator('.treeview tbody tr', has_text=upsell['party']
        ).count() == 1


# --- invoice preview and setup fee ------------------------------------------

def test_preview_invoices_show_the_setup_fee_once(page, data):
    today = data['today']
    tab = open_form(page, CONTRACTS_MENU, data['fee']['party'])
    click_button(tab, 'Preview Invoices')
    wizard = dialog(page)
    invoices = wizard.locator('.treeview').first
    list_rows(invoices).first.wait_for()
    settle(page)
    wait_until(lambda: list_rows(invoices).count() >= 3)
    shot(page, 'preview')
    assert list_rows(invoices).count() == 3
    periods = 2 * SEAT_PRICE
    expected = [
        (today, periods + SETUP_FEE),
        (today + relativedelta(months=1), periods),
        (today + relativedelta(months=2), periods),
        ]
    for row, (date, untaxed) in enumerate(expected):
        assert cell_text(invoices, row, 'Invoice Date') == en_date(date)
        assert same_value(cell_text(invoices, row, 'Untaxed'), untaxed)
        assert same_value(cell_text(invoices, row, 'Tax'),
            cents(untaxed * VAT))
        assert same_value(cell_text(invoices, row, 'Total'), gross(untaxed))
    # the lines: the setup fee on the first invoice, never again
    lines = wizard.locator('.treeview').nth(1)
    rows = [(cell_text(lines, i, 'Invoice Date'),
            cell_text(lines, i, 'Description'), cell_text(lines, i, 'Amount'))
        for i in range(list_rows(lines).count())]
    fees = [r for r in rows if 'Einrichtung' in r[1]]
    assert len(fees) == 1, rows
    assert fees[0][0] == en_date(today)
    assert same_value(fees[0][2], SETUP_FEE)
    # a preview is read-only: no button adds or deletes an invoice
    toolbar = wizard.locator('.form-one2many-toolbar').first
    assert toolbar.locator('button[title="New"]').is_disabled()
    assert toolbar.locator('button[title="Delete"]').is_disabled()
    wizard.get_by_role('button', name='Close', exact=True).click()
    assert wait_until(lambda: not _dialogs_open(page))


# --- quotation template -----------------------------------------------------

def test_quotation_from_template(page, data):
    template = data['template']
    tab = open_form(page, SALES_MENU, template['party'])
    choose(tab, 'Quotation Template', template['name'])
    assert_field(tab, 'Quotation Template', template['name'])
    # the template's plan and lines fill the quotation
    assert_field(tab, 'Subscription Plan', template['plan'])
    lines = tab.locator('.treeview').first
    wait_until(lambda: list_rows(lines).count() >= 2)
    settle(page)
    shot(page, 'template-lines')
    products = sorted((cell_text(lines, i, 'Product'),
            cell_text(lines, i, 'Quantity'))
        for i in range(list_rows(lines).count()))
    assert [p for p, _ in products] == ["Cloud-Arbeitsplatz", "Einrichtung"]
    # the quantities are shown with their unit ("5 u")
    assert [same_value(q, n) for (_, q), n in zip(products, [5, 1])] == [
        True, True], products
    save(page)
    # the totals say they include the taxes
    recurring = gross(5 * SEAT_PRICE)
    one_time = gross(SETUP_FEE)
    assert_field(tab, 'Recurring per Period (incl. taxes)', recurring)
    assert_field(tab, 'One-time Total (incl. taxes)', one_time)
    assert_field(tab, 'First Invoice (incl. taxes)', recurring + one_time)
    shot(page, 'template-saved')


# --- trial ------------------------------------------------------------------

def test_trial_contract(page, data):
    today = data['today']
    trial_end = today + datetime.timedelta(days=TRIAL_DAYS - 1)
    first = today + datetime.timedelta(days=TRIAL_DAYS)
    tab = open_form(page, CONTRACTS_MENU, data['trial']['party'])
    click_button(tab, 'Quote')
    assert_field(tab, 'State', 'Quotation')
    click_button(tab, 'Run')
    settle(page)
    assert_field(tab, 'State', 'Running')
    # in its trial: free, counted 0 in the MRR, first period after it
    open_page(tab, 'Trial, Pause and Renewal')
    shot(page, 'trial')
    assert wait_until(field(tab, 'Trial').is_checked)
    assert_field(tab, 'Trial End', en_date(trial_end))
    assert_field(tab, 'MRR', Decimal(0))
    click_button(tab, 'Preview Invoices')
    wizard = dialog(page)
    invoices = wizard.locator('.treeview').first
    list_rows(invoices).first.wait_for()
    settle(page)
    shot(page, 'trial-preview')
    assert cell_text(invoices, 0, 'Invoice Date') == en_date(first)
    assert cell_text(invoices, 0, 'Period Start') == en_date(first)
    assert same_value(cell_text(invoices, 0, 'Total'), gross(SEAT_PRICE))
    wizard.get_by_role('button', name='Close', exact=True).click()
    assert wait_until(lambda: not _dialogs_open(page))

