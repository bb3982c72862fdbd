# The quotation on a secure link (no account): the customer reads it, ticks
# options in or out, accepts it (signature) or declines it, asks a
# question. What the page may do is decided here, top to bottom:
#   the token of the URL -> its access token (purpose "quotation", not
#   expired) -> its sale (not cancelled, not back in draft); anything else
#   is a 404 without a hint -> the action, through the sale's model
#   (models/quotation_portal.py), which refuses what the quotation's state
#   does not allow (a 400 page, nothing written).
# The totals always come from the sale's computed fields, never the form.
import re

from werkzeug.exceptions import BadRequest, NotFound

from trytond.transaction import Transaction

from ..exceptions import CardAuthenticationRequired
from .stripe_card import authenticate, posted_stripe_fields, with_stripe
from .web import _, route

# secrets.token_urlsafe(32): 43 URL-safe characters
TOKEN = re.compile(r'^[A-Za-z0-9_-]{43}$')
ACCEPTED = {'confirmed', 'processing', 'done'}
# the card form's fields (card_<name>): passed once to the processor
CARD = ['holder', 'number', 'exp_month', 'exp_year', 'cvc']


def quotation_of(portal, token):
    "The sale the token opens, or NotFound"
    pool = portal.pool
    AccessToken = pool.get('sale.subscription.access_token')
    Sale = pool.get('sale.sale')
    if not TOKEN.match(token or ''):
        raise NotFound()
    record = AccessToken.lookup(token, 'quotation')
    if not record or not record.sale:
        raise NotFound()
    sale = Sale(record.sale.id)
    # the link is the customer's: even its refusal in their language
    portal.customer = sale.party
    if record.expires_at < AccessToken._now():
        raise NotFound()
    if sale.state not in ACCEPTED | {'quotation'}:
        raise NotFound()
    return sale


def _form_id(portal, name):
    "A positive record id of the form, or 400"
    value = portal.request.form.get(name, '')
    if not value.isdigit() or len(value) > 9:
        raise BadRequest()
    return int(value)


def _form_text(portal, name):
    # the model refuses texts over its sizes with a message; this only
    # keeps what is not text out
    value = portal.request.form.get(name, '')
    if '\x00' in value:
        raise BadRequest()
    return value


@route('/quotation/<token>', methods=['GET'])
def quotation(portal, token):
    sale = quotation_of(portal, token)
    return render(portal, sale, token)


def render(portal, sale, token, declined=False):
    included = sale.portal_included_options
    contract = sale.subscriptions[0] if sale.subscriptions else None
    open_ = sale.portal_open and not declined
    stripe_key = None
    if open_ and sale.online_confirmation in {'payment', 'both'}:
        stripe_key = sale.portal_stripe_key()
    with in_page_language(portal, sale):
        response = portal.render('quotation.html',
            title=portal_title(portal, sale), sale=sale, token=token,
            included=included, accepted=sale.state in ACCEPTED,
            open=open_, declined=declined, stripe_key=stripe_key,
            contract=contract, messages=sale.portal_messages())
    return with_stripe(response, stripe_key)


def portal_title(portal, sale):
    "The title in the page's language (render sets it for the template)"
    with in_page_language(portal):
        return _('msg_portal_quotation_title', number=sale.number or '')


def in_page_language(portal, sale=None):
    """The ERP's refusals (UserError) in the language of the page; the
    sale's company as a back office user's (taxes, today)"""
    context = {'language': portal.language_code()}
    if sale:
        context.update(company=sale.company.id, companies=[sale.company.id])
    return Transaction().set_context(**context)


@route('/quotation/<token>/option', methods=['POST'])
def option(portal, token):
    sale = quotation_of(portal, token)
    option_id = _form_id(portal, 'option')
    included = portal.request.form.get('include') == '1'
    with in_page_language(portal, sale):
        sale.portal_set_option(option_id, included)
    return portal.redirect('/quotation/%s' % token)


@route('/quotation/<token>/accept', methods=['POST'])
def accept(portal, token):
    sale = quotation_of(portal, token)
    card = {k: _form_text(portal, 'card_' + k)
        for k in CARD if 'card_' + k in portal.request.form}
    card.update(posted_stripe_fields(portal))
    signer, signature = (
        _form_text(portal, 'name'), _form_text(portal, 'signature'))
    with in_page_language(portal, sale):
        try:
            sale.portal_accept(signer, signature,
                portal.request.remote_addr, card=card)
        except CardAuthenticationRequired as exception:
            # nothing is accepted (nor kept): the bank's window first
            base = '/quotation/%s' % token
            return authenticate(portal, exception, sale.portal_stripe_key(),
                portal.url(base + '/accept'), portal.url(base),
                _('msg_portal_quotation_back'),
                [('name', signer), ('signature', signature), *card.items()],
                portal_title(portal, sale))
    return portal.redirect('/quotation/%s' % token)


@route('/quotation/<token>/message', methods=['POST'])
def message(portal, token):
    sale = quotation_of(portal, token)
    kind = portal.request.form.get('kind')
    if kind not in {'question', 'decline'}:
        raise BadRequest()
    with in_page_language(portal, sale):
        sale = sale.portal_post(kind, _form_text(portal, 'text'))
    if kind == 'decline':
        # the link no longer opens a cancelled quotation: say so once here
        return render(portal, sale.__class__(sale.id), token, declined=True)
    return portal.redirect('/quotation/%s' % token)
