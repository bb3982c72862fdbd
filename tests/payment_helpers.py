"Building blocks for the payment stories: a charge plan, cards, payments"
import datetime

from demo.company import create_plan
from demo.payment import add_card, create_card_journal
from helpers import bill, make_catalogue, start_contract

START = datetime.date(2026, 3, 1)


def charge_contract(env, number, start=START, price=None, **plan_values):
    """A running contract on a monthly plan that charges a card: two seats
    (2 × 29.90 + 19 % VAT = 71.16 a month)"""
    plan = create_plan(env.company, "Monatlich per Karte", 'monthly',
        invoicing_mode='charge', **plan_values)
    products = make_catalogue(env)
    line = (products['seat'], 2) if price is None else (
        products['seat'], 2, price)
    contract = start_contract(env, plan, start, [line])
    if number:
        with env.on(start):
            journal = create_card_journal(env.company)
            contract.payment_method = add_card(journal, contract.party, number)
            contract.save()
    return contract


def bill_and_charge(env, contract, date):
    "The billing run on date, then the queue worker after its commit"
    invoice, = bill(env, contract, date)
    with env.on(date):
        env.run_tasks()
    return env.get('account.invoice')(invoice.id)


def dunning(env, date):
    "The daily dunning cron on date, then the queue worker"
    Contract = env.get('sale.subscription')
    with env.on(date):
        Contract.run_payment_dunning()
        env.run_tasks()


def payments_of(env, invoice):
    Payment = env.get('account.payment')
    return Payment.search([('subscription_invoice', '=', invoice.id)],
        order=[('id', 'ASC')])


def processor_charges(env):
    "What the test processor booked, i.e. what the customer's bank sees"
    Charge = env.get('sale.subscription.test_charge')
    return Charge.search([('status', '=', 'succeeded')])


def notifications(env, contract, kind=None):
    "The customer e-mails of contract (of kind), oldest first"
    Email = env.get('sale.subscription.customer_email')
    domain = [('subscription', '=', contract.id)]
    if kind:
        domain.append(('kind', '=', kind))
    return Email.search(domain, order=[('id', 'ASC')])


def card_of(env, contract):
    Card = env.get('sale.subscription.test_card')
    card, = Card.search([('token', '=', contract.payment_method.token)])
    return card


def pay_by_transfer(env, invoice, date):
    """The customer pays the invoice by bank transfer, booked as a manual
    payment of the ERP"""
    pool = env.pool
    PaymentJournal = pool.get('account.payment.journal')
    Payment = pool.get('account.payment')
    Group = pool.get('account.payment.group')
    card_journal = create_card_journal(env.company)
    with env.on(date):
        journal = PaymentJournal(name="Überweisung", company=env.company,
            currency=env.company.currency, process_method='manual',
            clearing_account=card_journal.clearing_account,
            clearing_journal=card_journal.clearing_journal)
        journal.save()
        line, = [l for l in invoice.lines_to_pay if not l.reconciliation]
        payment = Payment(company=env.company, journal=journal,
            kind='receivable', party=invoice.party, line=line, date=date,
            amount=line.payment_amount)
        payment.save()
        Payment.submit([payment])
        def group():
            group = Group(company=env.company, journal=journal,
                kind='receivable')
            group.save()
            return group
        Payment.process([payment], group)
        Payment.succeed([payment])
    return payment
