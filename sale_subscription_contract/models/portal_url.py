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
        prefix = (config.get('subscription', 'portal_prefix',
                default='portal') or 'portal').strip('/')
        # the server's name ([web] hostname), never the request's Host
        # header: a forged one would put its host, with a valid token, in
        # a link e-mailed to a customer (e.g. the sign-in link one asks for
        # someone else)
        with Transaction().set_context(_request=None):
            host = http_host()
        return '%s/%s/%s' % (host, Transaction().database.name, prefix)
