"""The server of the portal account tests: trytond (with sao) on a database
of its own built by portal_account_data.py, an SMTP server that keeps what
the portal sends, and row counts read straight from the database to prove
that a refused request wrote nothing."""
import os
import re
import sqlite3
from pathlib import Path

import pytest
import requests

import rpc_server
from test_browser import ADMIN_PASSWORD, serve
from test_email import MailServer

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope='module')
def portal_server(tmp_path_factory, sao_root):
    tmp = tmp_path_factory.mktemp('portal_account')
    name, uri, path = rpc_server.database_for(tmp, 'portal')
    if not path:
        rpc_server.drop_postgresql(uri, name)
    facts = rpc_server.build(TESTS / 'portal_account_data.py', name, path,
        [ADMIN_PASSWORD], tmp / 'data.log')
    mail = MailServer()
    mail.start()
    port = serve.free_port()
    config = serve.write_config(
        str(tmp / 'trytond.conf'), uri, port, path, sao_root, extra={
            'email': {'uri': f'smtp://127.0.0.1:{mail.port}',
                'from': 'portal@abo-software.example'},
            # a third wrong password is refused by the rate limit
            'session': {'max_attempt': 2,
                # the last test floods the link requests of its network
                'max_attempt_ip_network': 30},
            })
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')
        and k not in {'DB_NAME', 'DB_CACHE'}}
    with open(tmp / 'server.log', 'w') as log:
        process = serve.start_server(config, name, port, log=log, env=env)
    # the tokens of the links the dunning e-mails carried
    for key, purpose in [('pay', 'pay'), ('method', 'payment_method')]:
        link = facts['mail_links'][purpose]
        assert f'/{name}/portal/{purpose}/' in link, link
        facts[key]['token'] = link.rsplit('/', 1)[1]
    try:
        yield dict(facts, url=f'http://127.0.0.1:{port}/', database=name,
            portal=f'http://127.0.0.1:{port}/{name}/portal', mail=mail,
            uri=uri, path=path, log=tmp / 'server.log')
    finally:
        process.terminate()
        process.wait(10)
        mail.stop()
        if not path:
            rpc_server.drop_postgresql(uri, name)


def count(server, table, where='1=1'):
    "The number of rows of table (straight from the database)"
    query = f'SELECT COUNT(*) FROM "{table}" WHERE {where}'
    if server['path']:
        file = Path(server['path']) / f"{server['database']}.sqlite"
        with sqlite3.connect(f'file:{file}?mode=ro', uri=True) as db:
            return db.execute(query).fetchone()[0]
    import psycopg
    with psycopg.connect(server['uri'] + server['database']) as db:
        return db.execute(query).fetchone()[0]


def value(server, query):
    if server['path']:
        file = Path(server['path']) / f"{server['database']}.sqlite"
        with sqlite3.connect(f'file:{file}?mode=ro', uri=True) as db:
            return db.execute(query).fetchone()
    import psycopg
    with psycopg.connect(server['uri'] + server['database']) as db:
        return db.execute(query).fetchone()


WRITES = ['sale_subscription', 'sale_subscription_line',
    'sale_subscription_adjustment', 'sale_subscription_mrr_event',
    'sale_subscription_payment_method', 'account_payment',
    'account_invoice', 'party_address', 'party_contact_mechanism',
    'party_party', 'web_user_session']


def snapshot(server):
    "Row counts and the last write of the tables a portal page may change"
    result = {}
    for table in WRITES:
        result[table] = value(server,
            f'SELECT COUNT(*), MAX(write_date), MAX(create_date) '
            f'FROM "{table}"')
    return result


def csrf(client):
    return client.cookies['portal_csrf']


def sign_in(server, email=None, password=None, lang='de'):
    "A requests session signed in as customer A (or email)"
    client = requests.Session()
    client.get(server['portal'] + '/?lang=' + lang)
    response = client.post(server['portal'] + '/sign-in', data={
            'csrf_token': csrf(client),
            'email': email or server['email_a'],
            'password': password or server['password_a'],
            }, allow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def mails_to(server, address):
    return [m for to, m in server['mail'].messages if address in to]


def link_in(message):
    body = message.get_body(('plain',)).get_content()
    return re.search(r'https?://\S+/link/(\S+)', body).group(1)


def money_text(amount):
    "amount as the German pages write it"
    return '{:,.2f} €'.format(amount).replace(',', '_').replace(
        '.', ',').replace('_', '.')
