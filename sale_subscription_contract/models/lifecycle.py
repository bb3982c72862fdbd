# The daily lifecycle run: pauses begin and end, trials convert or close,
# fixed terms renew. It also runs first in end_finished, so the billing run
# (which calls end_finished before invoicing) never bills a contract whose
# pause, trial or term changed that day.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def process_lifecycle(cls, date=None):
        "Cron entry: everything a contract's calendar brings on date"
        pool = Pool()
        Date = pool.get('ir.date')
        if Transaction().context.get('company') is None:
            return
        if date is None:
            date = Date.today()
        cls.process_pauses(date)
        cls.end_trials(date)
        cls.renew_automatically(date)
        cls.quote_renewals(date)

    @classmethod
    def end_finished(cls, date):
        cls.process_lifecycle(date)
        return super().end_finished(date)
