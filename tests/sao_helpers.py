"""Helpers for clicking in sao beyond those of sao_steps.py:
menus and notebook pages, dialogs and wizards, lists, user errors.

Used by test_browser_lifecycle.py; screenshots go to /tmp/browser-shots/
prefixed "lifecycle-".
"""
import re
import time

from test_browser import SHOTS, TIMEOUT, same_value
from sao_steps import (
    cell_text, dialog, field, list_rows, settle, wait_text)


def shot(page, name):
    shot.count = getattr(shot, 'count', 0) + 1
    page.screenshot(
        path=str(SHOTS / f'lifecycle-{shot.count:02d}-{name}.png'))


# --- helpers ----------------------------------------------------------------

def close_all(page):
    """Close what a test left open: messages, dialogs and wizards, then the
    tabs, their unsaved changes discarded (sao asks: No)"""
    for _ in range(10):
        messages = page.locator(':is(.message-dialog, .warning-dialog, '
            '.error-dialog):visible .modal-footer button').first
        discard = page.locator('.confirmation-dialog:visible '
            '.modal-footer button[title="No"]').first
        cancel = page.locator('.modal-dialog:visible .modal-footer button'
            ':is([title="Cancel"], [title="Close"])').last
        close = page.locator('#tablist a .close:visible').first
        for button in [messages, discard, cancel, close]:
            if button.count():
                button.click()
                settle(page)
                break
        else:
            return
    raise AssertionError("the tabs or dialogs do not close")


def sign_in(page, url, database, user='admin', password='admin'):
    """Log in as test_browser.login does; loaded again, sao may still have
    the session and not ask for the password"""
    page.goto(url)
    form = page.locator('input#database')
    menu = page.locator('#menu div.column-char').first
    form.or_(menu).first.wait_for()
    if not form.is_visible():
        return
    form.fill(database)
    page.locator('input#login').fill(user)
    page.locator('button[type=submit][title="Login"]').click()
    entry = page.locator('input#ask-dialog-entry[type=password]')
    wizard = page.locator('.tab-pane.active .model-title[title="Module '
        'Configuration"]')
    entry.or_(menu).or_(wizard).first.wait_for()
    if entry.is_visible():
        entry.fill(password)
        page.locator('.modal-dialog button[title="OK"]:visible').click()


def open_list(page, menu):
    """Open the menu entry in a new tab and return the tab. sao shows the
    tab of an entry already open instead of a new one: that tab is closed
    first. Should sao take no notice of the clicks (no request is sent,
    however often it is clicked) the client is loaded again"""
    def title(text):
        return f'div.column-char[title="{text}"]'
    tabs = page.locator('#tablist a')
    for attempt in range(2):
        for _ in range(5):
            same = page.locator('#tablist a', has=page.locator(
                    f'text="{menu[-1]}"')).locator('.close:visible')
            if not same.count():
                break
            same.first.click()
            settle(page)
            discard = page.locator('.confirmation-dialog:visible '
                '.modal-footer button[title="No"]')
            if discard.count():
                discard.first.click()
                settle(page)
        before = tabs.count()
        row = page.locator(f'#menu tr:has({title(menu[0])})').first
        row.wait_for()
        for name in menu[1:]:
            child = row.locator('xpath=following-sibling::tr[.//div['
                f'contains(@class, "column-char") and @title="{name}"]][1]')
            # sao restores the menu's expanded rows after a login: a click
            # on the expander then would fold it again
            try:
                child.wait_for(timeout=2000)
            except Exception:
                row.locator('.expander').click()
                child.wait_for()
            row = child
        for _ in range(3):
            row.locator('div.column-char').click()
            deadline = time.monotonic() + 8
            while tabs.count() <= before and time.monotonic() < deadline:
                time.sleep(0.2)
            if tabs.count() > before:
                page.locator('#tablist li.active a', has_text=menu[-1]
                    ).wait_for()
                settle(page)
                return page.locator('#tabcontent > .tab-pane.active')
        shot(page, 'menu-ignored')
        page.reload()
        page.relogin()
    raise AssertionError(f"the menu entry {menu} does not open")


def open_page(tab, name):
    "Show the page of the form's notebook named name (exactly)"
    pages = tab.locator('.nav-tabs a:visible').filter(
        has_text=re.compile(rf'^\s*{re.escape(name)}\s*$'))
    pages.first.click()
    settle(tab.page)


def button(tab, name):
    return tab.get_by_role('button', name=name, exact=True)


def wait_until(condition, message, timeout=TIMEOUT / 1000):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.2)


def wait_hidden(locator, message):
    wait_until(lambda: not locator.is_visible(), message)


def confirm(page):
    "Answer OK to the button's confirmation"
    ok = page.locator('.modal-dialog:visible button[title="OK"]')
    ok.first.wait_for()
    ok.first.click()
    settle(page)


def choose(scope, label, text):
    """Type text in a Many2One: sao completes it, or (in a wizard's
    dialog) lists the matches in a search dialog where the one is chosen"""
    page = scope.page
    entry = field(scope, label)
    entry.fill(text)
    entry.press('Tab')
    search = page.locator('.modal-dialog:visible', has=page.locator(
            '.modal-title', has_text=f'Search {label}'))
    def chosen():
        if search.count():
            return True
        try:
            # the entry's dialog is the last one until sao opens the search
            # dialog (a slow completion): then it is found no more
            return same_value(entry.input_value(timeout=1000), text)
        except Exception:
            return False
    wait_until(chosen, f"{label}: {text!r} not found")
    if search.count():
        search.locator('.treeview tbody tr', has_text=text).first.click()
        search.get_by_role('button', name='OK', exact=True).click()
        wait_hidden(search, "the search dialog stays open")
    settle(page)
    shown = wait_text(entry, text)
    assert shown == text, f"{label}: {shown!r} != {text!r}"


def opened_dialog(page):
    """The dialog just opened, once sao has put the focus in it (on its
    first field): keys typed before would go elsewhere"""
    wizard = dialog(page)
    wizard.wait_for()
    wait_until(lambda: wizard.evaluate(
            'd => d.contains(document.activeElement)'),
        "the dialog never takes the focus")
    settle(page)
    return wizard


def type_into(entry, text):
    """Replace what the entry shows by text, typed as a user does, then
    leave it (an integer is typed in a number input sao shows on focus)"""
    page = entry.page
    for _ in range(3):
        if entry.is_visible():
            entry.click()
        else:
            # focused, sao shows the number input in place of the text
            entry.locator('xpath=ancestor::div[contains(@class, '
                '"input-group")][1]').locator('input:visible').first.click()
        page.keyboard.press('Control+a')
        page.keyboard.press('Delete')
        page.keyboard.type(text)
        page.keyboard.press('Tab')
        if entry.input_value() == text:
            return
    raise AssertionError(f"{text!r} typed, {entry.input_value()!r} shown")


def wizard_button(wizard, name):
    "A button of the dialog's footer (the form behind has its own)"
    wizard.locator('.modal-footer').get_by_role(
        'button', name=name, exact=True).click()
    settle(wizard.page)


def user_error(page, expected):
    """The error dialog sao shows for a user error: its text contains
    expected; it is closed and the text returned"""
    message = page.locator('.modal-dialog:visible', has_text=expected).last
    message.wait_for()
    text = message.inner_text()
    shot(page, 'error')
    message.locator('.modal-footer button').first.click()
    wait_hidden(message, "the error dialog stays open")
    return text


def rows_of(treeview, column):
    "The texts of a column (sao draws the rows of a list once in view)"
    treeview.scroll_into_view_if_needed()
    return [cell_text(treeview, i, column)
        for i in range(list_rows(treeview).count())]


def field_list(tab, index=-1):
    "A list (One2Many) of the current page of the form"
    return tab.locator('.tab-pane.active .treeview:visible').nth(index)


def icon_loaded(locator):
    "Whether the button shows its icon (an image that was found)"
    return locator.evaluate("""b => Array.from(b.querySelectorAll('img'))
        .some(i => i.complete && i.naturalWidth > 0)""")


