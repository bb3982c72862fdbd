# The MRR event log: one row per change of a contract's monthly recurring
# revenue. It is the single source of the subscription analytics.
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool

KINDS = [
    ('new', "New"),
    ('expansion', "Expansion"),
    ('contraction', "Contraction"),
    ('churn', "Churn"),
    ('reactivation', "Reactivation"),
    ]


class MRREvent(ModelSQL, ModelView):
    __name__ = 'sale.subscription.mrr_event'

    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The day from which the new MRR applies.")
    subscription = fields.Many2One(
        'sale.subscription', "Contract", required=True, readonly=True,
        ondelete='CASCADE')
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Customer", required=True, readonly=True)
    plan = fields.Many2One(
        'sale.subscription.plan', "Plan", readonly=True)
    salesperson = fields.Many2One(
        'company.employee', "Salesperson", readonly=True)
    sales_team = fields.Many2One('sale.team', "Sales Team", readonly=True)
    kind = fields.Selection(
        KINDS, "Kind", required=True, readonly=True, sort=False,
        help="How the change counts in the MRR movements.")
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True,
        help="The company currency all amounts are in.")
    mrr_before = Monetary(
        "MRR Before", currency='currency', digits='currency', required=True,
        readonly=True)
    mrr_after = Monetary(
        "MRR After", currency='currency', digits='currency', required=True,
        readonly=True)
    mrr_change = Monetary(
        "MRR Change", currency='currency', digits='currency', required=True,
        readonly=True, help="MRR after minus MRR before.")
    close_reason = fields.Many2One(
        'sale.subscription.close_reason', "Close Reason", readonly=True)
    description = fields.Char("Description", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.company, Index.Equality()), (t.date, Index.Range())))
        # the reports' customer-days (sum per customer and day, in order):
        # read from the index alone, already sorted
        cls._sql_indexes.add(Index(
                t, (t.company, Index.Equality()), (t.party, Index.Range()),
                (t.date, Index.Range()), include=[t.mrr_change]))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def create(cls, vlist):
        events = super().create(vlist)
        Pool().get('sale.subscription.mrr_book').refresh_keys(
            [(e.company, e.party) for e in events])
        return events

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        events = sum((list(records) for records, _ in zip(actions, actions)),
            [])
        # the customers before the write and after (a changed party)
        MRRBook = Pool().get('sale.subscription.mrr_book')
        before = [(e.company, e.party) for e in events]
        super().write(*args)
        MRRBook.refresh_keys(before + [(e.company, e.party)
                for e in cls.browse(events)])

    @classmethod
    def delete(cls, events):
        MRRBook = Pool().get('sale.subscription.mrr_book')
        keys = [(e.company, e.party) for e in events]
        super().delete(events)
        MRRBook.refresh_keys(keys)

    @classmethod
    def kind_for(cls, before, after):
        "The kind of a change between two non-zero-or-zero MRR values"
        if not before and after:
            return 'new'
        if before and not after:
            return 'churn'
        return 'expansion' if after > before else 'contraction'
