# The subscription quotation: recurring and one-time lines with the totals a
# customer pays per period, once, and on the first invoice.
from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.transaction import Transaction


class SubscriptionQuotation(CompanyReport):
    __name__ = 'sale.sale.subscription_quotation'

    @classmethod
    def execute(cls, ids, data):
        with Transaction().set_context(address_with_party=True):
            return super().execute(ids, data)

    @classmethod
    def get_context(cls, records, header, data):
        Date = Pool().get('ir.date')
        context = super().get_context(records, header, data)
        context['today'] = Date.today()
        return context
