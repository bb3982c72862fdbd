"""Months of the demo company's business, one committed transaction per
month: on each day, first what `trytond-cron` runs that day (the billing
run on the first, the dunning of failed charges…), then what the company's
people do (sales, seat changes, cancellations, customers coming back, cards
that fail), then the tasks all this queued, as `trytond-worker` runs them.

Days without anything to do are skipped: the cron jobs would find nothing.
What happens is drawn from a random generator seeded by the month, so that a
restarted month does the same again.
"""
import datetime
import random

from dateutil.relativedelta import relativedelta
from trytond.pool import Pool

from demo import business

# monthly shares of the running contracts
CANCEL, UPSELL, DOWNSELL = 0.022, 0.05, 0.02
# how many days of a month the sales team confirms the orders signed
ORDER_DAYS = 3
# a month's share of the customers who left (not for unpaid invoices) and
# come back
COME_BACK = 0.08
# what happens to some card customers, by months before the last one
# (0 is the last): the bank refuses the charge of the first of the month —
# insufficient funds (soft), or the card is declined (hard) — and the
# customer tops the account up, gives another card or does nothing (unpaid:
# the contract is closed as unpaid; pending, waiting: still in dunning at
# the end); a timeout: the charge was booked, its answer lost, the janitor
# settles it
TROUBLES = {
    20: 'soft', 17: 'hard', 14: 'unpaid', 11: 'soft', 9: 'timeout',
    7: 'hard', 5: 'soft', 3: 'unpaid', 2: 'soft',
    0: ('waiting', 'pending'),
    }
# what the test processor's card does from the first of the month on
BANK = {
    'soft': 'insufficient_funds', 'pending': 'insufficient_funds',
    'hard': 'card_declined', 'waiting': 'card_declined',
    'unpaid': 'card_declined', 'timeout': 'timeout',
    }
# and how many days later the customer (or the gateway) makes it right
REMEDY = {'soft': (6, 'top_up'), 'hard': (8, 'new_card'),
    'timeout': (1, 'top_up')}

def month_end(date):
    return date + relativedelta(day=31)


class History:
    "The months from first to until, each run by engine"

    def __init__(self, engine, ids, customers, months, seed, until):
        self.engine = engine
        self.ids = ids
        self.seed = seed
        self.until = until
        first = (until - relativedelta(months=months - 1)).replace(day=1)
        self.months = [first + relativedelta(months=n)
            for n in range(months)]
        self.signups = self.spread(customers)
        self.troubled = {}  # contract id → what happens to its card

    def spread(self, customers):
        """Spread the customers' first sales over the months: the company
        grows, twice as many customers sign in its last month as in its
        first"""
        rng = random.Random(self.seed)
        count = len(self.months)
        weights = [1 + m / count for m in range(count)]
        months = rng.choices(range(count), weights=weights,
            k=len(customers))
        by_month = [[] for _ in range(count)]
        for customer, month in zip(customers, months):
            by_month[month].append(customer)
        return by_month

    def run(self, status, progress):
        "Run every month, each in its transaction; progress(status())"
        for index, month in enumerate(self.months):
            self.engine.transaction(self.month, index, month)
            progress(month, self.engine.transaction(status))

    # -- a month ---------------------------------------------------------

    def month(self, index, first):
        engine = self.engine
        rng = random.Random(f"{self.seed}-{first}")
        last = min(month_end(first), self.until)
        events = self.events(index, first, last, rng)
        day = first
        while day and day <= last:
            # what happened overnight (a customer back, a card that expired)
            # comes before the daily jobs, the rest after them
            for early in [True, False]:
                for _, _, func, args in (e for e in events
                        if e[0] == day and e[1] == early):
                    func(day, *args)
                if early:
                    engine.cron(day)
            day = self.next_day(day, events)

    def next_day(self, day, events):
        "The next day with an event or work for the daily jobs"
        tomorrow = day + datetime.timedelta(days=1)
        days = [d for d, _, _, _ in events if d >= tomorrow]
        due = self.engine.next_due(tomorrow)
        if due:
            days.append(due)
        return min(days, default=None)

    def events(self, index, first, last, rng):
        """[(day, before the daily jobs, function, args)] of what the
        company's people and customers do"""
        pool = Pool()
        Contract = pool.get('sale.subscription')

        def day():
            return first + datetime.timedelta(
                days=rng.randint(0, (last - first).days))
        events = []
        if self.signups[index]:
            # the orders signed are confirmed on a few days of the month
            days = sorted({day() for _ in range(ORDER_DAYS)})
            by_day = {}
            for kind, party in self.signups[index]:
                by_day.setdefault(rng.choice(days), []).append(
                    (kind, party, rng.random()))
            events.extend((d, False, self.sell, (orders,))
                for d, orders in by_day.items())
        running = Contract.search([
                ('state', '=', 'running'), ('ends_on', '=', None),
                ], order=[('id', 'ASC')])
        for contract in running:
            roll = rng.random()
            if roll < CANCEL:
                reason, = rng.choices(business.REASONS,
                    weights=business.REASON_WEIGHTS)
                events.append((day(), False, self.cancel,
                        ((contract.id, reason, rng.random() < 0.15),)))
            elif roll < CANCEL + UPSELL + DOWNSELL:
                delta = (rng.randint(1, 5) if roll < CANCEL + UPSELL
                    else -rng.randint(1, 3))
                events.append((day(), False, self.change,
                        ((contract.id, delta, rng.random()),)))
        events.append((min(first + datetime.timedelta(days=9), last), False,
                self.renewals, ()))
        gone = Contract.search([
                ('state', '=', 'closed'),
                ('close_reason.code', 'in', ['too_expensive', 'not_needed',
                        'missing_features']),
                ('end_date', '<', first - relativedelta(months=2)),
                ], order=[('id', 'ASC')])
        back = [c.id for c in gone if rng.random() < COME_BACK]
        if back:
            events.append((first, True, self.come_back, (back,)))
        events.extend(self.troubles(len(self.months) - 1 - index, first,
                last, running, rng))
        return events

    def troubles(self, before_end, first, last, running, rng):
        """Card customers whose bank refuses the charge of the first, and
        what they do about it"""
        kinds = TROUBLES.get(before_end, ())
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        candidates = [c.id for c in running
            if c.plan.invoicing_mode == 'charge'
            and c.next_billing_date == first
            and c.id not in self.troubled and not c.payment_failed]
        events = []
        for kind, contract in zip(kinds, rng.sample(
                    candidates, min(len(kinds), len(candidates)))):
            self.troubled[contract] = kind
            events.append((first, True, self.card, (contract, BANK[kind])))
            if kind in REMEDY:
                days, remedy = REMEDY[kind]
                events.append((min(first + datetime.timedelta(days=days),
                            last), False, getattr(self, remedy), (contract,)))
        return events

    # -- the events (each on its day) ------------------------------------

    def sell(self, day, orders):
        engine = self.engine
        sale_ids = engine.do('sales', day, business.sell, self.ids, orders)
        cards = {party: business.card_number(party)
            for kind, party, _ in orders}
        engine.do('sales', day, business.start_contracts, self.ids,
            sale_ids, cards)

    def change(self, day, *changes):
        self.engine.do('seat changes', day, business.change_seats, changes)

    def cancel(self, day, *cancellations):
        self.engine.do('cancellations', day, business.cancel, self.ids,
            cancellations)

    def renewals(self, day):
        rng = random.Random(f"{self.seed}-renewals-{day}")
        self.engine.do('renewals', day, business.confirm_renewals, rng)

    def come_back(self, day, contracts):
        self.engine.do('come back', day, business.come_back, contracts)

    def card(self, day, contract, behaviour):
        self.engine.do('cards', day, business.card_trouble, contract,
            behaviour)

    def top_up(self, day, contract):
        self.card(day, contract, 'succeed')

    def new_card(self, day, contract):
        self.engine.do('cards', day, business.new_card, self.ids, contract)
