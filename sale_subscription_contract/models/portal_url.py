# Where the customer portal answers: the links of the e-mails (sign-in,
# password, pay, payment method) open its pages.
import trytond.config as config
from trytond.pool import PoolMeta
from trytond.transaction import Transaction
from trytond.url import http_host


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def portal_url(cls):
        """The base URL of the customer portal: [subscription] portal_url,
        else this server's /<database>/<portal prefix> (portal/web.py)"""
        url = config.get('subscription', 'portal_url', default=None)
        if url:
            return url.rstrip('/')
        # not read from the request: a forged Host header must never put
        # its host in a link sent by e-mail
        prefix = (config.get('subscription', 'portal_prefix',
                default='portal') or 'portal').strip('/')
        return '%s/%s/%s' % (
            http_host(), Transaction().database.name, prefix)
