"""The ERP's own sale and subscription scenarios still pass with this module
activated."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

SCENARIOS = [
    'sale_subscription/scenario_sale_subscription.rst',
    'sale_subscription/scenario_sale_subscription_advanced_invoice.rst',
    'sale_subscription/scenario_sale_subscription_new_line.rst',
    'sale/scenario_sale.rst',
    'sale/scenario_sale_quotation.rst',
    ]


@pytest.mark.slow
@pytest.mark.parametrize('scenario', SCENARIOS)
def test_erp_scenario_with_module(scenario):
    env = dict(os.environ)
    if env.get('DB_NAME') != ':memory:':
        env['DB_NAME'] = 'test_erp_scenarios'
    if '://' not in env.get('DB_CACHE', ''):
        env['DB_CACHE'] = os.path.join(ROOT, '.cache', 'db-erp')
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tests', 'erp_scenarios.py'),
            scenario],
        env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
