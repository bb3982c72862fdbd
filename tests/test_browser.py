"""Drive the sao web client in headless Chromium against a fresh database.

Needs: scripts/ensure_chromium.sh and scripts/install_sao.sh.
Run:   .venv/bin/python -m pytest -m browser tests/test_browser.py
Screenshots of every step go to /tmp/browser-shots/.
"""
import contextlib
import datetime
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from conftest import _module_hash

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
SHOTS = Path('/tmp/browser-shots')
ADMIN_PASSWORD = 'admin'
TIMEOUT = 30_000  # ms; the first sao load and menu fetch take a few seconds

# What the browser opens: a running contract on a plan, and its MRR.
MODULE = 'sale_subscription_contract'
MENU_PATH = ('Subscription Contracts', 'Contracts')


def create_contract_for_browser(config):
    """Create a running contract on a monthly plan (proteus, via XML-RPC).

    Return what the browser looks for: `row` is text identifying the record
    in the list, `label`/`value` the form field to check.
    """
    from proteus import Model
    from trytond.modules.company.tests.tools import create_company

    Company = Model.get('company.company', config=config)
    if not Company.find([]):
        create_company(config=config)
    company, = Company.find([])
    Party = Model.get('party.party', config=config)
    customer = Party(name='Browser Kunde')
    customer.addresses.new(street="Hauptstraße 1", city="Berlin")
    customer.save()
    RuleSet = Model.get(
        'sale.subscription.recurrence.rule.set', config=config)
    yearly = RuleSet(name='Jährlich')
    rule, = yearly.rules
    rule.freq = 'yearly'
    rule.interval = 1
    yearly.save()
    Plan = Model.get('sale.subscription.plan', config=config)
    plan = Plan(name='Jahresabo', recurrence=yearly, company=company)
    plan.save()
    Uom = Model.get('product.uom', config=config)
    unit, = Uom.find([('name', '=', 'Unit')])
    Template = Model.get('product.template', config=config)
    template = Template(name='Hosting', default_uom=unit, type='service',
        list_price=Decimal('300'))
    template.save()
    product, = template.products
    Service = Model.get('sale.subscription.service', config=config)
    service = Service(product=product)
    service.save()

    Contract = Model.get('sale.subscription', config=config)
    contract = Contract(party=customer, plan=plan,
        start_date=datetime.date.today(), invoice_recurrence=yearly)
    line = contract.lines.new()
    line.service = service
    line.quantity = 3
    line.unit_price = Decimal('300')
    contract.click('quote')
    contract.click('run')
    contract.reload()
    # 3 × 300.00 a year is 75.00 a month
    assert contract.mrr == Decimal('75.00')
    return {'row': contract.number, 'label': 'MRR', 'value': contract.mrr}
# ----------------------------------------------------------------------------


def _load_serve():
    spec = importlib.util.spec_from_file_location(
        'serve', ROOT / 'scripts' / 'serve.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve = _load_serve()


@pytest.fixture(scope='session')
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        msg = f'{CHROMIUM} missing: run scripts/ensure_chromium.sh'
        if os.environ.get('CI') == 'true':
            pytest.fail(msg)
        pytest.skip(msg)
    return CHROMIUM


@pytest.fixture(scope='session')
def sao_root():
    if not (Path(serve.SAO_ROOT) / 'index.html').exists():
        subprocess.run([str(ROOT / 'scripts' / 'install_sao.sh')],
            check=True)
    return serve.SAO_ROOT


@pytest.fixture(scope='module')
def tryton_server(tmp_path_factory, sao_root):
    """Fresh SQLite database with MODULE activated, served with sao."""
    tmp = tmp_path_factory.mktemp('tryton')
    database, port = 'browser', serve.free_port()
    config = serve.write_config(
        str(tmp / 'trytond.conf'), 'sqlite://', port, str(tmp), sao_root)
    (tmp / 'passfile').write_text(ADMIN_PASSWORD)
    # keep TRYTOND_* from other test setups away from this server
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k != 'DB_NAME'}
    env['TRYTONPASSFILE'] = str(tmp / 'passfile')
    # activated once per version of the module, then copied: each browser
    # file gets a fresh database without activating the module again
    cached = ROOT / '.cache' / 'browser-db' / f'{_module_hash()}-de.sqlite'
    if not cached.exists():
        (tmp / f'{database}.sqlite').touch()
        admin = [str(Path(sys.executable).parent / 'trytond-admin'),
            '-c', config, '-d', database]
        with open(tmp / 'admin.log', 'w') as log:
            for args in (['--all', '--email', 'admin@example.com'],
                    # German loaded: the portal's pages and e-mails in it
                    ['-u', MODULE, '--activate-dependencies', '-l', 'de']):
                subprocess.run(admin + args, env=env, check=True,
                    stdout=log, stderr=subprocess.STDOUT)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp / f'{database}.sqlite', f'{cached}.part')
        os.replace(f'{cached}.part', cached)
    else:
        shutil.copyfile(cached, tmp / f'{database}.sqlite')
    with open(tmp / 'server.log', 'w') as log:
        proc = serve.start_server(config, database, port, log=log, env=env)
    try:
        yield {'url': f'http://127.0.0.1:{port}/', 'database': database}
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def proteus_config(tryton_server):
    from proteus import config
    with config.set_xmlrpc_session(
            f"{tryton_server['url']}{tryton_server['database']}/rpc/",
            'admin', ADMIN_PASSWORD) as cfg:
        yield cfg


@contextlib.contextmanager
def chromium_page(chromium, width=1280, height=900):
    "A page of headless Chromium; the page's errors are printed at its end"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
                '--no-sandbox', '--disable-gpu',
                '--disable-background-networking'])
        page = browser.new_page(viewport={'width': width, 'height': height})
        page.set_default_timeout(TIMEOUT)
        errors = []
        page.on('pageerror', lambda error: errors.append(str(error)))
        page.on('console', lambda message: message.type == 'error'
            and errors.append(message.text))
        try:
            yield page
        finally:
            # shown with a failure: what sao reported says more than a timeout
            print('Browser errors:', *errors, sep='\n')
            browser.close()


@pytest.fixture
def page(chromium):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob('[0-9][0-9]-*.png'):
        old.unlink()
    with chromium_page(chromium) as page:
        yield page


def shot(page, name):
    shot.count = getattr(shot, 'count', 0) + 1
    page.screenshot(path=str(SHOTS / f'{shot.count:02d}-{name}.png'))


def login(page, url, database, user='admin', password=ADMIN_PASSWORD):
    page.goto(url)
    page.locator('input#database').fill(database)
    page.locator('input#login').fill(user)
    shot(page, 'login')
    page.locator('button[type=submit][title="Login"]').click()
    # sao asks for the password in a second dialog
    page.locator('input#ask-dialog-entry[type=password]').fill(password)
    shot(page, 'password')
    page.locator('.modal-dialog button[title="OK"]:visible').click()


def close_config_wizard(page):
    """A fresh database opens the "Module Configuration" wizard as a tab
    right after login; the menu only renders once it is closed."""
    wizard = page.locator('.tab-pane.active').filter(
        has=page.locator('.model-title[title="Module Configuration"]'))
    menu = page.locator('#menu div.column-char').first
    wizard.or_(menu).first.wait_for()
    if wizard.is_visible():
        shot(page, 'config-wizard')
        wizard.locator('button[title="Cancel"]').click()
    menu.wait_for()
    shot(page, 'menu')


def open_menu(page, path):
    """Expand each parent of path in the menu tree and click the leaf."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    def title(text):
        return ('.//div[contains(@class, "column-char") '
            f'and @title="{text}"]')
    row = page.locator(f'#menu tr:has(div.column-char[title="{path[0]}"])'
        ).first
    for name in path[1:]:
        # children are the rows following their parent
        child = row.locator(f'xpath=following-sibling::tr[{title(name)}][1]')
        if not child.is_visible():
            row.locator('.expander').click()
        row = child
    # a click that lands while the tree re-renders after an expand opens
    # nothing (seen once in CI), so the leaf is clicked again
    tab = page.locator('#tablist a', has_text=path[-1]).first
    for attempt in range(3):
        page.wait_for_load_state('networkidle')
        row.locator('div.column-char').click()
        try:
            tab.wait_for(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    shot(page, 'list')


def open_record(page, row_text):
    """Open the record from the list (the default tab lists running
    contracts); a double-click that lands while the list reloads opens an
    empty form, so it is retried"""
    tab = page.locator('.tab-pane.active')
    for _ in range(3):
        row = tab.locator('.treeview tbody tr', has_text=row_text).first
        row.wait_for()
        page.wait_for_load_state('networkidle')
        row.dblclick()
        tab.locator('.form-label').first.wait_for()
        page.wait_for_load_state('networkidle')
        if _record_loaded(tab):
            return tab
        # back to the list and try again
        tab.locator('button[title^="Switch"]').first.click()
    raise AssertionError(f"could not open the record {row_text!r}")


def _record_loaded(tab, timeout=10):
    "Whether the form shows a record (its counter reads 1/N, not _/N)"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counter = tab.locator('.navbar-text .badge').first
        text = counter.inner_text() if counter.count() else ''
        if text and not text.strip().startswith('_'):
            return True
        time.sleep(0.3)
    return False


def same_value(shown, expected):
    if isinstance(expected, (Decimal, int, float)):
        try:
            return Decimal(re.sub(r'[^\d.\-]', '', shown)) == expected
        except InvalidOperation:
            return False
    return shown == str(expected)


def wait_field(tab, label, expected):
    """Return the value of the widget labelled `label` (sao appends ':')
    once it matches; the form fills its fields asynchronously."""
    widget = tab.get_by_label(f'{label}:', exact=True)
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        shown = widget.input_value()
        if same_value(shown, expected) or time.monotonic() > deadline:
            return shown
        tab.page.wait_for_timeout(200)


def test_open_record_in_sao(tryton_server, proteus_config, page):
    expected = create_contract_for_browser(proteus_config)
    login(page, tryton_server['url'], tryton_server['database'])
    close_config_wizard(page)
    open_menu(page, MENU_PATH)
    tab = open_record(page, expected['row'])
    shown = wait_field(tab, expected['label'], expected['value'])
    shot(page, 'form')
    assert same_value(shown, expected['value']), (
        f"{expected['label']}: {shown!r} != {expected['value']!r}")
