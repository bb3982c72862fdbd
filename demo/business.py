"""What the demo company's people do, through the ERP's API: sales with a
card when the plan charges one, seat changes, cancellations with a reason,
customers who come back, renewals confirmed, cards that fail and are
replaced.

Each function runs inside the simulation's transaction, on the day the
simulation set as today (ir.date), and touches only the records it names.
"""
import random
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from trytond.pool import Pool
from trytond.transaction import Transaction

from demo import data
from demo.payment import MASTERCARD_OK, VISA_OK, add_card

# why customers leave, and how often
REASONS = ['too_expensive', 'missing_features', 'competitor', 'not_needed',
    'other']
REASON_WEIGHTS = [30, 15, 20, 25, 10]


def today():
    return Pool().get('ir.date').today()


def first_of_next_month(date):
    return date + relativedelta(months=1, day=1)


def sell(ids, orders):
    """Confirm the quotations of orders, all sold today, and return their
    sale ids: orders are (kind, party id, seed) as History.sales plans them.

    Contracts start on the first of next month: the company bills on the
    first (calendar billing). A customer on a plan that charges gives a card
    when the contract starts (as the portal's checkout does).
    """
    pool = Pool()
    Sale = pool.get('sale.sale')
    sales = [new_sale(ids, kind, party, seed) for kind, party, seed in orders]
    Sale.save(sales)
    Sale.quote(sales)
    Sale.confirm(sales)  # queues their processing, which makes the contracts
    return [s.id for s in sales]


def new_sale(ids, kind, party_id, seed):
    "An unsaved quotation mixing recurring and one-time lines"
    pool = Pool()
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    Product = pool.get('product.product')
    rng = random.Random(seed)
    date = today()
    lines = []  # (product id, quantity, unit price or None)
    if kind == 'b2c':
        plan, = rng.choices([p for p, _ in data.B2C_PLANS],
            weights=[w for _, w in data.B2C_PLANS])
        name = rng.choice(data.B2C_SERVICES)
        price, = [p for n, p, _, _ in data.SERVICES if n == name]
        lines.append((ids['services'][name], 1, None
                if plan == 'monthly_card'
                else Decimal(price) * 10))  # a year paid for 10 months
    else:
        plan, = rng.choices([p[0] for p in data.PLANS],
            weights=[p[5] for p in data.PLANS])
        months = {'bimonthly_card': 2, 'yearly': 12, 'yearly_card': 12}.get(
            plan, 1)
        # a yearly contract is paid for 11 months, i.e. ~8 % off
        factor = 11 if months == 12 else months
        offer = [s for s in data.SERVICES if s[0] not in data.B2C_SERVICES]
        for name, price, per_seat, _ in rng.sample(
                offer, rng.choice([1, 1, 2, 2, 3])):
            quantity = rng.randint(2, 25) if per_seat else 1
            lines.append((ids['services'][name], quantity,
                    Decimal(price) * factor))
        for name, _, share in data.ONE_TIME:
            if rng.random() < share:
                lines.append((ids['one_time'][name], 1, None))
    sale = Sale(party=party_id, sale_date=date,
        subscription_plan=ids['plans'][plan],
        subscription_start_date=first_of_next_month(date),
        salesperson=rng.choice(ids['salespeople']))
    sale.on_change_party()
    sale.on_change_salesperson()
    sale.payment_term = ids['term']
    sale_lines = []
    for product, quantity, unit_price in lines:
        line = SaleLine(sale=sale, type='line', product=Product(product),
            quantity=quantity)
        line.on_change_product()
        if unit_price is not None:
            line.unit_price = unit_price
        sale_lines.append(line)
    sale.lines = sale_lines
    return sale


def start_contracts(ids, sale_ids, cards):
    """After the sales were processed: give each new contract on a plan that
    charges the card its customer typed (cards: party id → number), and
    post the invoices of the one-time lines"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Contract = pool.get('sale.subscription')
    Invoice = pool.get('account.invoice')
    Journal = pool.get('account.payment.journal')
    journal = Journal(ids['journal'])
    sales = Sale.browse(sale_ids)
    contracts = Contract.search([('origin_sale', 'in', sale_ids)])
    for contract in contracts:
        if contract.plan.invoicing_mode == 'charge':
            contract.payment_method = add_card(journal, contract.party,
                cards[contract.party.id], *card_expiry(contract.party.id))
    Contract.save(contracts)
    invoices = [i for s in sales for i in s.invoices if i.state == 'draft']
    # as a queue task does: the tax warning of posting is not asked
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post(invoices)
    return [c.id for c in contracts]


def card_number(party_id):
    "The card a customer types: Visa or Mastercard, accepted"
    return MASTERCARD_OK if party_id % 3 == 0 else VISA_OK


def card_expiry(party_id):
    "Cards expire in two to five years"
    year = today().year + 2 + party_id % 4
    return party_id % 12 + 1, year


def change_seats(changes):
    """Seats added or removed today, effective on the next invoice:
    changes are (contract id, delta, pick), pick choosing the line"""
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Line = pool.get('sale.subscription.line')
    actions = []
    for contract_id, delta, pick in changes:
        contract = Contract(contract_id)
        lines = [l for l in contract.lines if not l.end_date
            and (delta > 0 or l.quantity > 1)]
        if contract.state != 'running' or contract.ends_on or not lines:
            continue
        line = lines[int(pick * len(lines))]
        quantity = max(1, line.quantity + delta)
        if quantity != line.quantity:
            actions.extend(([line], {'quantity': quantity}))
    if actions:
        Line.write(*actions)


def cancel(ids, cancellations):
    """Customers cancel at the end of the period they paid for (the Close
    wizard's default), a few at once: cancellations are (contract id,
    reason code, at once)"""
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Reason = pool.get('sale.subscription.close_reason')
    for contract_id, reason, at_once in cancellations:
        contract = Contract(contract_id)
        if contract.state != 'running' or contract.ends_on:
            continue
        timing = 'today' if at_once else 'period_end'
        Contract.close_contracts([contract],
            Reason(ids['reasons'][reason]), contract.close_end_date(timing))


def come_back(contract_ids):
    "Customers who left come back: their contracts are reopened today"
    Contract = Pool().get('sale.subscription')
    contracts = [c for c in Contract.browse(contract_ids)
        if c.state == 'closed']
    if contracts:
        Contract.reopen(contracts)


def confirm_renewals(rng):
    """The sales team wins most renewal quotations of fixed terms; the
    others run out and the contract ends with its term"""
    Sale = Pool().get('sale.sale')
    quotations = Sale.search([
            ('renewal_of', '!=', None),
            ('state', '=', 'quotation'),
            ('renewal_start', '>', today()),
            ], order=[('id', 'ASC')])
    won = [s for s in quotations if rng.random() < 0.75]
    lost = [s for s in quotations if s not in won]
    Sale.confirm(won)
    Sale.cancel(lost)


def card_trouble(contract_id, behaviour):
    """The bank now answers behaviour for the contract's card (the test
    processor's vault), e.g. insufficient funds, or succeed again when the
    customer topped the account up"""
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Card = pool.get('sale.subscription.test_card')
    method = Contract(contract_id).payment_method
    cards = Card.search([('token', '=', method.token)])
    Card.write(cards, {'behaviour': behaviour})


def new_card(ids, contract_id, number=VISA_OK):
    "The customer replaces a declined card (as from the e-mail's link)"
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Journal = pool.get('account.payment.journal')
    contract = Contract(contract_id)
    method = add_card(Journal(ids['journal']), contract.party, number,
        *card_expiry(contract.party.id + 1))
    Contract.write([contract], {'payment_method': method.id})

