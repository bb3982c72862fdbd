"""The quotation on a secure link (portal/quotation.py), against a real
trytond: the e-mail of Send by E-mail and its link, the page's lines and
totals, options ticked in and out, questions answered from the back
office, decline, acceptance by signature (clicked in headless Chromium,
through to the contract and its first invoice) or by card (the first
invoice charged to it), a double submit, and what a hostile
visitor tries: other tokens, expired and cancelled quotations, no CSRF,
tampered values. The data: tests/portal_quotation_data.py.

Run (about 30 s, a minute when the database is built anew):
    .venv/bin/python -m pytest -p no:cacheprovider tests/test_portal_quotation.py
The screenshot goes to /tmp/browser-shots/quotation-*.png.
"""
import concurrent.futures
import os
import re
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

import rpc_server
from sao_helpers import sign_in
from sao_steps import click_button, open_form, settle, wait_until
from test_browser import (  # noqa: F401 (fixtures)
    ADMIN_PASSWORD, SHOTS, chromium, chromium_page, close_config_wizard,
    sao_root, serve)
from test_email import MailServer

pytestmark = [pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
DATA = TESTS / 'portal_quotation_data.py'
VAT = Decimal('1.19')


@pytest.fixture(scope='module')
def server(tmp_path_factory, sao_root):  # noqa: F811
    "trytond on a database of its own with the quotations e-mailed"
    tmp = tmp_path_factory.mktemp('quotation')
    name, uri, path = rpc_server.database_for(tmp, 'quotation')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(DATA, name, path, ['build', ADMIN_PASSWORD],
        tmp / 'data.log')
    port = serve.free_port()
    # sao's Send by E-mail sends to this mail server
    mail = MailServer()
    mail.start()
    config = serve.write_config(
        str(tmp / 'trytond.conf'), uri, port, path, sao_root, extra={
            'email': {'uri': f'smtp://127.0.0.1:{mail.port}',
                'from': 'angebot@abo-software.example'}})
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')
        and k not in {'DB_NAME', 'DB_CACHE'}}
    with open(tmp / 'server.log', 'w') as log:
        process = serve.start_server(config, name, port, log=log, env=env)
    url = f'http://127.0.0.1:{port}/'
    try:
        yield dict(facts, url=url, database=name, path=path, tmp=tmp,
            mail=mail,
            portal=f'{url}{name}/portal',
            admin=rpc_server.Session(f'{url}{name}/rpc/', 'admin',
                ADMIN_PASSWORD),
            sales_user=rpc_server.Session(f'{url}{name}/rpc/',
                facts['user'], ADMIN_PASSWORD))
    finally:
        process.terminate()
        process.wait(10)
        mail.stop()
        if not path:
            rpc_server.drop_postgresql(uri, name)


def link(server, key):
    return '%s/quotation/%s' % (
        server['portal'], server['sales'][key]['token'])


def text(response):
    "The page's text without tags, blanks collapsed"
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', response.text))


def totals(response):
    "The three totals the page shows: per period, one-time, first invoice"
    return [t.replace('\xa0', ' ') for t in re.findall(
            r'id="(?:recurring|one-time|first-invoice)-total">([^<]*)<',
            response.text)]


def browser(server, key):
    "A visitor who opened the link: (session, its CSRF token)"
    client = requests.Session()
    response = client.get(link(server, key))
    assert response.status_code == 200, text(response)
    return client, client.cookies['portal_csrf']


def money(locator):
    return locator.inner_text().replace('\xa0', ' ')


def written(server, key):
    "What the quotation holds now: the rows a refused request must not touch"
    admin = server['admin']
    sale_id = server['sales'][key]['id']
    sale, = admin.call('sale.sale', 'read', [sale_id],
        ['state', 'write_date', 'signer_name', 'signed_at'])
    return (sale,
        admin.call('sale.line', 'search_count', [('sale', '=', sale_id)]),
        admin.call('ir.chat.message', 'search_count',
            [('channel.resource', '=', f'sale.sale,{sale_id}')]),
        admin.call('sale.subscription', 'search_count',
            [('origin_sale', '=', sale_id)]))


def test_the_e_mail_and_its_page(server):
    "Send by E-mail: the customer's language, the PDF, a link to the page"
    sale = server['sales']['browser']
    assert sale['subject'] == 'Ihr Angebot %s' % sale['number']
    assert sale['attachments'] == [
        ['Angebot-%s.pdf' % sale['number'], 'application/pdf']]
    # at least 128 bits, only its hash stored
    assert len(sale['token']) == 43
    hashes = server['admin'].call('sale.subscription.access_token',
        'search_read', [('sale', '=', sale['id'])], 0, None, None,
        ['token_hash', 'purpose', 'expires_at'])
    assert [(h['purpose'], len(h['token_hash'])) for h in hashes] == [
        ('quotation', 64)]
    assert sale['token'] not in str(hashes)

    response = requests.get(link(server, 'browser'))
    assert response.status_code == 200
    assert response.headers['Referrer-Policy'] == 'no-referrer'
    page = text(response)
    # German: the customer's language
    assert 'Angebot %s' % sale['number'] in page
    for expected in ['Gültig bis', 'Vera Verkauf', 'Monatlich',
            'Cloud-Arbeitsplatz', 'Jede Periode', 'Backup 100 GB',
            'kündbar zum Periodenende', 'Angebot annehmen']:
        assert expected in page, expected
    assert totals(response) == ['71,16 €', '0,00 €', '71,16 €']
    # the English switch
    assert 'Valid until' in text(requests.get(
            link(server, 'browser') + '?lang=en'))


def test_options_change_the_totals_from_the_server(server):
    sale = server['sales']['http']
    client, csrf = browser(server, 'http')
    before = written(server, 'http')
    assert totals(client.get(link(server, 'http'))) == [
        '€71.16', '€177.31', '€248.47']
    added = client.post(link(server, 'http') + '/option', data={
            'csrf_token': csrf, 'option': sale['option'], 'include': '1',
            # numbers of a form are never read
            'total': '0.01'}, allow_redirects=False)
    assert added.status_code == 303
    page = client.get(urljoin(server['url'], added.headers['Location']))
    # (2 × 29.90 + 9.99) × 1.19 VAT; the sale's own computed totals
    assert totals(page) == ['€83.05', '€177.31', '€260.36']
    computed, = server['admin'].call('sale.sale', 'read', [sale['id']],
        ['recurring_total', 'first_invoice_total', 'state'])
    assert computed['state'] == 'quotation'
    assert computed['first_invoice_total'] == {
        '__class__': 'Decimal', 'decimal': '260.36'}
    assert written(server, 'http')[1] == before[1] + 1
    # ticked again: nothing more
    client.post(link(server, 'http') + '/option', data={
            'csrf_token': csrf, 'option': sale['option'], 'include': '1'})
    assert written(server, 'http')[1] == before[1] + 1
    removed = client.post(link(server, 'http') + '/option', data={
            'csrf_token': csrf, 'option': sale['option'], 'include': '0'})
    assert totals(removed) == ['€71.16', '€177.31', '€248.47']
    assert written(server, 'http')[1] == before[1]


def test_a_question_and_the_salespersons_answer(server):
    sale = server['sales']['http']
    client, csrf = browser(server, 'http')
    asked = client.post(link(server, 'http') + '/message', data={
            'csrf_token': csrf, 'kind': 'question',
            'text': 'Is there a discount for 10 seats?'})
    assert asked.status_code == 200
    assert 'Is there a discount for 10 seats?' in text(asked)
    # the salesperson is told, and answers on the sale's chat in sao
    seller = server['sales_user']
    notices = seller.call('res.notification', 'get', 10)
    assert any(n['label'] == 'Question about %s from Anfrage AG'
        % sale['number'] for n in notices), notices
    resource = f"sale.sale,{sale['id']}"
    seller.call('ir.chat.channel', 'post', resource,
        'Yes: 10 % from 10 seats.', 'public')
    seller.call('ir.chat.channel', 'post', resource,
        'Internal: check the margin first.', 'internal')
    page = text(client.get(link(server, 'http')))
    assert 'Yes: 10 % from 10 seats.' in page
    assert 'Vera Verkauf' in page
    assert 'check the margin' not in page


def test_decline_with_a_reason(server):
    client, csrf = browser(server, 'decline')
    declined = client.post(link(server, 'decline') + '/message', data={
            'csrf_token': csrf, 'kind': 'decline', 'text': 'Zu teuer.'})
    assert declined.status_code == 200
    assert 'Sie haben dieses Angebot abgelehnt' in text(declined)
    sale, _, messages, contracts = written(server, 'decline')
    assert sale['state'] == 'cancelled' and messages == 1 and not contracts
    # the link no longer opens it
    assert client.get(link(server, 'decline')).status_code == 404


def test_accepted_once_on_a_double_submit(server):
    client, csrf = browser(server, 'race')

    def accept(_):
        return client.post(link(server, 'race') + '/accept', data={
                'csrf_token': csrf, 'name': 'Doris Doppel'},
            allow_redirects=False).status_code
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(accept, range(2)))
    assert statuses == [303, 400], statuses
    sale, _, _, contracts = written(server, 'race')
    assert sale['state'] in {'confirmed', 'processing'}
    assert sale['signer_name'] == 'Doris Doppel'
    assert contracts == 1
    page = client.get(link(server, 'race'))
    assert 'Sie haben dieses Angebot am' in text(page)
    # nothing to submit any more
    assert '/accept' not in page.text
    again = client.post(link(server, 'race') + '/accept', data={
            'csrf_token': csrf, 'name': 'Doris Doppel'})
    assert again.status_code == 400
    assert 'bereits angenommen' in text(again)


def test_accept_with_a_card(server):
    "Confirmation by payment: the card is stored and pays the contract"
    sale = server['sales']['payment']
    client, csrf = browser(server, 'payment')
    before = written(server, 'payment')
    card = {'csrf_token': csrf, 'card_holder': 'Zoe Zahl',
        'card_number': '4242 4242 4242 4241', 'card_exp_month': '12',
        'card_exp_year': '2030', 'card_cvc': '123'}
    for wrong in [{}, {'card_number': 'abc'}, {'card_exp_month': '13'},
            {'card_cvc': '12345'}, {'card_number': '4' * 200},
            {'card_exp_year': '9' * 20}, {'card_exp_month': '9' * 20},
            {'card_exp_year': '²⁰³⁰'}, {'card_exp_month': '-1'}]:
        refused = client.post(link(server, 'payment') + '/accept',
            data=dict(card, **wrong))
        assert refused.status_code == 400, wrong
    assert 'Karte' in text(refused)
    assert written(server, 'payment') == before
    assert server['admin'].call('sale.subscription.payment_method',
        'search_count', [('party.name', '=', 'Zahlung GmbH')]) == 0
    page = client.get(link(server, 'payment'))
    assert totals(page) == ['71,16 €', '177,31 €', '248,47 €']
    page = page.text
    assert 'name="card_number"' in page and 'signature-pad' not in page
    accepted = client.post(link(server, 'payment') + '/accept',
        data=dict(card, card_number='4242 4242 4242 4242'))
    assert accepted.status_code == 200
    assert 'Sie haben dieses Angebot am' in text(accepted)
    invoice = rpc_server.build(DATA, server['database'], server['path'],
        ['first_invoice', str(sale['id'])], server['tmp'] / 'card.log')
    assert invoice['payment_method'], "the card pays the contract"
    # billed at the acceptance and charged to the card at once: the
    # contract's first period and the sale's invoice of the one-time setup
    # line, together the first payment the page showed, to the cent
    assert invoice['total'] == '71.16'
    assert invoice['invoice_state'] == 'paid'
    assert invoice['sale_invoices'] == [['177.31', 'paid']]
    assert sale['first_invoice_total'] == '248.47'  # 71.16 + 177.31


def test_what_a_hostile_visitor_tries(server):
    portal = server['portal']
    client, csrf = browser(server, 'other')
    keys = ['other', 'expired', 'cancelled', 'http']
    before = {k: written(server, k) for k in keys}
    other = link(server, 'other')

    def status(method, url, **data):
        response = client.request(method, url, allow_redirects=False,
            data=dict(data, csrf_token=csrf) if method == 'POST' else None)
        assert response.status_code != 500, text(response)
        return response

    # made-up, mangled, expired and cancelled links: 404, no hint
    made_up = secrets.token_urlsafe(32)
    for token in [made_up, made_up[:-1], made_up + 'A', '..%2F..',
            server['sales']['expired']['token'],
            server['sales']['cancelled']['token']]:
        for method, path, data in [('GET', '', {}),
                ('POST', '/accept', {'name': 'X'}),
                ('POST', '/message', {'kind': 'question', 'text': 'x'}),
                ('POST', '/option', {'option': '1', 'include': '1'})]:
            response = status(method, f'{portal}/quotation/{token}{path}',
                **data)
            assert response.status_code == 404, (token, path)
            assert 'abgelaufen' in text(response) or (
                'expired' in text(response))
    # the refused link of a German customer, opened without the portal's
    # language cookie, is refused in German (the company's is English)
    refused = requests.get(
        f"{portal}/quotation/{server['sales']['expired']['token']}")
    assert refused.status_code == 404
    assert 'Diese Seite gibt es nicht' in refused.text, text(refused)
    assert 'Sorry' not in refused.text
    # a POST without its CSRF token
    assert client.post(other + '/accept', data={'name': 'X'}
        ).status_code == 403
    assert client.post(other + '/option', data={'csrf_token': 'x' * 43,
            'option': server['sales']['other']['option'], 'include': '1'}
        ).status_code == 403
    # another quotation's option, values that are no id
    mine = server['sales']['other']['option']
    for value in [server['sales']['http']['option'], '-1', 'abc', '',
            '1e3', '9' * 30, str(mine) + ' OR 1=1']:
        response = status('POST', other + '/option', option=value,
            include='1')
        assert response.status_code == 400, value
    assert 'nicht angeboten' in text(status('POST', other + '/option',
            option=server['sales']['http']['option'], include='1'))
    # too much text, a forged signature, an unknown kind of message
    huge = 'x' * 1_000_000
    for path, data in [
            ('/message', {'kind': 'question', 'text': huge}),
            ('/message', {'kind': 'decline', 'text': huge}),
            ('/message', {'kind': 'question', 'text': '   '}),
            ('/message', {'kind': 'order', 'text': 'x'}),
            ('/accept', {'name': huge}),
            ('/accept', {'name': ''}),
            ('/accept', {'name': 'X', 'signature': 'data:image/png;base64,'
                    + 'A' * 400_000}),
            ('/accept', {'name': 'X', 'signature': 'javascript:alert(1)'}),
            ('/accept', {'name': 'X\x00'})]:
        response = status('POST', other + path, **data)
        assert 400 <= response.status_code < 500, (path, data.keys())
    assert {k: written(server, k) for k in keys} == before


@pytest.mark.browser
def test_sign_and_accept_in_the_browser(server, chromium):  # noqa: F811
    "Open the e-mailed link, add the option, sign by drawing, accept"
    SHOTS.mkdir(parents=True, exist_ok=True)
    sale = server['sales']['browser']
    with chromium_page(chromium, 1100, 1400) as page:
        page.goto(link(server, 'browser'))
        assert page.locator('h1').first.inner_text() == (
            'Angebot %s' % sale['number'])
        assert money(page.locator('#first-invoice-total')) == '71,16 €'
        page.locator('#options input[type=checkbox]').check()
        page.wait_for_url('**/quotation/*')
        page.locator('#first-invoice-total').filter(
            has_text='83,05').wait_for()
        shown = money(page.locator('#first-invoice-total'))
        # the option is in, and the box stays ticked
        assert page.locator('#options input[type=checkbox]').is_checked()
        page.fill('#signer-name', 'Berta Browser')
        box = page.locator('#signature-pad').bounding_box()
        page.mouse.move(box['x'] + 30, box['y'] + 100)
        page.mouse.down()
        for step in range(1, 12):
            page.mouse.move(box['x'] + 30 + step * 25,
                box['y'] + 100 - (step % 3) * 30, steps=3)
        page.mouse.up()
        page.screenshot(path=str(SHOTS / 'quotation-signed.png'),
            full_page=True)
        page.click('#accept-button')
        page.locator('#accepted').wait_for()
        assert 'Vielen Dank' in page.locator('#accepted').inner_text()
        page.screenshot(path=str(SHOTS / 'quotation-accepted.png'),
            full_page=True)

    stored, = server['admin'].call('sale.sale', 'read', [sale['id']],
        ['state', 'signer_name', 'signature', 'signed_at', 'signer_ip'])
    assert stored['state'] in {'confirmed', 'processing'}
    assert stored['signer_name'] == 'Berta Browser'
    assert stored['signed_at'] and stored['signer_ip'] == '127.0.0.1'
    assert stored['signature'], "the drawn signature is stored"
    # the contract's first invoice is what the page said, to the cent
    invoice = rpc_server.build(DATA, server['database'], server['path'],
        ['first_invoice', str(sale['id'])], server['tmp'] / 'invoice.log')
    assert invoice['state'] == 'running'
    total = Decimal(shown.replace('€', '').replace(',', '.').strip())
    assert Decimal(invoice['total']) == total == (
        (2 * Decimal('29.90') + Decimal('9.99')) * VAT).quantize(
            Decimal('0.01'))
    assert invoice['sale_invoices'] == []
    # the signature on the quotation's print: name, moment, IP, drawing
    assert re.search(r'Unterschrieben von: +Berta Browser', invoice['printed'])
    assert 'IP-Adresse: 127.0.0.1' in invoice['printed']
    # the template's placeholder and the drawn signature
    assert invoice['pictures'] == 2


@pytest.mark.browser
def test_send_by_email_in_sao(server, chromium):  # noqa: F811
    "A salesperson clicks Send by E-mail; the customer opens the link"
    draft = server['draft']
    with chromium_page(chromium, 1400, 1000) as page:
        sign_in(page, server['url'], server['database'],
            password=ADMIN_PASSWORD)
        close_config_wizard(page)
        tab = open_form(page, ('Sales', 'Sales'), draft['party'])
        click_button(tab, 'Send by E-mail')
        settle(page)

        def sent():
            return [m for to, m in server['mail'].messages
                if to == [draft['email']]]
        # sent once the click's transaction committed
        assert wait_until(sent), "no e-mail"
        page.screenshot(path=str(SHOTS / 'quotation-sao-sent.png'))
        mail, = sent()
        body = mail.get_body(('html',)).get_content()
        url, = re.findall(r'href="([^"]+/quotation/[^"]+)"', body)
        # by default the link is this server's portal
        assert url.startswith(server['portal'] + '/quotation/'), url
        page.goto(url)
        assert page.locator('h1').first.inner_text().startswith('Angebot ')
        assert 'Entwurf GmbH' in page.locator('main').inner_text()
    sale, = server['admin'].call('sale.sale', 'read', [draft['id']],
        ['state'])
    assert sale['state'] == 'quotation'
    assert server['admin'].call('ir.email', 'search_count',
        [('resource', '=', f"sale.sale,{draft['id']}")]) == 1
