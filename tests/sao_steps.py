"""Steps of a user in sao, driven in headless Chromium: start and reload
sao, open menus, lists and forms, fill and choose fields, click buttons,
wait for what each step needs (never for a fixed time).

Used by the browser tests; screenshots go to /tmp/browser-shots/.
"""
import time

from test_browser import (
    SHOTS, TIMEOUT, _record_loaded, close_config_wizard, login, same_value)


def shot(page, name):
    shot.count = getattr(shot, 'count', 0) + 1
    page.screenshot(path=str(SHOTS / f'changes-{shot.count:02d}-{name}.png'))


# the first load of sao fetches a few MB of scripts and the menu: on a
# loaded machine it takes longer than any later step
LOAD_TIMEOUT = 4 * TIMEOUT


def start_sao(page, url, database):
    "Log in and wait for the menu, the configuration wizard closed"
    page.set_default_timeout(LOAD_TIMEOUT)
    try:
        login(page, url, database)
        _menu_ready(page)
    finally:
        page.set_default_timeout(TIMEOUT)


def _menu_ready(page):
    """Wait for the menu; a fresh database opens the "Module
    Configuration" wizard as a tab too, which is cancelled"""
    close_config_wizard(page)
    wait_idle(page, timeout=LOAD_TIMEOUT / 1000)
    wizard = page.locator('#tabcontent > .tab-pane.active').filter(
        has=page.locator('.model-title[title="Module Configuration"]'))
    if wizard.count():
        wizard.locator('button[title="Cancel"]').click()
        wizard.wait_for(state='detached')
        settle(page)
    quiet_ui(page)


def quiet_ui(page):
    """No fading in or out: a dialog is there or gone, never half-closed
    (Bootstrap animates only with $.support.transition; CSS transitions
    off for the rest)"""
    page.evaluate("""() => {
        jQuery.support.transition = false;
        jQuery.fx.off = true;
        const style = document.createElement('style');
        style.textContent = '*, *::before, *::after {'
            + ' transition: none !important;'
            + ' animation: none !important; }';
        document.head.appendChild(style);
    }""")


def _dialogs_open(page):
    return page.locator('.modal-dialog:visible').count()


def close_tabs(page):
    """Bring sao back to the menu, no tab and no dialog open. Tabs are
    closed with their buttons; what a failed test left (a dialog, a
    modified record asking to be saved, a button that does not answer) is
    not clicked away: sao is reloaded instead. Cannot fail but for a server
    gone."""
    from playwright.sync_api import Error
    settle(page)
    # a dialog closed at the end of the test may still be fading out
    wait_until(lambda: not _dialogs_open(page), timeout=2)
    try:
        for _ in range(20):
            if _dialogs_open(page):
                break
            close = page.locator('#tablist a .close:visible')
            if not close.count():
                break
            close.first.click(timeout=5_000)
            settle(page)
    except Error:
        pass
    if _dialogs_open(page) or page.locator('#tablist a:visible').count():
        reload_sao(page)


def reload_sao(page):
    """Load sao afresh on its menu: the session (cookie and local storage)
    survives, so no login unless it expired"""
    from urllib.parse import urlsplit
    database = urlsplit(page.url).fragment.split('/')[0]
    url = page.url.split('#')[0]
    # no "Are you sure to leave?" for the tabs, and no tab reopened from
    # the address
    page.evaluate("""database => {
        window.onbeforeunload = null;
        history.replaceState(null, '', '#' + database);
    }""", database)
    page.set_default_timeout(LOAD_TIMEOUT)
    try:
        page.reload()
        # the menu, or the configuration wizard before it (a cancelled
        # wizard opens again), or the login if the session has expired
        menu = page.locator('#menu div.column-char').first
        wizard = page.locator(
            '.model-title[title="Module Configuration"]').first
        user = page.locator('input#login')
        menu.or_(wizard).or_(user).first.wait_for()
        if user.is_visible():
            login(page, url, database)
        _menu_ready(page)
    finally:
        page.set_default_timeout(TIMEOUT)


# RPCs in flight: sao calls the server with jQuery.ajax; a listening bus
# (off on the test server) would keep one open for ever
_PENDING = """() => {
    if (typeof jQuery == 'undefined') {
        return 1;
    }
    let pending = jQuery.active;
    const bus = window.Sao && Sao.Bus;
    if (bus && bus.listening && bus.request && bus.request.state
            && bus.request.state() == 'pending') {
        pending -= 1;
    }
    return pending;
}"""


def pending_rpc(page):
    "How many calls to the server sao is waiting for"
    from playwright.sync_api import Error
    try:
        return page.evaluate(_PENDING)
    except Error:  # navigating: the page is not there to answer
        return 1


def settle(page):
    """Wait until sao waits for no answer from the server (see wait_idle).
    Returns at the timeout all the same: the callers wait for what they
    expect to see."""
    return wait_idle(page)


def wait_idle(page, quiet=0.2, timeout=TIMEOUT / 1000):
    """Whether sao waits for no answer from the server and has started no
    new call for `quiet` seconds (an answer often triggers the next call:
    a save, then the reload, then the on_change), before the timeout"""
    deadline = time.monotonic() + timeout
    idle_since = None
    while True:
        now = time.monotonic()
        if pending_rpc(page) > 0:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= quiet:
            return True
        if now > deadline:
            return False
        time.sleep(0.05)


def wait_until(condition, timeout=TIMEOUT / 1000, interval=0.1):
    "Poll condition() until it is true; return its last value"
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _shown(locator):
    return locator.evaluate("""e => e.tagName == 'SELECT'
        ? (e.selectedIndex >= 0 ? e.options[e.selectedIndex].text : '')
        : (e.tagName == 'INPUT' || e.tagName == 'TEXTAREA')
        ? e.value : e.innerText""").strip()


def wait_text(locator, expected, timeout=TIMEOUT / 1000):
    "Wait until the locator's value (input) or text matches expected"
    deadline = time.monotonic() + timeout
    while True:
        shown = _shown(locator)
        if same_value(shown, expected) or time.monotonic() > deadline:
            return shown
        time.sleep(0.1)


def field(scope, label):
    "The widget of the field labelled `label` in a form or dialog"
    return scope.get_by_label(f'{label}:', exact=True).first


def assert_field(scope, label, expected):
    widget = field(scope, label)
    widget.wait_for(state='attached')
    shown = wait_text(widget, expected)
    assert same_value(shown, expected), f"{label}: {shown!r} != {expected!r}"


def choose(scope, label, text, timeout=TIMEOUT / 1000):
    """Set the many2one labelled `label` to the record named `text` as a
    user does: type the name and pick the record sao proposes; when no
    proposal comes (the completion is slow or off), Tab opens the search
    dialog filtered by the name, where the record is selected. Returns
    what the field shows once set and sao has stored the value."""
    import re
    page = scope.page
    widget = field(scope, label)
    widget.wait_for()
    settle(page)
    if widget.input_value():
        # Backspace clears the record; typing over it would keep it
        widget.fill('')
        widget.press('Backspace')
    widget.fill(text)
    group = widget.locator('xpath=..')
    exact = re.compile(rf'^\s*{re.escape(text)}\s*$')
    proposal = group.locator('li.completion a').filter(has_text=exact)
    search = page.locator('.modal-dialog:visible').filter(
        has=page.locator(f'.modal-title[title="Search {label}"]'))
    typed = time.monotonic()
    deadline = typed + timeout
    tabbed = False
    while True:
        if proposal.first.is_visible():
            proposal.first.click()
            break
        if search.count():
            _pick_in_search(search.last, exact)
            break
        if (not tabbed and time.monotonic() - typed > 5
                and not pending_rpc(page)):
            if group.locator('.dropdown-menu:visible').count():
                widget.press('Escape')
            widget.press('Tab')
            tabbed = True
        if time.monotonic() > deadline:
            raise AssertionError(f"{label}: {text!r} is not proposed")
        time.sleep(0.1)
    settle(page)
    shown = wait_text(widget, text, timeout=timeout)
    wait_until(lambda: not search.count(), timeout=timeout)
    settle(page)
    return shown


def _pick_in_search(search, exact):
    "Select the row of the search dialog showing exact, then OK"
    page = search.page
    settle(page)
    row = search.locator('.treeview tbody tr:visible').filter(
        has=page.locator('td', has_text=exact)).first
    row.wait_for()
    row.locator('td:visible').nth(1).click()
    search.locator('button[title="OK"]').click()
    search.wait_for(state='hidden')


def open_list(page, menu):
    """Open the menu entry in a new tab; a click that lands while the menu
    tree redraws only selects the row, so it is clicked again; a menu that
    takes no notice of clicks at all (seen under load) is loaded again"""
    def title(text):
        return f'div.column-char[title="{text}"]'
    tabs = page.locator('#tablist a')
    for attempt in range(3):
        before = tabs.count()
        row = page.locator(f'#menu tr:has({title(menu[0])})').first
        for name in menu[1:]:
            child = row.locator('xpath=following-sibling::tr[.//div['
                f'contains(@class, "column-char") and @title="{name}"]][1]')
            if not child.is_visible():
                row.locator('.expander').click()
                child.wait_for()
            row = child
        settle(page)
        opened = False
        for _ in range(3):
            row.locator('div.column-char').click()
            opened = wait_until(lambda: tabs.count() > before, timeout=5)
            if opened:
                break
        if opened:
            break
        shot(page, 'menu-ignored')
        reload_sao(page)
    else:
        raise AssertionError(f"the menu entry {menu} does not open")
    page.locator('#tablist a', has_text=menu[-1]).first.wait_for()
    # the pane of the tab shown: not a page of a notebook in another tab
    tab = page.locator('#tabcontent > .tab-pane.active').first
    tab.locator('.treeview').first.wait_for()
    settle(page)
    return tab


def open_form(page, menu, row_text):
    """Open the record listed with row_text (in any state) in its form: the
    row is selected and the list switched to the form; a list still
    reloading is opened again"""
    for _ in range(3):
        tab = open_list(page, menu)
        all_ = tab.locator('.nav-tabs a', has_text='All')
        if all_.count():
            all_.first.click()
            settle(page)
        row = tab.locator('.treeview tbody tr', has_text=row_text).first
        row.wait_for()
        row.locator('td:visible').nth(2).click()
        settle(page)
        tab.locator('button[title^="Switch"]').first.click()
        tab.locator('.form-label').first.wait_for()
        settle(page)
        if _record_loaded(tab) and _shows(tab, row_text):
            shot(page, 'form')
            return tab
        close_tabs(page)
    raise AssertionError(f"could not open {row_text!r}")


def _shows(tab, text, timeout=10):
    "Whether a field of the form shows text (the record is loaded)"
    return wait_until(lambda: tab.evaluate("""(e, text) => Array.from(
            e.querySelectorAll('input')).some(i => i.value == text)""",
            text), timeout=timeout, interval=0.2)


def click_button(tab, name):
    button = tab.get_by_role('button', name=name, exact=True)
    button.wait_for()
    settle(tab.page)
    button.click()


def dialog(page):
    return page.locator('.modal-dialog:visible').last


def open_page(tab, name):
    tab.locator('.nav-tabs a', has_text=name).first.click()
    settle(tab.page)


def list_rows(treeview):
    return treeview.locator('tbody tr:visible')


def column_index(treeview, name):
    headers = treeview.locator('thead th')
    for index in range(headers.count()):
        if headers.nth(index).inner_text().strip() == name:
            return index
    raise AssertionError(f"no column {name!r}")


def cell_text(treeview, row, name):
    "The text of the cell, or the value typed in it while it is edited"
    index = column_index(treeview, name)
    return treeview.locator('tbody tr:visible').nth(row).locator(
        'td').nth(index).evaluate("""td => {
            const input = Array.from(td.querySelectorAll('input')).find(
                i => i.offsetParent !== null && i.type != 'checkbox');
            return input ? input.value : td.innerText;
        }""").strip()


def wait_cell(treeview, row, name, expected, timeout=TIMEOUT / 1000):
    "The text of the cell once it matches expected (or at the timeout)"
    shown = ''

    def matches():
        nonlocal shown
        if list_rows(treeview).count() > row:
            shown = cell_text(treeview, row, name)
        return same_value(shown, expected)
    wait_until(matches, timeout=timeout)
    return shown


def current_record_saved(page):
    "Whether the record of the current tab is stored and not modified"
    return page.evaluate("""() => {
        const tab = Sao.Tab.tabs.get_current();
        const record = tab && tab.screen && tab.screen.current_record;
        return Boolean(record && record.id >= 0 && !record.modified);
    }""")


def save(page):
    "Save the record of the current tab (Ctrl+S) and wait until it is"
    page.keyboard.press('Control+s')
    settle(page)
    assert wait_until(lambda: current_record_saved(page)), (
        "the record was not saved")
    settle(page)
