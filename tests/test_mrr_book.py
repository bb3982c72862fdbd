"""The MRR book (sale.subscription.mrr_book): the MRR event log summed per
customer (and per contract) and day and classified, stored for the
unfiltered reports. It must always equal the classification the filtered reports
compute on the fly, also after an event dated before others is added or
an event is removed."""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from test_mrr_movements import build_book, contract_for, money

D = datetime.date


def stored(env, party):
    "(date, before, after, new, exp, contr, churn, react, first) of party"
    Book = env.get('sale.subscription.mrr_book')
    return [(r.date, *money(r.mrr_before, r.mrr_after, r.new, r.expansion,
                r.contraction, r.churn, r.reactivation), r.first_mrr_date)
        for r in Book.search([
                ('party', '=', party.id), ('per', '=', 'party')],
            order=[('date', 'ASC')])]


def stored_book(env, per, by=None):
    "The whole stored book as rows of the columns the reports read"
    Book = env.get('sale.subscription.mrr_book')
    cursor = Transaction().connection.cursor()
    book = Book.book(env.company.id, per=per, by=by)
    cursor.execute(*book.select(*COLUMNS(book, by)))
    return sorted(normalised(cursor.fetchall()), key=str)


def live_book(env, per, by=None):
    "The book classified on the fly from the event log"
    Movement = env.get('sale.subscription.reporting.mrr_movement')
    cursor = Transaction().connection.cursor()
    live = Movement._classified(Movement._customer_days(
            env.company.id, {}, per=per, by=by), by=bool(by), first=True)
    cursor.execute(*live.select(*COLUMNS(live, by)))
    return sorted(normalised(cursor.fetchall()), key=str)


def same_books(env):
    """Whether the stored books (of customers, of contracts, of customers
    per sales team and per salesperson) are the live ones"""
    for per, by in [('party', None), ('subscription', None),
            ('party', 'sales_team'), ('party', 'salesperson')]:
        stored_rows = stored_book(env, per, by)
        assert stored_rows and stored_rows == live_book(env, per, by), (
            per, by)
    return True


def COLUMNS(query, by=None):
    return [query.party, query.date, query.delta, query.before, query.after,
        query.new, query.expansion, query.contraction, query.churn,
        query.reactivation, query.first] + ([query.owner] if by else [])


def normalised(rows):
    "Amounts as Decimals with cents, dates as dates (SQLite gives text)"
    def value(v):
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            return Decimal(str(v)).quantize(Decimal('0.01'))
        if isinstance(v, str):
            return datetime.date.fromisoformat(v)
        return v
    return [(r[0], *map(value, r[1:])) for r in rows]


def bob(env):
    Party = env.get('party.party')
    party, = Party.search([('name', '=', "Bob KG")])
    return party


def test_the_stored_book_is_the_log_classified(env):
    build_book(env)
    #    date          before after  new   exp  contr churn react
    assert stored(env, bob(env)) == [
        (D(2026, 1, 15), *money(0, 200, 200, 0, 0, 0, 0), D(2026, 1, 15)),
        (D(2026, 3, 1), *money(200, 150, 0, 0, 50, 0, 0), D(2026, 1, 15)),
        (D(2026, 4, 1), *money(150, 0, 0, 0, 0, 150, 0), D(2026, 1, 15)),
        (D(2026, 5, 1), *money(0, 80, 0, 0, 0, 0, 80), D(2026, 1, 15)),
        ]
    assert same_books(env)


def test_an_earlier_event_and_a_removed_one_reclassify_what_follows(env):
    Event = env.get('sale.subscription.mrr_event')
    plan = build_book(env)
    seat, = env.get('product.product').search([
            ("name", "=", "Cloud-Arbeitsplatz")])
    party = bob(env)
    first, = Event.search([('party', '=', party.id),
            ('date', '=', D(2026, 1, 15))])
    # a change dated before later ones: Bob's second contract of 40 from
    # 1 February, confirmed after the log went on to May
    contract_for(env, party, plan, seat, 1, '40.00', D(2026, 2, 1))
    assert stored(env, party) == [
        (D(2026, 1, 15), *money(0, 200, 200, 0, 0, 0, 0), D(2026, 1, 15)),
        (D(2026, 2, 1), *money(200, 240, 0, 40, 0, 0, 0), D(2026, 1, 15)),
        (D(2026, 3, 1), *money(240, 190, 0, 0, 50, 0, 0), D(2026, 1, 15)),
        (D(2026, 4, 1), *money(190, 40, 0, 0, 150, 0, 0), D(2026, 1, 15)),
        (D(2026, 5, 1), *money(40, 120, 0, 80, 0, 0, 0), D(2026, 1, 15)),
        ]
    assert same_books(env)

    # the first event removed: Bob's first MRR is now 1 February's 40
    # its stored values (the fields without a getter, but the bookkeeping)
    values = Event.read([first.id], [n for n, f in Event._fields.items()
            if not hasattr(f, 'getter') and n != 'id'
            and not n.startswith(('create_', 'write_'))])[0]
    Event.delete([first])
    assert stored(env, party) == [
        (D(2026, 2, 1), *money(0, 40, 40, 0, 0, 0, 0), D(2026, 2, 1)),
        (D(2026, 3, 1), *money(40, -10, 0, 0, 0, 40, 0), D(2026, 2, 1)),
        (D(2026, 4, 1), *money(-10, -160, 0, 0, 0, 0, 0), D(2026, 2, 1)),
        (D(2026, 5, 1), *money(-160, -80, 0, 0, 0, 0, 0), D(2026, 2, 1)),
        ]
    assert same_books(env)
    # and back (the log again the contracts' MRR)
    Event.create([{k: v for k, v in values.items() if k != 'id'}])
    assert stored(env, party)[0] == (
        D(2026, 1, 15), *money(0, 200, 200, 0, 0, 0, 0), D(2026, 1, 15))


def test_an_event_moved_to_another_customer_leaves_both_books_right(env):
    "A corrected event (written, not replaced) reclassifies both customers"
    Event = env.get('sale.subscription.mrr_event')
    Party = env.get('party.party')
    build_book(env)
    bob_, = Party.search([('name', '=', "Bob KG")])
    alice, = Party.search([('name', '=', "Alice AG")])
    may, = Event.search([('party', '=', bob_.id),
            ('date', '=', D(2026, 5, 1))])
    Event.write([may], {'party': alice.id})
    # Bob no longer comes back in May; Alice gets 80 more that day
    assert [r[0] for r in stored(env, bob_)] == [
        D(2026, 1, 15), D(2026, 3, 1), D(2026, 4, 1)]
    alice_may = [r for r in stored(env, alice) if r[0] == D(2026, 5, 1)]
    assert alice_may == [
        (D(2026, 5, 1), *money(100, 180, 0, 80, 0, 0, 0), D(2026, 1, 1))]
    assert same_books(env)
    Event.write([may], {'party': bob_.id})
    assert stored(env, bob_)[-1] == (
        D(2026, 5, 1), *money(0, 80, 0, 0, 0, 0, 80), D(2026, 1, 15))
    assert not [r for r in stored(env, alice) if r[0] == D(2026, 5, 1)]
    assert same_books(env)


def test_the_unfiltered_and_filtered_reports_agree(env):
    "A filter every contract passes gives the stored book's figures"
    Movement = env.get('sale.subscription.reporting.mrr_movement')
    KPI = env.get('sale.subscription.reporting.kpi')
    Cohort = env.get('sale.subscription.reporting.cohort')
    Team = env.get('sale.subscription.reporting.sales_team')
    Salesperson = env.get('sale.subscription.reporting.salesperson')
    plan = build_book(env)

    def read(Model, **filters):
        with Transaction().set_context(company=env.company.id,
                from_date=D(2026, 1, 1), to_date=D(2026, 6, 30),
                period='month', **filters):
            names = [f for f in Model._fields if f not in {
                    'create_uid', 'create_date', 'write_uid', 'write_date',
                    'last_modified_at'}]
            return Model.read([r.id for r in Model.search([])], names)
    for Model in [Movement, KPI, Cohort, Team, Salesperson]:
        unfiltered, filtered = read(Model), read(Model, plan=plan.id)
        for a, b in zip(unfiltered, filtered):
            assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
        assert len(unfiltered) == len(filtered)
