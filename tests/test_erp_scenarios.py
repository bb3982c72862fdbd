"""The ERP's own sale and subscription scenarios still pass with this module
activated."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

# per ERP module: its scenarios run one after the other in one process (they
# activate the same modules: the second finds them in the database cache);
# the two modules' processes run side by side, on databases of their own
SCENARIOS = {
    'sale_subscription': [
        'sale_subscription/scenario_sale_subscription.rst',
        'sale_subscription/scenario_sale_subscription_advanced_invoice.rst',
        'sale_subscription/scenario_sale_subscription_new_line.rst',
        ],
    'sale': [
        'sale/scenario_sale.rst',
        'sale/scenario_sale_quotation.rst',
        ],
    }


@pytest.fixture(scope='module')
def scenario_runs():
    "Start every module's scenarios at once; the tests wait for them"
    runs = {}
    for module, scenarios in SCENARIOS.items():
        env = dict(os.environ)
        if env.get('DB_NAME') != ':memory:':
            env['DB_NAME'] = f'test_erp_scenarios_{module}'
        if '://' not in env.get('DB_CACHE', ''):
            env['DB_CACHE'] = os.path.join(ROOT, '.cache', 'db-erp')
        runs[module] = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, 'tests', 'erp_scenarios.py'),
                *scenarios],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
    yield runs
    for run in runs.values():
        if run.poll() is None:
            run.kill()
            run.wait()


@pytest.mark.slow
@pytest.mark.parametrize('module', SCENARIOS)
def test_erp_scenarios_with_module(scenario_runs, module):
    run = scenario_runs[module]
    output, _ = run.communicate(timeout=1800)
    assert run.returncode == 0, output[-6000:]
    # every scenario of the module ran and passed
    assert output.count(' ... ok') == len(SCENARIOS[module]), output[-6000:]
