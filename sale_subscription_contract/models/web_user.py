# The customer portal's account: a web user (web_user) signs in with e-mail
# and password, or with a one-time link sent by e-mail. Like the secure
# links of access_token.py, only the SHA-256 of the link's token is stored,
# so a leaked database holds no usable link.
import datetime
import hashlib
import secrets
from email.message import EmailMessage

import trytond.config as config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.sendmail import send_message_transactional
from trytond.transaction import Transaction

# a sign-in link opens for this many minutes unless configured with
# [subscription] sign_in_link_minutes
DEFAULT_LINK_MINUTES = 30
# one link per user in this time: asking again sends nothing
LINK_INTERVAL = datetime.timedelta(minutes=1)


def _hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def _now():
    # stored as Tryton stores date-times: in UTC, without a time zone
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def party_language(party):
    """The language of party: set per company (a multi-value field), so
    read without one the party's first, whichever company set it"""
    if party is None:
        return None
    if party.lang:
        return party.lang
    PartyLang = Pool().get('party.party.lang')
    langs = PartyLang.search([
            ('party', '=', party.id),
            ('lang', '!=', None),
            ], order=[('id', 'ASC')], limit=1)
    return langs[0].lang if langs else None


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    sign_in_link_hash = fields.Char(
        "Sign-in Link Hash", readonly=True, strip=False,
        help="The SHA-256 of the last one-time sign-in link's token; "
        "the token itself is only in the e-mail.")
    sign_in_link_expires = fields.DateTime(
        "Sign-in Link Expires", readonly=True,
        help="The sign-in link no longer opens after this moment (UTC).")
    sign_in_link_sent = fields.DateTime(
        "Sign-in Link Sent", readonly=True,
        help="When the last sign-in link was sent (UTC); another is sent "
        "a minute later at the earliest.")

    @classmethod
    def copy(cls, users, default=None):
        default = default.copy() if default else {}
        for name in ['sign_in_link_hash', 'sign_in_link_expires',
                'sign_in_link_sent']:
            default.setdefault(name, None)
        return super().copy(users, default=default)

    @classmethod
    def find_by_email(cls, email):
        "The active web user of email (case-insensitive), or None"
        email = (email or '').strip().lower()
        if not email or len(email) > 320:
            return None
        users = cls.search([('email', '=', email)], limit=1)
        return users[0] if users else None

    @classmethod
    def send_sign_in_link(cls, email, base_url):
        """E-mail a one-time sign-in link to the web user of email.

        Says nothing of whether the address is known: an unknown one, or a
        link asked again within a minute, sends nothing and returns as
        well (the caller shows the same page in every case); raises
        RateLimitException when the network asked too often."""
        Attempt = Pool().get('web.user.authenticate.attempt')
        # the requests of a network count with its failed sign-ins
        # (web_user's limit): nobody floods addresses with e-mails
        if Attempt.count_ip() > config.getint(
                'session', 'max_attempt_ip_network', default=300):
            raise RateLimitException()
        Attempt.add('sign-in-link:' + (email or '').strip().lower()[:320])
        user = cls.find_by_email(email)
        now = _now()
        if (not user or not user.party
                or (user.sign_in_link_sent
                    and user.sign_in_link_sent + LINK_INTERVAL > now)):
            return
        token = secrets.token_urlsafe(32)  # 256 bits
        minutes = config.getint('subscription', 'sign_in_link_minutes',
            default=DEFAULT_LINK_MINUTES)
        user.sign_in_link_hash = _hash(token)
        user.sign_in_link_expires = now + datetime.timedelta(minutes=minutes)
        user.sign_in_link_sent = now
        user.save()
        user._send_portal_email('msg_portal_link_subject',
            'msg_portal_link_body',
            link='%s/link/%s' % (base_url, token), minutes=minutes)

    @classmethod
    def sign_in_link_user(cls, token):
        """The web user a valid sign-in link opens (without spending it), or
        None"""
        if not token or len(token) > 100:
            return None
        users = cls.search([
                ('sign_in_link_hash', '=', _hash(token)),
                ('sign_in_link_expires', '>=', _now()),
                ], limit=1)
        return users[0] if users else None

    @classmethod
    def sign_in_with_link(cls, token):
        """The web user a valid link's token opens, or None; the link is
        spent (a link opens once)"""
        if not token or len(token) > 100:
            return None
        users = cls.search([
                ('sign_in_link_hash', '=', _hash(token)),
                ], limit=1)
        if not users:
            return None
        user, = users
        cls.lock([user])
        user = cls(user.id)
        if (user.sign_in_link_hash != _hash(token)
                or not user.sign_in_link_expires
                or user.sign_in_link_expires < _now()):
            return None
        user.sign_in_link_hash = None
        user.sign_in_link_expires = None
        user.save()
        return user

    def get_email_reset_password_url(self, url=None):
        # web_user's reset e-mail links to [web] reset_password_url; without
        # it, to the portal's page that sets the password
        url = url or config.get('web', 'reset_password_url')
        if url is None:
            Contract = Pool().get('sale.subscription')
            url = Contract.portal_url() + '/set-password'
        return super().get_email_reset_password_url(url)

    def _send_portal_email(self, subject, body, **values):
        "E-mail the web user a portal text, in the party's language"
        Configuration = Pool().get('ir.configuration')
        lang = party_language(self.party)
        lang = lang.code if lang else Configuration.get_language()
        with Transaction().set_context(language=lang):
            message = EmailMessage()
            message['From'] = config.get('email', 'from')
            message['To'] = self.email
            message['Subject'] = gettext(
                'sale_subscription_contract.' + subject, **values)
            message.set_content(gettext(
                    'sale_subscription_contract.' + body, **values))
        send_message_transactional(message)
