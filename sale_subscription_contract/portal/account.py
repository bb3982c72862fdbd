# The portal account: signing in with e-mail and password (web_user's
# authenticate, rate-limited) or with a one-time link sent by e-mail, and
# setting a forgotten password (web_user's reset-password token). Every
# answer about an e-mail address is the same whether it has an account or
# not: nobody learns who is a customer.
import datetime
import hmac

from werkzeug.exceptions import NotFound

from trytond.exceptions import RateLimitException
from trytond.transaction import Transaction

from ..models.web_user import party_language
from . import forms
from .web import _, route


def sign_in_page(portal, status=200, error=None, notice=None):
    "The sign-in page (the portal's entry page when nobody is signed in)"
    return portal.render('sign_in.html', status=status,
        title=_('msg_portal_sign_in'), error=error, notice=notice)


@route('/sign-in')
def sign_in_form(portal):
    if portal.web_user:
        return portal.redirect('/')
    return sign_in_page(portal)


@route('/sign-in', methods=['POST'])
def sign_in(portal):
    WebUser = portal.pool.get('web.user')
    email = forms.text(portal, 'email', 'msg_portal_email')
    password = forms.text(portal, 'password', 'msg_portal_password',
        strip=False)
    try:
        user = WebUser.authenticate(email, password)
    except RateLimitException:
        return sign_in_page(portal, status=429,
            error=_('msg_portal_sign_in_rate_limit'))
    if not user or not user.party:
        return sign_in_page(portal, status=401,
            error=_('msg_portal_sign_in_wrong'))
    portal.sign_in(user)
    return portal.redirect('/')


@route('/sign-in/link', methods=['POST'])
def sign_in_link(portal):
    "E-mail a one-time sign-in link; the same answer for any address"
    pool = portal.pool
    WebUser = pool.get('web.user')
    Contract = pool.get('sale.subscription')
    email = forms.text(portal, 'email', 'msg_portal_email')
    try:
        WebUser.send_sign_in_link(email, Contract.portal_url())
    except RateLimitException:
        return sign_in_page(portal, status=429,
            error=_('msg_portal_link_rate_limit'))
    return sign_in_page(portal, notice=_('msg_portal_link_sent'))


@route('/link/<token>')
def link_form(portal, token):
    # opening the link signs in only by the button: a mail scanner that
    # fetches links must not spend it; a link that opens nothing is a 404
    WebUser = portal.pool.get('web.user')
    user = WebUser.sign_in_link_user(token)
    if not user or not user.party:
        raise NotFound()
    # the page in the language of the e-mail that carried the link
    portal.speak_to(user.party)
    return portal.render('link.html', title=_('msg_portal_sign_in'),
        token=token)


@route('/link/<token>', methods=['POST'])
def link_sign_in(portal, token):
    WebUser = portal.pool.get('web.user')
    user = WebUser.sign_in_with_link(token)
    if not user or not user.party:
        raise NotFound()
    portal.sign_in(user)
    return portal.redirect('/')


@route('/reset-password')
def reset_password_form(portal):
    return portal.render('reset_password.html',
        title=_('msg_portal_reset_password'), notice=None)


@route('/reset-password', methods=['POST'])
def reset_password(portal):
    "web_user's reset e-mail to the address's account, if any"
    WebUser = portal.pool.get('web.user')
    user = WebUser.find_by_email(
        forms.text(portal, 'email', 'msg_portal_email'))
    if user and user.party:
        # the e-mail in the customer's language: web_user reads the party's
        # language without a company (per company here), so from the
        # context; the page itself stays the same for any address
        lang = party_language(user.party)
        with Transaction().set_context(
                language=lang.code if lang else portal.language_code()):
            WebUser.reset_password([user])
    return portal.render('reset_password.html',
        title=_('msg_portal_reset_password'),
        notice=_('msg_portal_reset_password_sent'))


def reset_link_user(portal, email, token):
    """The web user whose unexpired reset link carries email and token, or
    None (the link is not spent here: web_user's set_password_token does)"""
    WebUser = portal.pool.get('web.user')
    if not email or not token or len(token) > forms.TEXT_SIZE:
        return None
    users = WebUser.search([('email', '=', email.lower())], limit=1)
    if not users:
        return None
    user, = users
    if not (user.reset_password_token
            and hmac.compare_digest(
                user.reset_password_token.encode(), token.encode())
            and user.reset_password_token_expire
            and user.reset_password_token_expire > datetime.datetime.now()):
        return None
    return user


@route('/set-password')
def set_password_form(portal):
    args = portal.request.args
    email = args.get('email', '')[:forms.TEXT_SIZE]
    token = args.get('token', '')[:forms.TEXT_SIZE]
    user = reset_link_user(portal, email, token)
    if user and user.party:
        # the page in the language of the e-mail that carried the link
        portal.speak_to(user.party)
    return portal.render('set_password.html',
        title=_('msg_portal_set_password'), email=email, token=token)


@route('/set-password', methods=['POST'])
def set_password(portal):
    pool = portal.pool
    WebUser = pool.get('web.user')
    User = pool.get('res.user')
    email = forms.text(portal, 'email', 'msg_portal_email')
    # the link first: whether an address has an account is never told
    # without one of its links (not even by the password rules below)
    token = portal.request.form.get('token') or ''
    password = forms.text(portal, 'password', 'msg_portal_password',
        strip=False)
    user = reset_link_user(portal, email, token)
    if not user:
        # web_user's own answer to a wrong link: its delay against guessing
        WebUser.set_password_token(email, token[:forms.TEXT_SIZE], password)
        raise NotFound()
    if user.party:
        portal.speak_to(user.party)
    # the password's rules ([password] length, forbidden, not the e-mail):
    # web_user checks them only for a signed-in back office user, and the
    # portal runs as root; refused (400) before the link is spent
    User.validate_password(password, [user])
    if not WebUser.set_password_token(email, user.reset_password_token,
            password):
        raise NotFound()
    return sign_in_page(portal, notice=_('msg_portal_password_set'))
