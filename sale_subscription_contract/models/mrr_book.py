# The MRR book: the MRR event log summed per customer and day (and per
# contract, per sales team and customer, per salesperson and customer) and
# classified as the MRR movements count it (new, expansion, contraction,
# churn, reactivation), stored.  The unfiltered
# reports read it instead of classifying the whole log on each read (a sort
# and two window passes over every event, twice per read as the client
# searches then reads); the filtered reports, whose book is a part of the
# log, still classify theirs on the fly with the same query, which also
# writes these rows.
#
# The rows of a customer (all their rows) are computed again from
# all their events each time one of their events is created, written or
# deleted, so a change dated before later ones (a backdated close, a
# reopening) reclassifies what follows it.
from sql import Literal, Null
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .mrr_movement import BOOK_COLUMNS, KINDS

PER = [
    ('party', "Customer"),
    ('subscription', "Contract"),
    ('sales_team', "Customer per Sales Team"),
    ('salesperson', "Customer per Salesperson"),
    ]


class MRRBook(ModelSQL, ModelView):
    "A customer's or contract's MRR change of a day, classified"
    __name__ = 'sale.subscription.mrr_book'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    per = fields.Selection(PER, "Per", required=True, readonly=True,
        help="Whose MRR the row follows: the customer's (all their "
        "contracts), a contract's, or the customer's with one sales team "
        "(salesperson), each classified on its own as the reports count "
        "it.")
    party = fields.Many2One(
        'party.party', "Customer", required=True, readonly=True)
    subscription = fields.Many2One(
        'sale.subscription', "Contract", readonly=True,
        help="The contract of a contract's row.")
    sales_team = fields.Many2One(
        'sale.team', "Sales Team", readonly=True,
        help="The sales team of a row per sales team (empty: no team).")
    salesperson = fields.Many2One(
        'company.employee', "Salesperson", readonly=True,
        help="The salesperson of a row per salesperson (empty: none).")
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
    contracts_change = fields.Integer(
        "Running Contracts Change", readonly=True,
        help="On a customer's row: their contracts that got MRR that day "
        "minus those that lost it.")
    churned_mrr_since = fields.Date(
        "Churned MRR Since", readonly=True,
        help="For a churn: the day the MRR it ends began. The customer "
        "counts as churned in the periods starting after that day.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.company, Index.Equality()),
                    (t.per, Index.Equality()), (t.date, Index.Range())),
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
        # a database updated to a version with the book (or with its
        # churned_mrr_since and contracts_change columns): fill it once
        cursor.execute(*table.select(table.id,
                where=((table.churn != 0)
                    & (table.churned_mrr_since == Null))
                | ((table.per == 'party') & (table.contracts_change == Null)),
                limit=1))
        stale = cursor.fetchone()
        cursor.execute(*table.select(table.id, limit=1))
        if cursor.fetchone() and not stale:
            return
        cursor.execute(*event.select(event.company, where=Literal(True),
                group_by=[event.company]))
        for company_id, in cursor.fetchall():
            cls.refresh(company_id)

    def get_currency(self, name):
        return self.company.currency.id

    @classmethod
    def book(cls, company_id, per='party', by=None):
        """The stored rows of the company per customer (or per contract with
        per='subscription', its id named party; per owner and customer with
        by, the owner named owner) as the columns of
        MRRMovement._classified(first=True), and per customer the
        contracts of MRRMovement._with_contracts"""
        table = cls.__table__()
        names = {'delta': 'mrr_change', 'before': 'mrr_before',
            'after': 'mrr_after', 'first': 'first_mrr_date',
            'since': 'churned_mrr_since', 'party': per}
        columns = [getattr(table, names.get(c, c)).as_(c)
            for c in BOOK_COLUMNS]
        if per == 'party' and not by:
            columns.append(table.contracts_change.as_('contracts'))
        if by:
            columns.append(getattr(table, by).as_('owner'))
        return table.select(*columns,
            where=(table.per == (by or per)) & (table.company == company_id))

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
            'first_mrr_date', 'churned_mrr_since']
        def classified(per='party', by=None):
            return Movement._classified(Movement._customer_days(
                    company_id, {}, per=per, by=by, parties=party_ids),
                by=bool(by), first=True)
        # per contract, with its customer as the owner of its rows
        contracts = classified(per='subscription', by='party')
        customers = Movement._with_contracts(classified(), contracts)
        teams = classified(by='sales_team')
        salespeople = classified(by='salesperson')
        null = Literal(None)
        for per, rows, customer, contract, team, salesperson, change in [
                ('party', customers, customers.party, null, null, null,
                    customers.contracts),
                ('subscription', contracts, contracts.owner, contracts.party,
                    null, null, null),
                ('sales_team', teams, teams.party, null, teams.owner, null,
                    null),
                ('salesperson', salespeople, salespeople.party, null, null,
                    salespeople.owner, null),
                ]:
            cursor.execute(*table.insert(
                    [table.company, table.per, table.party,
                        table.subscription, table.sales_team,
                        table.salesperson, table.contracts_change,
                        table.date]
                    + [getattr(table, c) for c in columns]
                    + [table.create_uid, table.create_date],
                    rows.select(
                        Literal(company_id), Literal(per), customer,
                        contract, team, salesperson, change,
                        rows.date, rows.delta, rows.before, rows.after,
                        *[getattr(rows, k) for k in KINDS],
                        rows.first, rows.since,
                        Literal(Transaction().user), CurrentTimestamp())))

    @classmethod
    def refresh_keys(cls, keys):
        "Compute again the rows of the (company, customer) of keys"
        parties = {}
        for company, party in keys:
            parties.setdefault(int(company), set()).add(int(party))
        for company_id, party_ids in parties.items():
            cls.refresh(company_id, party_ids)
