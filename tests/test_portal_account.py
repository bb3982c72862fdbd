"""The signed-in customer portal over HTTP against a real trytond: signing
in (password, rate limit, one-time link), the home page, the contract page
and what the customer does there, contact data, the pay links of the
dunning e-mails, and the hostile requests that must be refused with nothing
written. One server for the file (portal_fixture.py)."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal_fixture import (  # noqa: F401 (fixture)
    count, csrf, link_in, mails_to, money_text, portal_server, sign_in,
    snapshot, value)
from test_browser import sao_root  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def server(portal_server):
    return portal_server


def link(server, key):
    "The link of the home page to a contract of the facts"
    return '/portal/contracts/%s"' % server[key]['id']


@pytest.fixture(scope='module')
def client(server):
    return sign_in(server)


def test_sign_in_with_password(server):
    portal = server['portal']
    client = requests.Session()
    page = client.get(portal + '/?lang=de')
    assert page.status_code == 200
    assert 'Anmelden' in page.text and 'Passwort vergessen?' in page.text
    before = dict(client.cookies)
    # a session id planted before signing in is never the signed-in one
    client.cookies.set('portal_session', 'planted-by-an-attacker',
        domain='127.0.0.1', path='/%s/portal/' % server['database'])
    wrong = client.post(portal + '/sign-in', data={
            'csrf_token': csrf(client), 'email': server['email_a'],
            'password': 'falsch-falsch'}, allow_redirects=False)
    assert wrong.status_code == 401
    assert 'E-Mail oder Passwort ist falsch.' in wrong.text
    done = client.post(portal + '/sign-in', data={
            'csrf_token': csrf(client), 'email': server['email_a'].upper(),
            'password': server['password_a']}, allow_redirects=False)
    assert done.status_code == 303
    cookies = done.headers['Set-Cookie']
    assert 'portal_session=' in cookies and 'HttpOnly' in cookies
    assert 'SameSite=Lax' in cookies
    # a new session id and a new CSRF token at sign-in
    session = done.headers['Set-Cookie'].split('portal_session=')[1]
    assert session.split(';')[0] not in {'', 'planted-by-an-attacker'}
    assert client.cookies.get('portal_session', domain='127.0.0.1',
        path='/%s/portal/' % server['database']) == session.split(';')[0]
    assert client.cookies['portal_csrf'] != before['portal_csrf']
    home = client.get(portal + '/')
    assert '<h1>Ihr Konto</h1>' in home.text
    assert link(server, 'change') in home.text
    assert link(server, 'other') not in home.text


def test_rate_limited_sign_in_says_so(server):
    client = requests.Session()
    client.get(server['portal'] + '/?lang=de')
    statuses = []
    for _ in range(4):
        response = client.post(server['portal'] + '/sign-in', data={
                'csrf_token': csrf(client), 'email': 'gesperrt@example.com',
                'password': 'falsch-falsch'}, allow_redirects=False)
        statuses.append(response.status_code)
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert 'Zu viele Fehlversuche' in response.text


def test_sign_in_link_once_and_no_enumeration(server):
    portal = server['portal']
    client = requests.Session()
    client.get(portal + '/?lang=de')
    answers = []
    for email in [server['email_a'], 'niemand@example.com']:
        answer = client.post(portal + '/sign-in/link', data={
                'csrf_token': csrf(client), 'email': email})
        assert answer.status_code == 200
        answers.append(answer.text)
    # the same page for a known and an unknown address
    assert answers[0] == answers[1]
    assert 'Falls zu dieser Adresse ein Konto besteht' in answers[0]
    mail, = mails_to(server, server['email_a'])
    assert mail['Subject'] == 'Ihr Anmeldelink'
    assert not mails_to(server, 'niemand@example.com')
    token = link_in(mail)
    assert len(token) >= 43  # 256 bits
    # only its hash is stored
    assert count(server, 'web_user', f"sign_in_link_hash = '{token}'") == 0
    # asked again at once: nothing sent
    client.post(portal + '/sign-in/link', data={
            'csrf_token': csrf(client), 'email': server['email_a']})
    assert len(mails_to(server, server['email_a'])) == 1
    # opening the link does not spend it; its button signs in; opened
    # in a browser without the portal's cookies, the page speaks the
    # e-mail's language (the company's is English)
    opened = requests.get(portal + '/link/' + token)
    assert opened.status_code == 200
    assert '<html lang="de"' in opened.text, opened.text
    assert client.get(portal + '/link/' + token).status_code == 200
    done = client.post(portal + '/link/' + token,
        data={'csrf_token': csrf(client)}, allow_redirects=False)
    assert done.status_code == 303
    assert link(server, 'change') in client.get(portal + '/').text
    again = requests.Session()
    again.get(portal + '/')
    used = again.post(portal + '/link/' + token,
        data={'csrf_token': csrf(again)}, allow_redirects=False)
    assert used.status_code == 404
    expired = again.post(portal + '/link/' + server['expired_link'],
        data={'csrf_token': csrf(again)}, allow_redirects=False)
    assert expired.status_code == 404
    assert 'portal_session' not in again.cookies


def test_a_forged_host_never_reaches_the_e_mailed_links(server):
    "Links asked for someone else with a forged Host header"
    portal = server['portal']
    client = requests.Session()
    client.get(portal + '/')
    # requests matches cookies to the Host header: sent by hand
    forged = {'Host': 'evil.example',
        'Cookie': 'portal_csrf=%s' % csrf(client)}
    for path in ['/sign-in/link', '/reset-password']:
        answer = requests.post(portal + path, headers=forged, data={
                'csrf_token': csrf(client), 'email': 'gesperrt@example.com'})
        assert answer.status_code == 200
    mails = mails_to(server, 'gesperrt@example.com')
    assert len(mails) == 2
    for mail in mails:
        body = mail.get_body(('html', 'plain')).get_content()
        assert 'evil.example' not in body
        assert '/%s/portal/' % server['database'] in body


def test_home_lists_the_customers_documents(server, client):
    home = client.get(server['portal'] + '/').text
    for key in ['change', 'close', 'restricted', 'pay', 'method']:
        assert link(server, key) in home, key
    assert link(server, 'other') not in home
    assert server['change']['invoice'] in home
    assert server['other']['invoice'] not in home
    assert 'Offene Angebote' in home
    pdf = client.get('%s/invoices/%s.pdf' % (
            server['portal'], server['change']['invoice_id']))
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers['Content-Type'] == 'application/pdf'
    assert pdf.content.startswith(b'%PDF')


def test_a_secondary_party_s_documents_are_the_web_user_s(server, client):
    "A's web user also stands for a subsidiary: its contract, invoice"
    portal, subsidiary = server['portal'], server['subsidiary']
    home = client.get(portal + '/').text
    assert subsidiary['number'] in home and subsidiary['invoice'] in home
    page = client.get('%s/contracts/%s' % (portal, subsidiary['id']))
    assert page.status_code == 200 and subsidiary['number'] in page.text
    pdf = client.get('%s/invoices/%s.pdf' % (
            portal, subsidiary['invoice_id']))
    assert pdf.content.startswith(b'%PDF')
    # customer B's web user does not stand for it
    other = sign_in(server, server['email_b'], server['password_b'])
    assert other.get('%s/contracts/%s' % (
                portal, subsidiary['id'])).status_code == 404
    assert other.get('%s/invoices/%s.pdf' % (
                portal, subsidiary['invoice_id'])).status_code == 404


def test_open_a_quotation_from_home(server, client):
    "Home's quotation opens the quotation page (a new link); B's is a 404"
    portal = server['portal']
    home = client.get(portal + '/').text
    assert server['quotation_number'] in home
    opened = client.post('%s/quotations/%s' % (portal, server['quotation']),
        data={'csrf_token': csrf(client)})
    assert opened.status_code == 200, opened.text
    assert '/quotation/' in opened.url
    assert server['quotation_number'] in opened.text
    assert 'id="first-invoice-total"' in opened.text
    refused = client.post('%s/quotations/%s' % (
            portal, server['other_quotation']),
        data={'csrf_token': csrf(client)})
    assert refused.status_code == 404


def test_pages_in_english_when_chosen(server):
    client = sign_in(server, lang='en')
    home = client.get(server['portal'] + '/').text
    assert '<h1>Your account</h1>' in home and 'Invoices' in home
    page = client.get('%s/contracts/%s' % (
            server['portal'], server['change']['id'])).text
    assert 'Next invoice' in page and 'Nächste Rechnung' not in page


def test_another_customers_records_are_404(server, client):
    portal = server['portal']
    other = server['other']
    before = snapshot(server)
    for path in ['/contracts/%s' % other['id'],
            '/invoices/%s.pdf' % other['invoice_id'],
            '/contracts/999999']:
        assert client.get(portal + path).status_code == 404, path
    token = csrf(client)
    for action, data in [
            ('close', {'reason': '1', 'comment': 'x'}),
            ('pause', {}), ('resume', {}), ('pay', {}),
            ('change', {'quantity_%s' % server['line']: '5'}),
            ('change/apply', {'quantity_%s' % server['line']: '5'}),
            ('card', {'number': '4242424242424242', 'exp_month': '12',
                    'exp_year': '2030', 'cvc': '123'}),
            ]:
        response = client.post('%s/contracts/%s/%s' % (
                portal, other['id'], action),
            data={'csrf_token': token, **data}, allow_redirects=False)
        assert response.status_code == 404, action
    # not signed in: no contract at all
    anonymous = requests.Session()
    assert anonymous.get('%s/contracts/%s' % (
                portal, server['change']['id'])).status_code == 404
    assert snapshot(server) == before


def test_post_without_csrf_is_refused(server, client):
    before = snapshot(server)
    response = client.post('%s/contracts/%s/pause' % (
            server['portal'], server['change']['id']), data={},
        allow_redirects=False)
    assert response.status_code == 403
    assert snapshot(server) == before


@pytest.mark.parametrize('field, value', [
        ('quantity', '-1'), ('quantity', '0'), ('quantity', '1e9'),
        ('quantity', 'abc'), ('quantity', 'NaN'), ('quantity', '9' * 2_000),
        # seats are whole
        ('quantity', '1.5'), ('quantity', '2,5'),
        ('option', '999999'), ('plan', '999999'),
        ('option', 'x' * 1_000_000),
        ])
def test_tampered_change_is_refused(server, client, field, value):
    before = snapshot(server)
    data = {'csrf_token': csrf(client),
        'quantity_%s' % server['line']: '2'}
    if field == 'quantity':
        data['quantity_%s' % server['line']] = value
    else:
        data[field] = value
        data['option_quantity'] = '1'
    for action in ['change', 'change/apply']:
        response = client.post('%s/contracts/%s/%s' % (
                server['portal'], server['change']['id'], action),
            data=data, allow_redirects=False)
        assert 400 <= response.status_code < 500, (action, response.text)
        assert 'Es wurde nichts geändert' in response.text \
            or response.status_code == 413
    assert snapshot(server) == before


def test_restricted_plan_offers_no_change(server, client):
    contract = server['restricted']
    page = client.get('%s/contracts/%s' % (server['portal'], contract['id']))
    assert page.status_code == 200
    assert 'Kosten anzeigen' not in page.text
    assert 'Vertrag kündigen' not in page.text
    before = snapshot(server)
    for action in ['change', 'close']:
        response = client.post('%s/contracts/%s/%s' % (
                server['portal'], contract['id'], action),
            data={'csrf_token': csrf(client), 'reason': '1'},
            allow_redirects=False)
        assert response.status_code == 404
    assert snapshot(server) == before


def test_change_preview_then_apply(server, client):
    portal = server['portal']
    contract = server['change']
    line = 'quantity_%s' % server['line']
    page = client.get('%s/contracts/%s' % (portal, contract['id'])).text
    assert 'Nächste Rechnung' in page and 'Flex' in page
    events = count(server, 'sale_subscription_mrr_event',
        f"subscription = {contract['id']}")
    before = snapshot(server)
    preview = client.post('%s/contracts/%s/change' % (portal, contract['id']),
        data={'csrf_token': csrf(client), line: '3'})
    assert preview.status_code == 200, preview.text
    assert 'Sofort berechnet' in preview.text
    assert snapshot(server) == before  # a preview writes nothing
    applied = client.post('%s/contracts/%s/change/apply' % (
            portal, contract['id']),
        data={'csrf_token': csrf(client), line: '3'}, allow_redirects=False)
    assert applied.status_code == 303, applied.text
    assert value(server, 'SELECT quantity FROM sale_subscription_line '
        f"WHERE id = {server['line']}")[0] == 3
    assert count(server, 'sale_subscription_mrr_event',
        f"subscription = {contract['id']}") == events + 1
    location = applied.headers['Location']
    assert 'Der Vertrag ist geändert.' in client.get(
        server['url'].rstrip('/') + location).text


def test_option_and_plan_switch_are_previewed(server, client):
    "Adding an offered option, switching to a related plan: shown, not made"
    portal = server['portal']
    contract = server['change']
    quantity = {'quantity_%s' % server['line']: '3'}
    before = snapshot(server)
    for data, shown in [
            ({'option': str(server['option']), 'option_quantity': '2'},
                'Backup 100 GB, anteilig'),
            ({'plan': str(server['plus'])}, 'Cloud-Arbeitsplatz, anteilig')]:
        preview = client.post('%s/contracts/%s/change' % (
                portal, contract['id']),
            data={'csrf_token': csrf(client), **quantity, **data})
        assert preview.status_code == 200, (data, preview.text)
        assert 'Änderung bestätigen' in preview.text
        assert shown in preview.text, data
    # the option's service is not a plan, nor the plan an option
    for data in [{'option': str(server['plus']), 'option_quantity': '1'},
            {'plan': str(server['option'])}]:
        refused = client.post('%s/contracts/%s/change' % (
                portal, contract['id']),
            data={'csrf_token': csrf(client), **quantity, **data})
        assert refused.status_code == 400
    assert snapshot(server) == before


def test_pause_and_resume(server, client):
    portal = server['portal']
    contract = server['change']
    paused = client.post('%s/contracts/%s/pause' % (portal, contract['id']),
        data={'csrf_token': csrf(client)}, allow_redirects=False)
    assert paused.status_code == 303, paused.text
    assert value(server, 'SELECT paused_from FROM sale_subscription '
        f"WHERE id = {contract['id']}")[0]
    page = client.get('%s/contracts/%s' % (portal, contract['id'])).text
    assert 'Die Pause ist eingeplant.' not in page  # no done= in this GET
    assert 'Pausiert ab' in page
    resumed = client.post('%s/contracts/%s/resume' % (portal, contract['id']),
        data={'csrf_token': csrf(client)}, allow_redirects=False)
    assert resumed.status_code == 303, resumed.text
    assert value(server, 'SELECT paused_from FROM sale_subscription '
        f"WHERE id = {contract['id']}")[0] is None


def test_plan_switch_applied_bills_what_the_preview_said(server, client):
    portal = server['portal']
    contract = server['change']
    form = {'quantity_%s' % server['line']: '3', 'plan': str(server['plus'])}
    preview = client.post('%s/contracts/%s/change' % (portal, contract['id']),
        data={'csrf_token': csrf(client), **form})
    assert preview.status_code == 200, preview.text
    paid_now, = re.findall(r'id="paid-now">([^<]*)<', preview.text)
    invoices = value(server, 'SELECT MAX(id) FROM account_invoice')[0]
    applied = client.post('%s/contracts/%s/change/apply' % (
            portal, contract['id']),
        data={'csrf_token': csrf(client), **form}, allow_redirects=False)
    assert applied.status_code == 303, applied.text
    assert value(server, 'SELECT plan FROM sale_subscription '
        f"WHERE id = {contract['id']}")[0] == server['plus']
    # the invoices made now: the credit of the old plan's rest and the new
    # plan's first period, their sum the preview's "paid now"
    total = value(server, 'SELECT SUM(total_amount_cache) FROM '
        f'account_invoice WHERE id > {invoices}')[0]
    assert money_text(total) == paid_now.replace('\xa0', ' ')
    page = client.get('%s/contracts/%s' % (portal, contract['id'])).text
    assert 'Flex Plus' in re.search(r'id="plan">([^<]*)<', page).group(1)


def test_reset_password_by_e_mail(server):
    portal = server['portal']
    client = requests.Session()
    client.get(portal + '/?lang=de')
    for email in [server['email_b'], 'niemand@example.com']:
        answer = client.post(portal + '/reset-password', data={
                'csrf_token': csrf(client), 'email': email})
        assert 'Falls zu dieser Adresse ein Konto besteht' in answer.text
    mail, = mails_to(server, server['email_b'])
    body = mail.get_body(('html', 'plain')).get_content()
    url = re.search(r'(https?://[^"\s<]+/set-password\?[^"\s<]+)',
        body).group(1).replace('&amp;', '&')
    query = parse_qs(urlsplit(url).query)
    form = client.get(portal + '/set-password', params={
            'token': query['token'][0], 'email': query['email'][0]})
    assert form.status_code == 200
    wrong = client.post(portal + '/set-password', data={
            'csrf_token': csrf(client), 'email': server['email_b'],
            'token': 'falsch', 'password': 'Neues-Pa55wort-B'})
    assert wrong.status_code == 404
    # the password's rules hold in the portal too (it runs as root, for
    # whom web_user does not check them); the link is not spent
    # (the ERP's messages: German where its translations are loaded)
    for weak, messages in [('kurz', ['mindestens 8', 'at least 8']),
            (server['email_b'].upper(), ['E-Mail', 'email address'])]:
        refused = client.post(portal + '/set-password', data={
                'csrf_token': csrf(client), 'email': server['email_b'],
                'token': query['token'][0], 'password': weak})
        assert refused.status_code == 400, (weak, refused.text)
        assert any(m in refused.text for m in messages), refused.text
    # without its link, the rules tell nothing about the address either
    guessed = client.post(portal + '/set-password', data={
            'csrf_token': csrf(client), 'email': server['email_b'],
            'token': 'falsch', 'password': server['email_b']})
    assert guessed.status_code == 404
    no_token = client.post(portal + '/set-password', data={
            'csrf_token': csrf(client), 'email': server['email_b'],
            'password': 'Neues-Pa55wort-B'})
    assert no_token.status_code == 404
    done = client.post(portal + '/set-password', data={
            'csrf_token': csrf(client), 'email': server['email_b'],
            'token': query['token'][0], 'password': 'Neues-Pa55wort-B'})
    assert done.status_code == 200, done.text
    assert 'Ihr Passwort ist festgelegt' in done.text
    sign_in(server, server['email_b'], 'Neues-Pa55wort-B')


def test_close_with_a_reason(server, client):
    portal = server['portal']
    contract = server['close']
    page = client.get('%s/contracts/%s' % (portal, contract['id'])).text
    assert 'Die Leistung läuft bis zum' in page
    reason = value(server, "SELECT id FROM sale_subscription_close_reason "
        "WHERE code IS NULL OR code != 'unpaid' ORDER BY id")[0]
    unpaid = value(server, "SELECT id FROM sale_subscription_close_reason "
        "WHERE code = 'unpaid'")
    before = snapshot(server)
    for bad in ['', '999999', str(unpaid[0]) if unpaid else 'x']:
        refused = client.post('%s/contracts/%s/close' % (
                portal, contract['id']),
            data={'csrf_token': csrf(client), 'reason': bad})
        assert refused.status_code == 400
    assert snapshot(server) == before
    done = client.post('%s/contracts/%s/close' % (portal, contract['id']),
        data={'csrf_token': csrf(client), 'reason': str(reason),
            'comment': 'Zu teuer'}, allow_redirects=False)
    assert done.status_code == 303, done.text
    ends_on, close_reason, comment = value(server,
        'SELECT ends_on, close_reason, close_comment FROM sale_subscription '
        f"WHERE id = {contract['id']}")
    assert ends_on and close_reason == reason and comment == 'Zu teuer'


def test_contact_data_new_billing_address(server):
    client = sign_in(server)
    portal = server['portal']
    party = server['party_a']
    address_before = value(server, 'SELECT id FROM party_address '
        f'WHERE party = {party} AND active ORDER BY id')[0]
    invoice_address = value(server, 'SELECT invoice_address FROM '
        f"account_invoice WHERE id = {server['change']['invoice_id']}")[0]
    form = client.get(portal + '/contact')
    assert 'Rechnungsadresse' in form.text
    country = value(server, "SELECT id FROM country_country "
        "WHERE code = 'DE'")[0]
    data = {'csrf_token': csrf(client), 'name': 'Kunde A GmbH & Co. KG',
        'email': server['email_a'], 'phone': '+49 89 123456',
        'street': 'Neue Straße 5', 'postal_code': '10115',
        'city': 'Berlin', 'country': str(country)}
    before = snapshot(server)
    for key, bad in [('country', '999999'), ('street', 'x' * 1_000_000),
            ('name', ''), ('email', 'keine-adresse'),
            ('email', '"><script>@x.de'), ('phone', 'abc'),
            ('name', 'Kunde\x00A'), ('city', 'Ber\x07lin'),
            ('postal_code', '10115\x00'), ('city', 'Berlin\nMitte'),
            ('name', 'Kunde\tA')]:
        refused = client.post(portal + '/contact', data={**data, key: bad})
        assert 400 <= refused.status_code < 500, key
        assert 'Es wurde nichts geändert' in refused.text \
            or refused.status_code == 413, (key, refused.text)
    assert snapshot(server) == before
    done = client.post(portal + '/contact', data=data, allow_redirects=False)
    assert done.status_code == 303, done.text
    new = value(server, 'SELECT id, city FROM party_address '
        f'WHERE party = {party} AND active ORDER BY id DESC')
    assert new[0] != address_before and new[1] == 'Berlin'
    assert value(server, 'SELECT invoice_address FROM sale_subscription '
        f"WHERE id = {server['change']['id']}")[0] == new[0]
    # the posted invoice keeps its address
    assert value(server, 'SELECT invoice_address FROM account_invoice '
        f"WHERE id = {server['change']['invoice_id']}")[0] == invoice_address


def test_pay_links_refuse_used_and_unknown_tokens(server):
    client = requests.Session()
    client.get(server['portal'] + '/?lang=de')
    before = snapshot(server)
    for path in ['/pay/' + server['used_token'], '/pay/unbekannt',
            '/payment_method/' + server['pay']['token'],
            '/pay/' + server['method']['token']]:
        assert client.get(server['portal'] + path).status_code == 404, path
        assert client.post(server['portal'] + path,
            data={'csrf_token': csrf(client)}).status_code == 404, path
    assert snapshot(server) == before


def test_new_card_from_the_payment_method_link_pays(server):
    "The hard decline's e-mail link: a new card, the failed invoice charged"
    portal = server['portal']
    contract = server['method']
    path = '/payment_method/' + contract['token']
    client = requests.Session()
    page = client.get(portal + path)
    assert page.status_code == 200
    # the customer's language without choosing it
    assert 'Die Zahlung der Rechnung %s' % contract['invoice'] in page.text
    assert '4000000000000002' not in page.text
    before = snapshot(server)
    card = {'csrf_token': csrf(client), 'holder': 'Kunde A',
        'number': '4242 4242 4242 4242', 'exp_month': '12',
        'exp_year': '2031', 'cvc': '123'}
    for key, bad in [('number', '1234 5678 9012 3456'), ('cvc', '12a'),
            ('exp_month', '13'), ('exp_year', '1999'),
            ('number', '4' * 1_000_000)]:
        refused = client.post(portal + path, data={**card, key: bad})
        assert 400 <= refused.status_code < 500, (key, refused.text)
    assert snapshot(server) == before
    done = client.post(portal + path, data=card)
    assert done.status_code == 200, done.text
    assert 'Vielen Dank' in done.text
    state, = value(server, "SELECT state FROM account_payment "
        f"WHERE subscription = {contract['id']} ORDER BY id DESC")
    assert state == 'succeeded'
    assert value(server, 'SELECT dunning_invoice FROM sale_subscription '
        f"WHERE id = {contract['id']}")[0] is None
    # neither number nor code kept anywhere in the card's row
    row = value(server, 'SELECT token, last4 FROM '
        'sale_subscription_payment_method WHERE party = %s '
        'ORDER BY id DESC' % server['party_a'])
    assert row[1] == '4242' and '4242424242424242' not in row[0]
    # the link opened once
    assert client.get(portal + path).status_code == 404


# -- last: this network is refused afterwards ------------------------------


def test_link_requests_of_a_network_are_limited(server):
    client = requests.Session()
    client.get(server['portal'] + '/?lang=de')
    statuses = []
    for n in range(40):
        answer = client.post(server['portal'] + '/sign-in/link', data={
                'csrf_token': csrf(client),
                'email': 'flut-%s@example.com' % n})
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break
    assert statuses[0] == 200 and statuses[-1] == 429, statuses
    assert 'Zu viele Anfragen aus Ihrem Netz' in answer.text
