"""Every address of the customer portal, taken from the routes the module
registers on trytond's WSGI application (a new page is probed without
being listed here), tried by a signed-in customer A:
- with customer B's ids, ids no record can have (2**31, 2**63) and tokens
  that open nothing (made up, or B's spent link): 404, for GET and for
  POST with a valid CSRF token;
- every POST without its CSRF token: 403;
and nothing is written by any of it (row counts and last writes)."""
import concurrent.futures
import re

import pytest
import requests

from portal_fixture import (  # noqa: F401 (fixture)
    csrf, portal_server, sign_in, snapshot, value)
from test_browser import sao_root  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

# the portal's own 404 page, never the generic one
NOT_FOUND_TEXT = 'Diese Seite gibt es nicht'


def portal_rules():
    "(rule, methods, arguments) of the portal's pages"
    import trytond.modules.sale_subscription_contract.portal  # noqa: F401
    from trytond.modules.sale_subscription_contract.portal.web import prefix
    from trytond.wsgi import app
    start = '/<database_name>/%s/' % prefix()
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(start) or '/static/' in rule.rule:
            continue
        arguments = set(rule.arguments) - {'database_name'}
        if 'unknown' in arguments:
            continue  # the catch-all 404 page itself
        rules.append((rule, set(rule.methods) - {'HEAD', 'OPTIONS'},
                arguments))
    return rules


def foreign_values(server):
    "What customer A is not to reach: B's ids, tokens that open nothing"
    return {
        'contract_id': server['other']['id'],
        'invoice_id': server['other']['invoice_id'],
        'sale_id': server['other_quotation'],
        'token': [server['used_token'], 'x' * 43],
        }


def urls(server, rule, arguments):
    """The URLs of rule with customer B's values (one per token tried), and
    with ids no record can have (past PostgreSQL's and SQLite's integers)"""
    values = foreign_values(server)
    tokens = values['token'] if 'token' in arguments else [None]
    ids = arguments - {'token'}
    fillings = []
    for token in tokens:
        filled = {name: values[name] for name in ids}
        if token:
            filled['token'] = token
        fillings.append(filled)
    if ids:
        for huge in (2 ** 31, 2 ** 63):
            filled = {name: huge for name in ids}
            if tokens[0]:
                filled['token'] = tokens[0]
            fillings.append(filled)
    result = []
    for filled in fillings:
        filled['database_name'] = server['database']
        path = rule.build(filled, append_unknown=False)[1]
        result.append(server['url'].rstrip('/') + path)
    return result


def test_the_probe_knows_every_argument(portal_server):  # noqa: F811
    "A page with an argument the probe cannot fill must be added to it"
    known = set(foreign_values(portal_server))
    for rule, _, arguments in portal_rules():
        assert arguments <= known, (rule.rule, arguments - known)


def test_another_customers_ids_and_dead_tokens_are_404(
        portal_server):  # noqa: F811
    client = sign_in(portal_server)
    before = snapshot(portal_server)
    problems, probed = [], 0
    for rule, methods, arguments in portal_rules():
        if not arguments:
            continue
        for url in urls(portal_server, rule, arguments):
            for method in sorted(methods):
                data = {'csrf_token': csrf(client)} if method == 'POST' else None
                response = client.request(method, url, data=data,
                    allow_redirects=False)
                probed += 1
                if (response.status_code != 404
                        or NOT_FOUND_TEXT not in response.text):
                    problems.append(
                        f"{method} {url}: {response.status_code}")
    assert probed >= 10
    assert not problems, '\n'.join(problems)
    assert snapshot(portal_server) == before


def test_every_post_without_its_csrf_token_is_403(
        portal_server):  # noqa: F811
    client = sign_in(portal_server)
    anonymous = requests.Session()
    anonymous.get(portal_server['portal'] + '/')
    before = snapshot(portal_server)
    problems, probed = [], 0
    for rule, methods, arguments in portal_rules():
        if 'POST' not in methods:
            continue
        for url in urls(portal_server, rule, arguments):
            for session in [client, anonymous]:
                for data in [{}, {'csrf_token': 'x' * 43}]:
                    response = session.post(url, data=data,
                        allow_redirects=False)
                    probed += 1
                    if response.status_code != 403:
                        problems.append(
                            f"POST {url} {data}: {response.status_code}")
    assert probed >= 20
    assert not problems, '\n'.join(problems)
    assert snapshot(portal_server) == before


def test_pay_a_failed_invoice_four_clicks_at_once(
        portal_server):  # noqa: F811
    """A soft decline: the customer replaces the card, then pays again,
    clicking four times at once: charged once"""
    server, client = portal_server, sign_in(portal_server)
    portal = server['portal']
    contract = server['retry']
    page = client.get('%s/contracts/%s' % (portal, contract['id'])).text
    assert contract['invoice'] in re.search(
        r'id="payment-failed">([^<]*)<', page).group(1)
    saved = client.post('%s/contracts/%s/card' % (portal, contract['id']),
        data={'csrf_token': csrf(client), 'holder': 'Kunde A',
            'number': '4242 4242 4242 4242', 'exp_month': '12',
            'exp_year': '2031', 'cvc': '123'}, allow_redirects=False)
    assert saved.status_code == 303, saved.text
    payments = ('SELECT COUNT(*) FROM account_payment '
        f"WHERE subscription_invoice = {contract['invoice_id']}")
    before, = value(server, payments)

    # four clicks at the same moment (two tabs, a double click): one
    # charge; the others are told it is under way or find it paid
    def pay(_):
        return client.post('%s/contracts/%s/pay' % (portal, contract['id']),
            data={'csrf_token': csrf(client)})
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(pay, range(4)))
    assert value(server, payments)[0] == before + 1
    paid = [a for a in answers if a.status_code == 200]
    assert paid, [a.status_code for a in answers]
    # each page after a click: paid, or the charge under way (never the
    # failed payment again with a second Pay button)
    for page in paid:
        assert 'id="payment-failed"' not in page.text, page.text
        assert 'id="pay"' not in page.text
    assert 'id="payment-failed"' not in client.get(
        '%s/contracts/%s' % (portal, contract['id'])).text
    for refused in [a for a in answers if a.status_code != 200]:
        assert refused.status_code in {400, 404}, refused.text
        assert refused.status_code == 404 or (
            'wird bereits belastet' in refused.text), refused.text
    assert value(server, 'SELECT state FROM account_payment '
        f"WHERE subscription_invoice = {contract['invoice_id']} "
        'ORDER BY id DESC')[0] == 'succeeded'
    assert value(server, 'SELECT dunning_invoice FROM sale_subscription '
        f"WHERE id = {contract['id']}")[0] is None
    # nothing left to pay: the page is gone
    again = client.post('%s/contracts/%s/pay' % (portal, contract['id']),
        data={'csrf_token': csrf(client)}, allow_redirects=False)
    assert again.status_code == 404


def test_two_changes_at_once_are_priced_one_after_the_other(
        portal_server):  # noqa: F811
    """Two tabs apply different quantities at the same moment: the second
    is priced from the first's quantity, as if clicked after it (the MRR
    log chains), never both from the quantity they read"""
    server, client = portal_server, sign_in(portal_server)
    portal, contract = server['portal'], server['change']
    line = 'quantity_%s' % server['line']
    events = ('SELECT mrr_before, mrr_after FROM sale_subscription_mrr_event '
        f"WHERE subscription = {contract['id']} ORDER BY id DESC")
    start, = value(server, 'SELECT quantity FROM sale_subscription_line '
        f"WHERE id = {server['line']}")

    def apply(quantity):
        return client.post(
            f"{portal}/contracts/{contract['id']}/change/apply",
            data={'csrf_token': csrf(client), line: str(quantity)},
            allow_redirects=False)
    quantities = [start + 2, start + 4]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(apply, quantities))
    statuses = sorted(a.status_code for a in answers)
    # both applied, or (PostgreSQL) the second still found the first's
    # invoice holding the gapless sequence after trytond ran it again: it
    # says so and changed nothing
    assert statuses in ([303, 303], [303, 503]), [a.text for a in answers]
    for busy in [a for a in answers if a.status_code == 503]:
        assert 'Es wurde nichts geändert' in busy.text, busy.text
    quantity, = value(server, 'SELECT quantity FROM sale_subscription_line '
        f"WHERE id = {server['line']}")
    assert quantity in quantities
    if statuses == [303, 303]:
        last = value(server, events + ' LIMIT 1')
        before_last = value(server, events + ' LIMIT 1 OFFSET 1')
        assert last[0] == before_last[1], (before_last, last)
    assert apply(start).status_code == 303
