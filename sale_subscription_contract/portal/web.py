# The customer portal's web layer: every portal page is a function
# registered with `route`, served by trytond's own WSGI application under
# /<database>/<[subscription] portal_prefix, default "portal">/...
#
# A request, top to bottom (see `route`):
#   with_pool (the database) -> with_transaction (as the root user: the
#   portal checks itself that every record it shows or changes belongs to
#   the signed-in customer or to the link's token) -> Portal(request):
#   language, signed-in web user, CSRF token -> a POST without the right
#   CSRF token is refused (403); a POST takes SQLite's write lock first
#   (write_after_the_others) -> the page function -> its response gets
#   the security headers and the cookies. Records still locked by another
#   transaction after trytond's retries: the "busy" page (503).
# A page refuses what it must not show by raising NotFound (404, never a
# hint that the record exists); a UserError of the ERP (bad input, a state
# that does not allow the action) rolls the transaction back and shows its
# translated message with status 400: nothing is ever half written.
import hmac
import logging
import mimetypes
import secrets
from functools import wraps
from pathlib import Path

from genshi.template import TemplateLoader
from werkzeug.exceptions import Forbidden, HTTPException, NotFound
from werkzeug.utils import redirect as _redirect

import trytond.config as config
from trytond import backend
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    Response, allow_null_origin, with_pool, with_transaction)
from trytond.transaction import Transaction, TransactionError
from trytond.wsgi import app

from ..models.web_user import party_language

logger = logging.getLogger(__name__)

MODULE = 'sale_subscription_contract'
HERE = Path(__file__).resolve().parent
TEMPLATES = TemplateLoader(str(HERE / 'templates'), auto_reload=False)
STATIC = HERE / 'static'
LANGUAGES = ('de', 'en')
SESSION_COOKIE = 'portal_session'
CSRF_COOKIE = 'portal_csrf'
LANGUAGE_COOKIE = 'portal_language'
CSRF_FIELD = 'csrf_token'
# record ids are PostgreSQL integers: a larger id in a URL is no record
MAX_ID = 2 ** 31 - 1
# no inline script or style anywhere: the pages load /static files only
SECURITY_HEADERS = {
    'Content-Security-Policy': (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"),
    # a link's token never leaves in a Referer header (the form POSTs then
    # come with "Origin: null": allowed by route, the CSRF token checks them)
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    # the pages show a customer's own data: never kept by a shared cache
    'Cache-Control': 'no-store',
    }


def prefix():
    "The portal's URL segment after the database name"
    return (config.get('subscription', 'portal_prefix', default='portal')
        or 'portal').strip('/')


def _(message_id, **variables):
    "The portal text message_id (an ir.message) in the page's language"
    return gettext('%s.%s' % (MODULE, message_id), **variables)


class Portal:
    "What a page knows of its request: language, web user, CSRF token"

    def __init__(self, request, pool, database_name):
        self.request = request
        self.pool = pool
        self.database_name = database_name
        self.base = '/%s/%s' % (database_name, prefix())
        self.cookies = {}  # name -> value (None deletes)
        self.csrf_token = request.cookies.get(CSRF_COOKIE)
        if not self.csrf_token or len(self.csrf_token) != 43:
            self.csrf_token = secrets.token_urlsafe(32)
            self.cookies[CSRF_COOKIE] = self.csrf_token
        self.session_key = request.cookies.get(SESSION_COOKIE)
        self._web_user = None
        self._party_language_codes = {}
        self.language = self._chosen_language()
        # the party whose language the page follows when none was chosen
        self.customer = None

    # -- identity ----------------------------------------------------------
    @property
    def web_user(self):
        "The signed-in web user (web_user's session), or None"
        if self._web_user is None and self.session_key:
            WebUser = self.pool.get('web.user')
            self._web_user = WebUser.get_user(self.session_key) or False
        return self._web_user or None

    @property
    def parties(self):
        "The parties whose documents the signed-in web user may see"
        user = self.web_user
        if not user or not user.party:
            return []
        return [user.party] + list(user.secondary_parties)

    def sign_in(self, web_user):
        "Start a new session for web_user: a new session id, a new CSRF token"
        Session = self.pool.get('web.user.session')
        if self.session_key:
            Session.remove(self.session_key)
        self.session_key = web_user.new_session()
        self._web_user = web_user
        self.cookies[SESSION_COOKIE] = self.session_key
        self.csrf_token = secrets.token_urlsafe(32)
        self.cookies[CSRF_COOKIE] = self.csrf_token

    def sign_out(self):
        Session = self.pool.get('web.user.session')
        if self.session_key:
            Session.remove(self.session_key)
        self.session_key = None
        self._web_user = False
        self.cookies[SESSION_COOKIE] = None

    # -- language ----------------------------------------------------------
    def _chosen_language(self):
        asked = self.request.args.get('lang')
        if asked in LANGUAGES:
            self.cookies[LANGUAGE_COOKIE] = asked
            return asked
        chosen = self.request.cookies.get(LANGUAGE_COOKIE)
        return chosen if chosen in LANGUAGES else None

    def language_code(self):
        "The chosen language, else the customer's, else the company's"
        if self.language:
            return self.language
        party = self.customer or (self.web_user.party
            if self.web_user and self.web_user.party else None)
        # asked for again by the page's rendering: looked up once per party
        key = party.id if party else None
        if key not in self._party_language_codes:
            self._party_language_codes[key] = self._party_language_code(
                party)
        return self._party_language_codes[key]

    def _party_language_code(self, party):
        lang = party_language(party)
        if lang and lang.code[:2] in LANGUAGES:
            return lang.code[:2]
        Configuration = self.pool.get('ir.configuration')
        code = (Configuration.get_language() or 'en')[:2]
        return code if code in LANGUAGES else 'en'

    def speak_to(self, party):
        "Follow party's language (unless one was chosen) from now on"
        self.customer = party
        Transaction().set_context(language=self.language_code())

    # -- requests ----------------------------------------------------------
    def check_csrf(self):
        "Refuse (403) a POST whose form does not carry the CSRF cookie's token"
        sent = self.request.form.get(CSRF_FIELD, '')
        cookie = self.request.cookies.get(CSRF_COOKIE, '')
        if not (cookie and sent
                and hmac.compare_digest(sent.encode(), cookie.encode())):
            raise Forbidden()

    def url(self, path='', **args):
        "The URL of a portal page, path starting with '/'"
        url = self.base + path
        if args:
            from urllib.parse import urlencode
            url += '?' + urlencode(args)
        return url

    # -- responses ---------------------------------------------------------
    def render(self, template, status=200, **values):
        "The HTML response of template, rendered in the page's language"
        code = self.language_code()
        with Transaction().set_context(language=code):
            Lang = self.pool.get('ir.lang')
            lang = Lang.get(code)
            values.setdefault('title', '')
            values.update({
                    '_': _,
                    'portal': self,
                    'lang': lang,
                    'language': code,
                    'csrf_field': CSRF_FIELD,
                    'csrf_token': self.csrf_token,
                    'money': lambda amount, currency: lang.currency(
                        amount, currency, symbol=True, grouping=True),
                    'date': lambda value: lang.strftime(value)
                    if value else '',
                    })
            stream = TEMPLATES.load(template).generate(**values)
            html = stream.render('html', doctype='html5', encoding='utf-8')
        return Response(html, status=status,
            content_type='text/html; charset=utf-8')

    def redirect(self, path, **args):
        "Redirect to a portal page after a POST (303: the browser GETs it)"
        return _redirect(self.url(path, **args), code=303)

    def finish(self, response):
        "Add the security headers and the cookies to response"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        secure = self.request.scheme == 'https'
        for name, value in self.cookies.items():
            if value is None:
                response.delete_cookie(name, path=self.base + '/',
                    secure=secure, httponly=True, samesite='Lax')
            else:
                response.set_cookie(name, value, path=self.base + '/',
                    secure=secure, httponly=True, samesite='Lax',
                    max_age=(None if name != LANGUAGE_COOKIE
                        else 365 * 24 * 3600))
        return response


def error_page(portal, status, message_id=None, message=None):
    """The page telling status and message (or message_id's text) in the
    page's language: the customer's once the page found out whose link it
    is, although it refused it"""
    with Transaction().set_context(language=portal.language_code()):
        return portal.render('error.html', status=status,
            title=_('msg_portal_error_title'), status_code=status,
            message=_(message_id) if message_id else message)


def write_after_the_others():
    """Make a POST's transaction read only what the POSTs before it wrote.

    Two POSTs at once (a double click, two tabs) must act one after the
    other: the second priced from the first's change, refused where the
    first already paid. PostgreSQL's transactions see to it (the second's
    write to the same rows fails and trytond runs the request again).
    SQLite's take the database's write lock only at their first write,
    after reading: taken here first, with a write that changes nothing, the
    second POST waits for the first to commit before it reads."""
    if backend.name == 'sqlite':
        cursor = Transaction().connection.cursor()
        cursor.execute('UPDATE "ir_configuration" SET "id" = "id" '
            'WHERE "id" < 0')


def route(path, methods=('GET',), readonly=None):
    """Register page(portal, **url values) at /<database>/<prefix><path>.

    GET runs in a read-only transaction; POST in a read-write one whose
    form must carry the CSRF token."""
    def decorator(page):
        @with_pool
        @wraps(page)
        def endpoint(request, pool, **values):
            try:
                return in_transaction(request, pool, **values)
            except (backend.DatabaseOperationalError, TransactionError):
                # still locked after trytond ran it again (e.g. another
                # invoice holding the gapless sequence): nothing was kept
                logger.warning("portal page %s busy", page.__name__)
                return busy_page(request, pool)

        @with_transaction(readonly=readonly)
        def in_transaction(request, pool, **values):
            try:
                pool.get('sale.subscription.access_token')
                pool.get('web.user')
            except KeyError:
                # the module is not activated in this database
                return NotFound()
            portal = Portal(request, pool, pool.database_name)
            try:
                # the ERP's messages and records (names, reasons) in the
                # page's language; a token page sets it again for its
                # customer (Portal.speak_to)
                Transaction().set_context(language=portal.language_code())
                if request.method == 'POST':
                    portal.check_csrf()
                    write_after_the_others()
                if any(isinstance(v, int) and not 0 < v <= MAX_ID
                        for v in values.values()):
                    raise NotFound()  # no record has such an id
                response = page(portal, **values)
            except NotFound:
                Transaction().rollback()
                response = error_page(portal, 404, 'msg_portal_not_found')
            except Forbidden:
                Transaction().rollback()
                response = error_page(portal, 403, 'msg_portal_forbidden')
            except (UserError, UserWarning) as exception:
                # nothing of the refused action is kept
                Transaction().rollback()
                response = error_page(portal, 400, message=exception.message)
            except HTTPException as exception:
                Transaction().rollback()
                response = error_page(portal, exception.code or 400,
                    'msg_portal_bad_request')
            except (backend.DatabaseOperationalError, TransactionError):
                raise  # with_transaction runs the request again
            except Exception:
                logger.exception("portal page %s failed", page.__name__)
                Transaction().rollback()
                response = error_page(portal, 500, 'msg_portal_failed')
            return portal.finish(response)

        endpoint.__name__ = 'portal_' + page.__name__
        # under Referrer-Policy no-referrer a browser sends its form POSTs
        # with "Origin: null", which trytond refuses (403, before the page)
        # unless the endpoint allows it: the CSRF token guards the POSTs
        allow_null_origin(endpoint)
        app.route('/<database_name>/%s%s' % (prefix(), path),
            methods=list(methods))(endpoint)
        return page
    return decorator


@with_transaction(readonly=True)
def busy_page(request, pool):
    "The answer to a request that found the records it needs locked"
    portal = Portal(request, pool, pool.database_name)
    response = error_page(portal, 503, 'msg_portal_busy')
    response.headers['Retry-After'] = '5'
    return portal.finish(response)


@app.route('/<database_name>/%s/static/<path:name>' % prefix(),
    methods=['GET'])
def static(request, database_name, name):
    "The portal's CSS and scripts (no database needed)"
    try:
        path = (STATIC / name).resolve()
        found = STATIC in path.parents and path.is_file()
    except (ValueError, OSError):  # e.g. a NUL byte in the name
        found = False
    if not found:
        return NotFound()
    content_type = mimetypes.guess_type(path.name)[0] or 'text/plain'
    response = Response(path.read_bytes(), content_type=content_type)
    response.headers['Cache-Control'] = 'public, max-age=3600'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
