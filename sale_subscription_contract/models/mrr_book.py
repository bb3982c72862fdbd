# The MRR book: the MRR event log summed per customer and day, and per
# contract and day, and classified as the MRR movements count it (new,
# expansion, contraction, churn, reactivation), stored.  The unfiltered
# reports read it instead of classifying the whole log on each read (a sort
# and two window passes over every event, twice per read as the client
# searches then reads); the filtered reports, whose book is a part of the
# log, still classify theirs on the fly with the same query, which also
# writes these rows.
#
# The rows of a customer (and of their contracts) are computed again from
# all their events each time one of their events is created, written or
# deleted, so a change dated before later ones (a backdated close, a
# reopening) reclassifies what follows it.
from sql import Literal
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .mrr_movement import BOOK_COLUMNS, KINDS


class MRRBook(ModelSQL, ModelView):
    "A customer's or contract's MRR change of a day, classified"
    __name__ = 'sale.subscription.mrr_book'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Customer", required=True, readonly=True)
    subscription = fields.Many2One(
        'sale.subscription', "Contract", readonly=True,
        help="The contract of a contract's row; empty on the customer's "
        "rows (all their contracts).")
    date = fields.Date("Date", required=True, readonly=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    mrr_change = Monetary(
        "MRR Change", currency='currency', digits='currency', required=True,
        readonly=True,
        help="The sum of the MRR changes of the day.")
    mrr_before = Monetary(
        "MRR Before", currency='currency', digits='currency', required=True,
        readonly=True)
    mrr_after = Monetary(
        "MRR After", currency='currency', digits='currency', required=True,
        readonly=True)
    new = Monetary("New", currency='currency', digits='currency',
        required=True, readonly=True)
    expansion = Monetary("Expansion", currency='currency', digits='currency',
        required=True, readonly=True)
    contraction = Monetary(
        "Contraction", currency='currency', digits='currency',
        required=True, readonly=True)
    churn = Monetary("Churn", currency='currency', digits='currency',
        required=True, readonly=True)
    reactivation = Monetary(
        "Reactivation", currency='currency', digits='currency',
        required=True, readonly=True)
    first_mrr_date = fields.Date(
        "First MRR Date", readonly=True,
        help="The first day with MRR (a customer's cohort's).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.company, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.company, Index.Equality()),
                    (t.party, Index.Range()), (t.date, Index.Range())),
                })
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Event = pool.get('sale.subscription.mrr_event')
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        event = Event.__table__()
        super().__register__(module)
        # a database updated to a version with the book: fill it once
        cursor.execute(*table.select(table.id, limit=1))
        if cursor.fetchone():
            return
        cursor.execute(*event.select(event.company, where=Literal(True),
                group_by=[event.company]))
        for company_id, in cursor.fetchall():
            cls.refresh(company_id)

    def get_currency(self, name):
        return self.company.currency.id

    @classmethod
    def book(cls, company_id, per='party'):
        """The stored rows of the company per customer (or per contract with
        per='subscription', its id named party) as the columns of
        MRRMovement._classified(first=True)"""
        table = cls.__table__()
        names = {'delta': 'mrr_change', 'before': 'mrr_before',
            'after': 'mrr_after', 'first': 'first_mrr_date', 'party': per}
        if per == 'party':
            where = table.subscription == None  # noqa: E711
        else:
            where = table.subscription != None  # noqa: E711
        return table.select(
            *[getattr(table, names.get(c, c)).as_(c) for c in BOOK_COLUMNS],
            where=where & (table.company == company_id))

    @classmethod
    def refresh(cls, company_id, party_ids=None):
        """Compute again the rows of the customers party_ids (all of the
        company's when None) and of their contracts from the MRR event
        log"""
        for parties in ([None] if party_ids is None
                else grouped_slice(sorted(set(party_ids)),
                    backend.MAX_QUERY_PARAMS)):
            cls._refresh(company_id, list(parties) if parties else None)

    @classmethod
    def _refresh(cls, company_id, party_ids):
        pool = Pool()
        Movement = pool.get('sale.subscription.reporting.mrr_movement')
        Party = pool.get('party.party')
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        where = table.company == company_id
        if party_ids is not None:
            where &= fields.SQL_OPERATORS['in'](table.party, party_ids)
            # Two transactions changing contracts of one customer at once
            # each see only their own events: updating the customer's row
            # makes the second fail as concurrent and be restarted (with
            # the first's events) instead of storing a book without them
            party = Party.__table__()
            cursor.execute(*party.update([party.id], [party.id],
                    where=fields.SQL_OPERATORS['in'](party.id, party_ids)))
        cursor.execute(*table.delete(where=where))
        columns = ['mrr_change', 'mrr_before', 'mrr_after', *KINDS,
            'first_mrr_date']
        customers = Movement._classified(Movement._customer_days(
                company_id, {}, parties=party_ids), first=True)
        # per contract, with its customer as the owner of its rows
        contracts = Movement._classified(Movement._customer_days(
                company_id, {}, per='subscription', by='party',
                parties=party_ids), by=True, first=True)
        for classified, customer, contract in [
                (customers, customers.party, Literal(None)),
                (contracts, contracts.owner, contracts.party),
                ]:
            cursor.execute(*table.insert(
                    [table.company, table.party, table.subscription,
                        table.date]
                    + [getattr(table, c) for c in columns]
                    + [table.create_uid, table.create_date],
                    classified.select(
                        Literal(company_id), customer, contract,
                        classified.date, classified.delta, classified.before,
                        classified.after,
                        *[getattr(classified, k) for k in KINDS],
                        classified.first,
                        Literal(Transaction().user), CurrentTimestamp())))

    @classmethod
    def refresh_keys(cls, keys):
        "Compute again the rows of the (company, customer) of keys"
        parties = {}
        for company, party in keys:
            parties.setdefault(int(company), set()).add(int(party))
        for company_id, party_ids in parties.items():
            cls.refresh(company_id, party_ids)
