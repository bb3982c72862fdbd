"""The signed-in customer portal in headless Chromium, as the customer
clicks: sign in, change a quantity with its preview, close with a reason,
replace the card, pay the failed invoice from the dunning e-mail's link.
Its own server (portal_fixture.py): the HTTP tests of test_portal_account.py
change the same contracts."""
import pytest

from portal_fixture import portal_server, value  # noqa: F401 (fixture)
from test_browser import (  # noqa: F401 (fixtures)
    SHOTS, chromium, chromium_page, sao_root)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope='module')
def server(portal_server):
    return portal_server


@pytest.fixture(scope='module')
def browser(chromium, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(chromium, 1100, 900) as page:
        yield page


def shot(page, name):
    page.screenshot(path=str(SHOTS / f'portal-{name}.png'), full_page=True)


def test_browser_sign_in_change_and_close(server, browser):
    page = browser
    portal = server['portal']
    page.goto(portal + '/?lang=de')
    page.fill('#sign-in input[name=email]', server['email_a'])
    page.fill('#sign-in input[name=password]', server['password_a'])
    page.click('#sign-in button')
    page.wait_for_selector('h1:has-text("Ihr Konto")')
    shot(page, 'home')
    page.click('a[href$="/contracts/%s"]' % server['change']['id'])
    page.wait_for_selector('h1:has-text("Vertrag")')
    shot(page, 'contract')
    quantity = 'input[name=quantity_%s]' % server['line']
    old = float(page.input_value(quantity))
    page.fill(quantity, '%g' % (old + 1))
    page.click('#change button[type=submit]')
    page.wait_for_selector('#preview')
    assert 'Sofort berechnet' in page.inner_text('#preview')
    assert page.inner_text('#next-invoice')
    shot(page, 'preview')
    page.click('#apply button')
    page.wait_for_selector('#done')
    assert page.inner_text('#done') == 'Der Vertrag ist geändert.'
    assert float(page.input_value(quantity)) == old + 1
    # close at the end of the period with a reason
    end = page.inner_text('#close-end')
    page.select_option('#close select[name=reason]', label='Zu teuer')
    page.fill('#close textarea[name=comment]', 'Wir wechseln.')
    page.click('#close button')
    page.wait_for_selector('#done')
    assert 'gekündigt' in page.inner_text('#done')
    assert 'Der Vertrag endet am' in page.inner_text('#manage')
    assert end.split('bis zum ')[1].split(',')[0] in page.inner_text('#manage')
    shot(page, 'closed')


def test_browser_replace_card_then_pay_from_the_link(server, browser):
    page = browser
    portal = server['portal']
    contract = server['pay']
    page.goto('%s/contracts/%s' % (portal, contract['id']))
    assert 'fehlgeschlagen' in page.inner_text('#payment-failed')
    page.fill('#card-form input[name=holder]', 'Kunde A')
    page.fill('#card-form input[name=number]', '4242 4242 4242 4242')
    page.select_option('#card-form select[name=exp_year]', '2031')
    page.fill('#card-form input[name=cvc]', '123')
    page.click('#card-form button')
    page.wait_for_selector('#done')
    assert 'Karte ist gespeichert' in page.inner_text('#done')
    assert '4242' in page.inner_text('#payment-method')
    # the dunning e-mail's link, opened without being signed in
    page.context.clear_cookies()
    page.goto('%s/pay/%s' % (portal, contract['token']))
    assert contract['invoice'] in page.inner_text('#payment-failed')
    shot(page, 'pay')
    page.click('#pay button')
    page.wait_for_selector('text=Vielen Dank')
    state, = value(server, "SELECT state FROM account_payment "
        f"WHERE subscription = {contract['id']} ORDER BY id DESC")
    assert state == 'succeeded'
