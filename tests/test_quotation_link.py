"""The secure link of a quotation (models/access_token.py, models/
quotation_portal.py): Send by E-mail quotes the sale, logs the e-mail with
the PDF on it and stores only the hash of a token that opens this one sale
until the quotation expires; a link opens exactly one document; the links
of contracts (pay, payment method) work as before."""
import datetime

import pytest

from helpers import (
    customer, make_catalogue, make_sale, monthly_plan, start_contract)
from test_email import german, smtp  # noqa: F401 (fixture)
from trytond.exceptions import UserError
from trytond.modules.sale_subscription_contract.models.access_token import (
    token_hash)


def quotation(env, email='einkauf@link.example'):
    products = make_catalogue(env)
    party = customer(env, email=email)
    sale = make_sale(env, party, monthly_plan(env),
        [(products['seat'], 2)], sale_date=datetime.date.today())
    sale.quotation_validity = datetime.timedelta(days=30)
    sale.save()
    return sale


def test_send_by_email_quotes_logs_and_links(env, smtp):  # noqa: F811
    german(env)
    Sale = env.get('sale.sale')
    Email = env.get('ir.email')
    AccessToken = env.get('sale.subscription.access_token')
    sale = quotation(env)
    Sale.send_quotation([sale])
    sale = Sale(sale.id)
    assert sale.state == 'quotation'
    email, = Email.search([('resource', '=', str(sale))])
    assert email.recipients == 'einkauf@link.example'
    # in the customer's language
    assert email.subject == 'Ihr Angebot %s' % sale.number
    assert '/quotation/' in email.body
    Attachment = env.get('ir.attachment')
    attachment, = Attachment.search([('resource', '=', str(email))])
    assert attachment.name == 'Angebot-%s.pdf' % sale.number
    assert attachment.data.startswith(b'%PDF')
    token = email.body.split('/quotation/')[1][:43]
    record, = AccessToken.search([('sale', '=', sale.id)])
    assert record.purpose == 'quotation' and not record.subscription
    assert token not in record.token_hash
    # valid as long as the quotation: to the end of its last day
    assert record.expires_at == datetime.datetime.combine(
        sale.quotation_expire + datetime.timedelta(days=1), datetime.time())
    assert AccessToken.find(token, 'quotation') == record
    with pytest.raises(UserError):
        AccessToken.find(token, 'pay')


def test_no_email_address_no_sending(env):
    Sale = env.get('sale.sale')
    sale = quotation(env, email=None)
    with pytest.raises(UserError, match='no e-mail address'):
        Sale.send_quotation([sale])


def test_a_link_opens_exactly_one_document(env):
    AccessToken = env.get('sale.subscription.access_token')
    sale = quotation(env)
    with pytest.raises(UserError, match='either a contract or a quotation'):
        AccessToken.new(None, 'quotation')
    products = make_catalogue(env)
    contract = start_contract(env, monthly_plan(env),
        datetime.date.today(), [(products['seat'], 1)])
    with pytest.raises(UserError, match='either a contract or a quotation'):
        AccessToken.new(contract, 'quotation', sale=sale)
    # a contract's link as before
    token, record = AccessToken.new(contract, 'pay')
    assert AccessToken.check(token, 'pay') == contract
    assert record.document == contract


def test_the_daily_cron_deletes_links_expired_for_a_month(env):
    "Clicked or sent links do not pile up: a month after expiring they go"
    AccessToken = env.get('sale.subscription.access_token')
    Cron = env.get('ir.cron')
    sale = quotation(env)
    products = make_catalogue(env)
    contract = start_contract(env, monthly_plan(env),
        datetime.date.today(), [(products['seat'], 1)])
    now = AccessToken._now()
    day = datetime.timedelta(days=1)
    expiries = {
        'valid': now + 14 * day,
        'expired last week': now - 7 * day,
        'expired 29 days ago': now - 29 * day,
        'expired 31 days ago': now - 31 * day,
        'quotation expired 60 days ago': now - 60 * day,
        }
    tokens = {}
    for name, expires_at in expiries.items():
        if name.startswith('quotation'):
            tokens[name], _ = AccessToken.new(
                None, 'quotation', sale=sale, expires_at=expires_at)
        else:
            tokens[name], _ = AccessToken.new(
                contract, 'pay', expires_at=expires_at)
    cron, = Cron.search([
            ('method', '=', 'sale.subscription.access_token|delete_expired'),
            ])
    assert (cron.interval_number, cron.interval_type) == (1, 'days')
    Cron.run_once([cron])
    left = {name for name, token in tokens.items()
        if AccessToken.search([('token_hash', '=', token_hash(token))])}
    assert left == {
        'valid', 'expired last week', 'expired 29 days ago'}
    assert AccessToken.check(tokens['valid'], 'pay') == contract
