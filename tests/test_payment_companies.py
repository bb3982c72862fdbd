"""Two companies with the same invoice numbering (the demo's set-up gives
every company `RE-<year>-`): each company's customers are charged and their
invoices paid; an idempotency key never meets another company's."""
import contextlib
import datetime
from decimal import Decimal

from conftest import Env
from demo.company import setup_company
from demo.payment import VISA_OK
from helpers import assert_mrr_invariant
from payment_helpers import START, charge_contract, payments_of
from trytond.transaction import Transaction

D = datetime.date


@contextlib.contextmanager
def as_user_of(env, company):
    "Work as a user whose current company is company (its record rules)"
    User = env.get('res.user')
    user = User(Transaction().user)
    User.write([user], {'company': company.id})
    with Transaction().set_context(
            company=company.id, companies=[company.id]):
        yield


def bill_company(env):
    "The daily billing run of env's company on START, then the worker"
    Contract = env.get('sale.subscription')
    with env.on(START):
        Contract.bill_due_contracts(START)
        env.run_tasks()


def test_two_companies_with_the_same_invoice_numbers_are_both_charged(env):
    Invoice = env.get('account.invoice')
    Contract = env.get('sale.subscription')
    contract_a = charge_contract(env, VISA_OK)
    company_b, _ = setup_company(2025, 2027)
    with as_user_of(env, company_b):
        env_b = Env(company_b)
        contract_b = charge_contract(env_b, VISA_OK)

    with as_user_of(env, env.company):
        bill_company(env)
    with as_user_of(env, company_b):
        bill_company(env_b)

    keys = []
    for company_env, contract in [(env, contract_a), (env_b, contract_b)]:
        with as_user_of(env, company_env.company):
            contract = Contract(contract.id)
            invoice, = contract.invoices
            # the same number in each company's books
            assert invoice.number == 'RE-2026-00001'
            invoice = Invoice(invoice.id)
            assert invoice.state == 'paid'
            assert invoice.total_amount == Decimal('71.16')
            payment, = payments_of(company_env, invoice)
            assert payment.state == 'succeeded'
            assert payment.company == company_env.company
            keys.append(payment.subscription_key)
            # billed: next due a month later, MRR as logged
            assert contract.next_billing_date == D(2026, 4, 1)
            assert not contract.payment_failed
            assert_mrr_invariant(company_env, contract, START)
    assert keys[0] != keys[1]
