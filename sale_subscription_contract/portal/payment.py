# Paying: the card a contract is charged with, replaced by the customer (the
# test processor's form: number and security code go to the processor,
# never to the database; or Stripe Elements: only Stripe's ids are posted),
# and a failed invoice charged again. Reached from
# the contract page when signed in, or by the secure links of the dunning
# e-mails: /pay/<token> and /payment_method/<token> (access_token.py), each
# opening once.
import datetime

from werkzeug.exceptions import NotFound

from trytond.i18n import gettext
from trytond.pool import Pool

from ..exceptions import (
    AccessTokenError, CardAuthenticationRequired, PortalInputError)
from . import forms
from .home import work_for
from .stripe_card import authenticate, posted_stripe_fields, with_stripe
from .web import _, route

MODULE = 'sale_subscription_contract'


def card_form_values(portal):
    "The choices of the card form's expiry"
    year = datetime.date.today().year
    return {'months': range(1, 13), 'years': range(year, year + 16)}


def replace_card(portal, contract):
    """Store the card of the form (as the back office's Add Card wizard, or
    through Stripe Elements: models/stripe_card.py) and charge the contract
    with it from now on"""
    Method = portal.pool.get('sale.subscription.payment_method')
    Contract = portal.pool.get('sale.subscription')
    journal = contract.portal_card_journal()
    if not journal:
        raise PortalInputError(gettext(MODULE + '.msg_portal_no_card_journal'))
    if journal.process_method == 'stripe':
        method = Method.add_stripe_card(journal, contract.party,
            posted_stripe_fields(portal),
            metadata={'subscription': contract.number or str(contract.id)},
            purpose='card')
    else:
        holder = forms.text(portal, 'holder', 'msg_portal_card_holder',
            size=26, required=False)
        number = forms.text(
            portal, 'number', 'msg_portal_card_number', size=23)
        month = forms.integer(portal, 'exp_month', 'msg_portal_card_expiry',
            minimum=1, maximum=12)
        year = forms.integer(portal, 'exp_year', 'msg_portal_card_expiry',
            minimum=2000, maximum=2100)
        cvc = forms.text(portal, 'cvc', 'msg_portal_card_cvc', size=4)
        method = Method.add_card(contract.party, journal, number,
            month, year, cvc=cvc, holder=holder)
    contract = Contract(contract.id)
    contract.payment_method = method
    contract.save()
    return Contract(contract.id)


def card_authenticate(portal, contract, exception, action, back,
        back_label, title):
    """The bank asks to confirm the card the customer entered for the
    contract: its window first, then the same form posted again"""
    return authenticate(portal, exception, contract.portal_stripe_key(),
        action, back, back_label, list(posted_stripe_fields(portal).items()),
        title)


def pay_failed_invoice(contract):
    """Charge the unpaid invoice of the dunning again with the contract's
    card, as the dunning's retry does; False when nothing is to charge"""
    Payment = Pool().get('account.payment')
    invoice = contract.dunning_invoice
    if (invoice is None or contract.invoice_settled(invoice)
            or contract._charge_in_progress(invoice)):
        return False
    if not contract.has_payment_method():
        raise PortalInputError(gettext(MODULE + '.msg_portal_no_card'))
    payment = contract.new_charge(invoice)
    if not payment:
        return False
    contract.log_payment('retry', invoice=invoice,
        description=gettext(MODULE + '.msg_portal_paid_by_customer'))
    # charged after this transaction committed (a queued task)
    Payment.subscription_start([payment])
    return True


def link_contract(portal, token, purpose):
    "The contract a valid secure link opens; any other token: 404"
    AccessToken = portal.pool.get('sale.subscription.access_token')
    try:
        contract = AccessToken.check(token, purpose)
    except AccessTokenError:
        # an expired or spent link is still the customer's: its refusal
        # in their language
        record = AccessToken.lookup(token, purpose)
        if record:
            portal.customer = record.document.party
        raise NotFound()
    portal.speak_to(contract.party)
    return work_for(contract)


def link_page(portal, token, purpose, contract):
    stripe_key = contract.portal_stripe_key()
    return with_stripe(portal.render('pay.html',
            title=_('msg_portal_pay_title'), purpose=purpose, token=token,
            contract=contract, invoice=contract.dunning_invoice,
            card=card_form_values(portal), stripe_key=stripe_key),
        stripe_key)


@route('/pay/<token>')
def pay_link(portal, token):
    contract = link_contract(portal, token, 'pay')
    return link_page(portal, token, 'pay', contract)


@route('/payment_method/<token>')
def payment_method_link(portal, token):
    contract = link_contract(portal, token, 'payment_method')
    return link_page(portal, token, 'payment_method', contract)


@route('/pay/<token>', methods=['POST'])
def pay_link_post(portal, token):
    return _pay(portal, token, 'pay')


@route('/payment_method/<token>', methods=['POST'])
def payment_method_link_post(portal, token):
    return _pay(portal, token, 'payment_method')


def _pay(portal, token, purpose):
    """Spend the link, replace the card if one is given (always for a new
    payment method) and charge the failed invoice"""
    AccessToken = portal.pool.get('sale.subscription.access_token')
    contract = link_contract(portal, token, purpose)
    form = portal.request.form
    new_card = (purpose == 'payment_method' or bool(form.get('number'))
        or 'stripe_payment_method' in form)
    if new_card:
        try:
            contract = replace_card(portal, contract)
        except CardAuthenticationRequired as exception:
            # nothing is stored, the link not spent: the bank's window first
            url = portal.url('/%s/%s' % (purpose, token))
            return card_authenticate(portal, contract, exception, url, url,
                _('msg_portal_back_pay'), _('msg_portal_pay_title'))
    AccessToken.use(token, purpose)
    charged = pay_failed_invoice(contract)
    return portal.render('paid.html', title=_('msg_portal_pay_title'),
        contract=contract, charged=charged, new_card=new_card)
