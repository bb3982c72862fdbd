"""MRR per sales team and per salesperson (Subscriptions › Reporting), the
drill-down of the reports to the MRR events behind a row, and a contract's
MRR history: a small book with three salespeople in two teams, built by the
module's own operations, its figures written out by hand."""
import datetime
from decimal import Decimal

from trytond.pyson import PYSONDecoder
from trytond.transaction import Transaction

from helpers import confirm, customer, make_catalogue, make_sale, monthly_plan
from test_mrr_movements import close, money, movements

D = datetime.date
KINDS = ['new', 'expansion', 'reactivation', 'contraction', 'churn',
    'net_new']


def employee(env, name):
    Employee = env.get('company.employee')
    Party = env.get('party.party')
    party = Party(name=name)
    party.save()
    person = Employee(party=party, company=env.company)
    person.save()
    return person


def sold_by(env, person, party, plan, product, quantity, price, date):
    "The contract party gets from a quotation of person's on date"
    Contract = env.get('sale.subscription')
    with env.on(date):
        sale = make_sale(env, party, plan, [(product, quantity, price)],
            sale_date=date)
        if person:
            sale.salesperson = person
            sale.on_change_salesperson()
            sale.save()
        sale = confirm(env, sale)
    contract, = Contract.search([('origin_sale', '=', sale.id)])
    return contract


def build_book(env):
    """Anna and Cara sell for North, Ben for South; Z's contract has no
    salesperson:
    X: Jan 100 with Anna, Feb a second one of 50 with Anna, Mar closes
       both and takes 120 from Ben, Jun comes back to Anna with 40;
    Y: Jan 15 4 × 50 with Ben, Feb 3 seats, Apr closes, May 80 with Anna;
    W: Jan 60 with Anna, Apr swaps it for 70 with Cara;
    Z: Feb 30 without a salesperson."""
    Team = env.get('sale.team')
    Line = env.get('sale.subscription.line')
    plan = monthly_plan(env)
    seat = make_catalogue(env)['seat']
    anna, ben, cara = (employee(env, n) for n in ["Anna", "Ben", "Cara"])
    north = Team(name="North", company=env.company, members=[anna, cara])
    south = Team(name="South", company=env.company, members=[ben])
    Team.save([north, south])
    x, y, w, z = (customer(env, n) for n in ["X", "Y", "W", "Z"])
    contracts = {
        'x1': sold_by(env, anna, x, plan, seat, 1, '100', D(2026, 1, 1)),
        'w1': sold_by(env, anna, w, plan, seat, 1, '60', D(2026, 1, 1)),
        'y1': sold_by(env, ben, y, plan, seat, 4, '50', D(2026, 1, 15)),
        'z1': sold_by(env, None, z, plan, seat, 1, '30', D(2026, 2, 1)),
        'x2': sold_by(env, anna, x, plan, seat, 1, '50', D(2026, 2, 1)),
        }
    line, = contracts['y1'].lines
    with env.on(D(2026, 2, 1)):
        Line.write([line], {'quantity': 3})
    close(env, contracts['x1'], D(2026, 3, 1))
    close(env, contracts['x2'], D(2026, 3, 1))
    contracts['x3'] = sold_by(env, ben, x, plan, seat, 1, '120',
        D(2026, 3, 1))
    close(env, contracts['w1'], D(2026, 4, 1))
    contracts['w2'] = sold_by(env, cara, w, plan, seat, 1, '70',
        D(2026, 4, 1))
    close(env, contracts['y1'], D(2026, 4, 1), 'too_expensive')
    contracts['y2'] = sold_by(env, anna, y, plan, seat, 1, '80',
        D(2026, 5, 1))
    contracts['x4'] = sold_by(env, anna, x, plan, seat, 1, '40',
        D(2026, 6, 1))
    people = {'Anna': anna, 'Ben': ben, 'Cara': cara}
    return people, {'North': north, 'South': south}, contracts


def context(env, from_date, to_date, period='month', **filters):
    return Transaction().set_context(company=env.company.id,
        from_date=from_date, to_date=to_date, period=period, **filters)


def report(env, model, owner, from_date, to_date, period='month',
        **filters):
    "The rows of the report: (period, owner's name, new ... net new)"
    Report = env.get('sale.subscription.reporting.' + model)
    with context(env, from_date, to_date, period, **filters):
        return [(r.date, getattr(r, owner).rec_name if getattr(r, owner)
                else None, *(getattr(r, k) for k in KINDS))
            for r in Report.search([])]


def test_per_salesperson_a_customer_moving_churns_for_one(env):
    build_book(env)
    rows = report(env, 'salesperson', 'salesperson',
        D(2026, 1, 1), D(2026, 6, 30))
    # per month, the biggest net new first
    #     period       salesperson  new  exp  react contr churn net new
    assert rows == [
        (D(2026, 1, 1), "Ben", *money(200, 0, 0, 0, 0, 200)),
        (D(2026, 1, 1), "Anna", *money(160, 0, 0, 0, 0, 160)),
        (D(2026, 2, 1), "Anna", *money(0, 50, 0, 0, 0, 50)),
        (D(2026, 2, 1), None, *money(30, 0, 0, 0, 0, 30)),
        (D(2026, 2, 1), "Ben", *money(0, 0, 0, 50, 0, -50)),
        # X leaves Anna for Ben: a churn for her, new for him
        (D(2026, 3, 1), "Ben", *money(120, 0, 0, 0, 0, 120)),
        (D(2026, 3, 1), "Anna", *money(0, 0, 0, 0, 150, -150)),
        (D(2026, 4, 1), "Cara", *money(70, 0, 0, 0, 0, 70)),
        (D(2026, 4, 1), "Anna", *money(0, 0, 0, 0, 60, -60)),
        (D(2026, 4, 1), "Ben", *money(0, 0, 0, 0, 150, -150)),
        # Y had MRR with Ben only: new for Anna
        (D(2026, 5, 1), "Anna", *money(80, 0, 0, 0, 0, 80)),
        # X had MRR with Anna before: reactivated for her
        (D(2026, 6, 1), "Anna", *money(0, 0, 40, 0, 0, 40)),
        ]


def test_per_team_a_move_within_the_team_is_a_change(env):
    build_book(env)
    rows = report(env, 'sales_team', 'sales_team',
        D(2026, 1, 1), D(2026, 6, 30), 'quarter')
    #     period      team     new  exp  react contr churn net new
    assert rows == [
        (D(2026, 1, 1), "South", *money(320, 0, 0, 50, 0, 270)),
        (D(2026, 1, 1), "North", *money(160, 50, 0, 0, 150, 60)),
        (D(2026, 1, 1), None, *money(30, 0, 0, 0, 0, 30)),
        # W from Anna to Cara, both North: an expansion of 10 for North
        (D(2026, 4, 1), "North", *money(80, 10, 40, 0, 0, 130)),
        (D(2026, 4, 1), "South", *money(0, 0, 0, 0, 150, -150)),
        ]


def test_a_row_is_the_movements_report_filtered_by_its_owner(env):
    people, teams, _ = build_book(env)
    start, end = D(2026, 1, 1), D(2026, 6, 30)
    for model, owners in [('salesperson', people), ('sales_team', teams)]:
        rows = report(env, model, model, start, end)
        for name, owner in owners.items():
            filtered = [row for row in movements(
                    env, start, end, **{model: owner.id})
                if any(row[1:7])]
            # (period, new, expansion, reactivation, contraction, churn,
            # net new) of the movements report filtered by the owner
            assert [(r[0], *r[2:]) for r in rows if r[1] == name] == [
                r[:7] for r in filtered], (model, name)
    # the report's own filters apply too: only South's salesperson
    assert {r[1] for r in report(env, 'salesperson', 'salesperson',
            start, end, sales_team=teams['South'].id)} == {"Ben"}


def drill(env, model, row, **context_values):
    """The MRR events the double-click on row opens: the tree_open action
    of the report, its PYSON domain evaluated as the client does"""
    pool = env.pool
    Keyword = pool.get('ir.action.keyword')
    Event = pool.get('sale.subscription.mrr_event')
    action, = Keyword.get_keyword('tree_open', (model, -1))
    assert action['res_model'] == 'sale.subscription.mrr_event'
    domain = PYSONDecoder({
            'active_model': model, 'active_id': row.id,
            'active_ids': [row.id], **context_values,
            }).decode(action['pyson_domain'])
    return Event.search(domain, order=[('date', 'ASC'), ('id', 'ASC')])


def described(events):
    return [(e.date, e.subscription.party.rec_name, e.kind, e.mrr_change)
        for e in events]


def test_drill_down_opens_the_events_of_the_row(env):
    people, teams, _ = build_book(env)
    Team = env.get('sale.subscription.reporting.sales_team')
    Person = env.get('sale.subscription.reporting.salesperson')
    Movement = env.get('sale.subscription.reporting.mrr_movement')
    Churn = env.get('sale.subscription.reporting.churn_reason')
    with context(env, D(2026, 1, 1), D(2026, 6, 30), 'quarter'):
        north_q2, = Team.search([
                ('date', '=', D(2026, 4, 1)),
                ('sales_team', '=', teams['North'].id)])
        assert described(drill(
                env, 'sale.subscription.reporting.sales_team', north_q2)) == [
            (D(2026, 4, 1), "W", 'churn', Decimal('-60')),
            (D(2026, 4, 1), "W", 'new', Decimal('70')),
            (D(2026, 5, 1), "Y", 'new', Decimal('80')),
            (D(2026, 6, 1), "X", 'new', Decimal('40')),
            ]
        assert north_q2.rec_name == '04/01/2026 - North'
        nobody_q1, = Team.search([('sales_team', '=', None)])
        assert nobody_q1.rec_name == '01/01/2026'
        assert described(drill(env, Team.__name__, nobody_q1)) == [
            (D(2026, 2, 1), "Z", 'new', Decimal('30'))]
        too_expensive, = [r for r in Churn.search([])
            if r.close_reason.code == 'too_expensive']
        assert described(drill(env, Churn.__name__, too_expensive)) == [
            (D(2026, 4, 1), "Y", 'churn', Decimal('-150'))]
    # a month of the movements, under the report's filter: Ben's events
    with context(env, D(2026, 3, 1), D(2026, 4, 30),
            salesperson=people['Ben'].id):
        april = Movement.search([('date', '=', D(2026, 4, 1))])[0]
        assert (april.churn, april.new) == money(150, 0)
        assert described(drill(env, Movement.__name__, april)) == [
            (D(2026, 4, 1), "Y", 'churn', Decimal('-150'))]
    with context(env, D(2026, 3, 1), D(2026, 3, 31)):
        march, = Movement.search([])
        assert described(drill(env, Movement.__name__, march)) == [
            (D(2026, 3, 1), "X", 'churn', Decimal('-100')),
            (D(2026, 3, 1), "X", 'churn', Decimal('-50')),
            (D(2026, 3, 1), "X", 'new', Decimal('120')),
            ]
        anna_march, = Person.search([
                ('salesperson', '=', people['Anna'].id)])
        assert len(drill(env, Person.__name__, anna_march)) == 2
    # a row the context does not show opens nothing
    with context(env, D(2026, 5, 1), D(2026, 5, 31)):
        assert drill(env, Movement.__name__, march) == []


def test_the_events_opened_add_up_to_the_row(env):
    "Whatever the row, its events' changes sum to its net new MRR"
    build_book(env)
    for model in ['mrr_movement', 'sales_team', 'salesperson']:
        Report = env.get('sale.subscription.reporting.' + model)
        with context(env, D(2026, 1, 1), D(2026, 12, 31), 'quarter'):
            for row in Report.search([]):
                events = drill(env, Report.__name__, row)
                assert sum((e.mrr_change for e in events),
                    Decimal(0)) == row.net_new, (model, row.date)


def test_a_contracts_mrr_history(env):
    _, _, contracts = build_book(env)
    Keyword = env.get('ir.action.keyword')
    Event = env.get('sale.subscription.mrr_event')
    Contract = env.get('sale.subscription')
    actions = Keyword.get_keyword('form_relate', (Contract.__name__, -1))
    history, = [a for a in actions if a['name'] == "MRR History"]
    assert history['res_model'] == Event.__name__
    y1 = contracts['y1']
    domain = PYSONDecoder({'active_model': Contract.__name__,
            'active_id': y1.id, 'active_ids': [y1.id]}).decode(
        history['pyson_domain'])
    events = Event.search(domain, order=[('date', 'ASC'), ('id', 'ASC')])
    # the list and the line graph: the MRR after each change
    assert [(e.date, e.kind, e.mrr_after) for e in events] == [
        (D(2026, 1, 15), 'new', Decimal('200')),
        (D(2026, 2, 1), 'contraction', Decimal('150')),
        (D(2026, 4, 1), 'churn', Decimal('0')),
        ]
    views = [v for v in history['views'] if v[1] == 'graph']
    assert views, "a graph of the MRR over time"

