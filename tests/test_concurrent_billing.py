"""Two billing runs started at the same moment in separate processes invoice
every period exactly once (PostgreSQL: rows are claimed with SKIP LOCKED and
the period key is unique)."""
import datetime
import os
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from conftest import ROOT, backend_name
from demo.company import create_customer, create_plan, create_product
from trytond.modules.sale_subscription_contract.transaction import (
    in_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER
from trytond.transaction import Transaction

D = datetime.date
CONTRACTS = 30

pytestmark = pytest.mark.skipif(
    backend_name() != 'postgresql', reason="needs PostgreSQL")


def create_contracts():
    """A company of its own (its invoice sequence must not meet the other
    tests' dates) with CONTRACTS monthly contracts due since January"""
    from demo.company import create_category, setup_company
    company, taxes = setup_company(2026, 2026)
    with Transaction().set_context(company=company.id,
            companies=[company.id]):
        plan = create_plan(company, "Parallel monatlich", 'monthly')
        category = create_category(company, taxes)
        product = create_product(category, "Parallel-Dienst", '19.99')
        return company.id, _contracts(company, plan, product)


def _contracts(company, plan, product):
    Contract = Pool().get('sale.subscription')
    contracts = []
    for i in range(CONTRACTS):
        party = create_customer(f"Parallel Kunde {i}")
        contract = Contract(company=company, party=party, plan=plan,
            invoice_recurrence=plan.recurrence, start_date=D(2026, 1, 10),
            currency=company.currency)
        contract.on_change_party()
        contract.lines = [{
                'service': product.subscription_services[0],
                'quantity': 1 + i % 3, 'unit': product.default_uom,
                'unit_price': Decimal('19.99'),
                'start_date': D(2026, 1, 10)}]
        contracts.append(contract)
    Contract.save(contracts)
    Contract.quote(contracts)
    Contract.run(contracts)
    return [c.id for c in contracts]


def test_two_runs_at_once_invoice_each_period_once(database, tmp_path):
    company_id, ids = in_transaction(DB_NAME, create_contracts, user=USER)
    context = {'company': company_id, 'companies': [company_id]}

    config = tmp_path / 'trytond.conf'
    config.write_text(
        f"[database]\nuri = {os.environ['TRYTOND_DATABASE_URI']}\n")
    command = [sys.executable, '-m',
        'trytond.modules.sale_subscription_contract.cli', 'bill',
        '-c', str(config), '-d', DB_NAME, '--date', '2026-04-10',
        '--company', str(company_id), '--batch-size', '4', '--quiet']
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=600)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs

    def check():
        pool = Pool()
        Period = pool.get('sale.subscription.period')
        Invoice = pool.get('account.invoice')
        periods = Period.search([('subscription', 'in', ids)])
        keys = [(p.subscription.id, p.start_date) for p in periods]
        assert len(keys) == len(set(keys)) == CONTRACTS * 4
        invoices = Invoice.search([('lines.origin.subscription', 'in', ids,
                    'sale.subscription.line')])
        assert len(invoices) == CONTRACTS * 4
        assert {i.state for i in invoices} == {'posted'}
        assert {p.invoice for p in periods} == set(invoices)
    in_transaction(DB_NAME, check, user=USER, context=context, commit=False)
    # the runs' own summaries add up to the invoices written: no run
    # reports an invoice the other wrote (how the work was shared depends
    # on the machine's load: on a busy one, one run may find it all done)
    invoiced = [int(re.search(r"invoices: (\d+)", o).group(1))
        for o in outputs]
    assert sum(invoiced) == CONTRACTS * 4, outputs
