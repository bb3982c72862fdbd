"""The billing run posts faster by skipping work that cannot change its
invoices; what the ERP guarantees on posting still holds, inside the run and
outside it."""
import datetime
from decimal import Decimal

import pytest

from trytond.modules.account_invoice.exceptions import (
    InvoiceTaxesWarning, InvoiceTaxValidationError)
from trytond.transaction import Transaction

from helpers import bill, make_catalogue, monthly_plan, start_contract

D = datetime.date


def draft_invoice_of_january(env):
    "A running two-seat contract and its January invoice, saved, not posted"
    Invoice = env.get('account.invoice')
    products = make_catalogue(env)
    contract = start_contract(env, monthly_plan(env), D(2026, 1, 1),
        [(products['seat'], 2)])
    with env.on(D(2026, 1, 1)):
        (invoice, _), = contract._prepare_invoices(D(2026, 1, 1))
        Invoice.save([invoice])
    return invoice


def test_run_posts_invoices_with_the_erps_taxes(env):
    products = make_catalogue(env)
    contract = start_contract(env, monthly_plan(env), D(2026, 1, 1),
        [(products['seat'], 3), (products['backup'], 1)])
    invoices = bill(env, contract, D(2026, 3, 1))
    assert [i.state for i in invoices] == ['posted'] * 3
    for invoice in invoices:
        # 3 × 29.90 + 9.99 = 99.69, 19 % VAT 18.94
        assert invoice.untaxed_amount == Decimal('99.69')
        assert invoice.tax_amount == Decimal('18.94')
        assert invoice.total_amount == Decimal('118.63')
        assert invoice.move.state == 'posted'
        assert sum(l.debit for l in invoice.move.lines) == Decimal('118.63')
    assert sorted(i.number for i in invoices) == [i.number for i in invoices]


def test_run_still_refuses_an_invoice_whose_taxes_are_wrong(env):
    "The run no longer recomputes taxes on each write, the ERP's get_move does"
    Invoice = env.get('account.invoice')
    InvoiceTax = env.get('account.invoice.tax')
    invoice = draft_invoice_of_january(env)
    with env.on(D(2026, 1, 1)):
        InvoiceTax.delete(list(invoice.taxes))  # e.g. a faulty extension
        with Transaction().set_context({'_skip_warnings': True,
                    Invoice.BILLING_RUN_POST_CONTEXT: [invoice.id]}):
            with pytest.raises(InvoiceTaxValidationError):
                Invoice.post([Invoice(invoice.id)])
    # the run's transaction is rolled back: the batch is reported, not billed
    assert Invoice(invoice.id).state == 'draft'


def test_outside_the_run_posting_still_warns_about_changed_taxes(env):
    "The tax warning check is skipped only by the run (whose lines are fresh)"
    Invoice = env.get('account.invoice')
    Line = env.get('account.invoice.line')
    invoice = draft_invoice_of_january(env)
    with env.on(D(2026, 1, 1)):
        Line.write(list(invoice.lines), {'taxes': [('remove', [
                            t.id for t in invoice.lines[0].taxes])]})
        with pytest.raises(InvoiceTaxesWarning):
            Invoice.post([Invoice(invoice.id)])


def test_invoices_made_meanwhile_get_their_taxes(env):
    "e.g. by a task queued during the run's posting, with its context"
    Invoice = env.get('account.invoice')
    products = make_catalogue(env)
    contract = start_contract(env, monthly_plan(env), D(2026, 1, 1),
        [(products['seat'], 2)])
    with env.on(D(2026, 1, 1)), Transaction().set_context({
                '_skip_warnings': True,
                Invoice.BILLING_RUN_POST_CONTEXT: [-1]}):
        (invoice, _), = contract._prepare_invoices(D(2026, 1, 1))
        Invoice.save([invoice])
        assert Invoice(invoice.id).tax_amount == Decimal('11.36')
        Invoice.post([invoice])
    assert Invoice(invoice.id).state == 'posted'
    assert Invoice(invoice.id).total_amount == Decimal('71.16')
