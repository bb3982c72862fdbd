# Secure links for customers: a long random token in the URL, only its
# SHA-256 in the database, so a leaked database holds no usable link.
# A link opens one document: a contract (pay, payment method) or a
# quotation (a sale, purpose "quotation", valid as long as the quotation).
import datetime
import hashlib
import secrets

from sql import Column, Literal, Null
from sql.functions import CurrentTimestamp

import trytond.config as config
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Check, Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from ..exceptions import AccessTokenError

# links in a payment e-mail stay valid this many days unless configured
# with [subscription] access_token_days
DEFAULT_VALIDITY_DAYS = 14
# an expired link opens nothing; its record stays on the contract's Secure
# Links this long (what was sent, whether it was used), then the daily cron
# deletes it: without it every sent or clicked link would be kept for ever
EXPIRED_KEPT = datetime.timedelta(days=30)
# PostgreSQL's SQLSTATE for a row changed by a transaction committed since
# this one's snapshot
SERIALIZATION_FAILURE = '40001'


def claim_once(Model, record_id, columns, values, where):
    """Write columns of record_id in one conditional UPDATE (where): True
    when this transaction changed it, False when a concurrent one did first
    (the condition no longer holds, or PostgreSQL's serialization failure).
    The records read before forget the record's old values."""
    transaction = Transaction()
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    try:
        cursor.execute(*table.update(
                [Column(table, c) for c in columns] + [
                    table.write_uid, table.write_date],
                list(values) + [transaction.user, CurrentTimestamp()],
                where=(table.id == record_id) & where(table)))
        claimed = cursor.rowcount == 1
    except backend.DatabaseOperationalError as error:
        if getattr(error, 'sqlstate', None) != SERIALIZATION_FAILURE:
            raise
        claimed = False
    if claimed:
        transaction.counter += 1
        for cache in transaction.cache.values():
            if Model.__name__ in cache:
                cache[Model.__name__].pop(record_id, None)
    return claimed


def token_hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class AccessToken(ModelSQL, ModelView):
    __name__ = 'sale.subscription.access_token'

    subscription = fields.Many2One(
        'sale.subscription', "Contract", readonly=True,
        ondelete='CASCADE',
        help="The contract the link gives access to.")
    sale = fields.Many2One(
        'sale.sale', "Quotation", readonly=True, ondelete='CASCADE',
        help="The quotation the link gives access to.")
    purpose = fields.Selection([
            ('pay', "Pay Invoice"),
            ('payment_method', "Update Payment Method"),
            ('quotation', "Quotation"),
            ], "Purpose", required=True, readonly=True,
        help="What the customer may do with the link.")
    token_hash = fields.Char(
        "Token Hash", required=True, readonly=True, strip=False,
        help="The SHA-256 of the token; the token itself is only in the "
        "link sent to the customer.")
    expires_at = fields.DateTime(
        "Expires At", required=True, readonly=True,
        help="The link no longer opens after this moment (UTC).")
    used = fields.Boolean(
        "Used", readonly=True,
        help="A link opens once: it is used when the customer acted on it.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_hash_unique', Unique(t, t.token_hash),
                'sale_subscription_contract.msg_access_token_unique'),
            # exactly one document: a contract or a quotation
            ('one_document', Check(t,
                    ((t.subscription == Null) & (t.sale != Null))
                    | ((t.subscription != Null) & (t.sale == Null))),
                'sale_subscription_contract.msg_access_token_one_document'),
            ]
        cls._sql_indexes.add(Index(t, (t.token_hash, Index.Equality())))
        cls._order = [('expires_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_used(cls):
        return False

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        # the SQL check is not enforced on SQLite
        for record in records:
            if bool(record.subscription) == bool(record.sale):
                raise AccessTokenError(gettext(
                        'sale_subscription_contract'
                        '.msg_access_token_one_document'))

    @property
    def document(self):
        "The contract or the quotation the link opens"
        return self.subscription or self.sale

    @classmethod
    def _now(cls):
        # stored as Tryton stores date-times: in UTC, without a time zone
        return datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)

    @classmethod
    def validity(cls):
        return datetime.timedelta(days=config.getint(
                'subscription', 'access_token_days',
                default=DEFAULT_VALIDITY_DAYS))

    @classmethod
    def new(cls, contract, purpose, sale=None, expires_at=None):
        """Store a new token for contract (or sale) and return it in clear
        (only once)"""
        # refused before the INSERT (whose constraint would abort the
        # transaction on PostgreSQL)
        if (contract is None) == (sale is None):
            raise AccessTokenError(gettext(
                    'sale_subscription_contract'
                    '.msg_access_token_one_document'))
        # 32 random bytes: 256 bits
        token = secrets.token_urlsafe(32)
        record = cls(
            subscription=contract, sale=sale, purpose=purpose,
            token_hash=token_hash(token),
            expires_at=expires_at or cls._now() + cls.validity())
        record.save()
        return token, record

    @classmethod
    def lookup(cls, token, purpose):
        "The token record of token for purpose, valid or not, or None"
        records = cls.search([
                ('token_hash', '=', token_hash(token or '')),
                ('purpose', '=', purpose),
                ], limit=1)
        return records[0] if records else None

    @classmethod
    def find(cls, token, purpose):
        "Return the valid token record of token for purpose or raise"
        record = cls.lookup(token, purpose)
        if not record:
            raise AccessTokenError(gettext(
                    'sale_subscription_contract.msg_access_token_unknown'))
        if record.used:
            raise AccessTokenError(gettext(
                    'sale_subscription_contract.msg_access_token_used',
                    contract=record.document.rec_name))
        if record.expires_at < cls._now():
            raise AccessTokenError(gettext(
                    'sale_subscription_contract.msg_access_token_expired',
                    contract=record.document.rec_name,
                    date=record.expires_at.date()))
        return record

    @classmethod
    def check(cls, token, purpose):
        "Return the contract a valid token of purpose opens, or raise"
        return cls.find(token, purpose).subscription

    @classmethod
    def use(cls, token, purpose):
        """Check the token and spend it: a link opens once.

        Spent in one UPDATE that only a valid, unused token matches: of two
        uses at the same moment, the second waits for the first and is
        refused like any used link (on PostgreSQL its UPDATE fails with a
        serialization error once the first committed, told here as that)."""
        record = cls.find(token, purpose)
        # the message is read before the UPDATE: after a serialization
        # failure PostgreSQL answers no more queries in this transaction
        refused = AccessTokenError(gettext(
                'sale_subscription_contract.msg_access_token_used',
                contract=record.document.rec_name))
        if not claim_once(cls, record.id, ['used'], [True],
                lambda table: (table.used == Null)
                | (table.used == Literal(False))):
            raise refused
        return record.subscription


    @classmethod
    def delete_expired(cls):
        "Cron: delete the links expired for more than EXPIRED_KEPT"
        # also from the cron's Run Once button: administrators may only
        # read the links
        with without_check_access():
            cls.delete(cls.search([
                        ('expires_at', '<', cls._now() - EXPIRED_KEPT),
                        ]))


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    access_tokens = fields.One2Many(
        'sale.subscription.access_token', 'subscription', "Secure Links",
        readonly=True,
        help="The links sent to the customer (only their hashes).")

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('access_tokens', None)
        return super().copy(contracts, default=default)

    def create_access_link(self, purpose):
        "Return a new secure link to the portal page of purpose"
        return self.access_link(purpose)[0]

    def access_link(self, purpose):
        "Return a new secure link to the portal and its token record"
        AccessToken = Pool().get('sale.subscription.access_token')
        token, record = AccessToken.new(self, purpose)
        return '%s/%s/%s' % (self.portal_url(), purpose, token), record
