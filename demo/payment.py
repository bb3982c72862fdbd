"""Card payments for the demo and the tests: a payment journal on the
module's test card processor whose successful payments are booked on a
clearing account (the ERP's account_payment_clearing), and test cards."""
import datetime

from trytond.pool import Pool


def create_card_journal(company, name="Kreditkarte (Test)"):
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentJournal = pool.get('account.payment.journal')
    journals = PaymentJournal.search([
            ('company', '=', company.id),
            ('process_method', '=', 'subscription_test'),
            ], limit=1)
    if journals:
        return journals[0]
    # money the card processor owes us until it pays out
    clearing, = Account.search([
            ('company', '=', company.id),
            ('type.receivable', '=', False),
            ('type.payable', '=', False),
            ('type.statement', '=', 'balance'),
            ('type.revenue', '=', False),
            ('type.expense', '=', False),
            ('party_required', '=', False),
            ('closed', '!=', True),
            ('reconcile', '=', False),
            ], order=[('code', 'ASC')], limit=1)
    cash, = Journal.search([('type', '=', 'cash')], limit=1)
    # a card charge is final: the ERP's cron posts its clearing move the
    # same day
    journal = PaymentJournal(name=name, company=company,
        currency=company.currency, process_method='subscription_test',
        clearing_account=clearing, clearing_journal=cash,
        clearing_posting_delay=datetime.timedelta(0))
    journal.save()
    return journal


# Stripe's test numbers; see models/payment_processor.py TEST_CARDS
VISA_OK = '4242 4242 4242 4242'
MASTERCARD_OK = '5555 5555 5555 4444'
DECLINED = '4000 0000 0000 0002'
INSUFFICIENT_FUNDS = '4000 0000 0000 9995'
EXPIRED_AT_BANK = '4000 0000 0000 0069'
TIMEOUT = '4000 0000 0000 0119'
GARBAGE = '4000 0000 0000 0101'


def add_card(journal, party, number=VISA_OK, exp_month=12, exp_year=2030):
    Method = Pool().get('sale.subscription.payment_method')
    return Method.add_card(party, journal, number, exp_month, exp_year)
