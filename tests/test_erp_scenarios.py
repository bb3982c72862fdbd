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
def scenario_runs(tmp_path_factory):
    "Start every module's scenarios at once; the tests wait for them"
    runs = {}
    logs = tmp_path_factory.mktemp('erp_scenarios')
    for module, scenarios in SCENARIOS.items():
        env = dict(os.environ)
        if env.get('DB_NAME') != ':memory:':
            env['DB_NAME'] = f'test_erp_scenarios_{module}'
        if '://' not in env.get('DB_CACHE', ''):
            env['DB_CACHE'] = os.path.join(ROOT, '.cache', 'db-erp')
        # to a file: a full pipe nobody reads yet would stop the process
        log = logs / f'{module}.log'
        with open(log, 'w') as output:
            process = subprocess.Popen(
                [sys.executable,
                    os.path.join(ROOT, 'tests', 'erp_scenarios.py'),
                    *scenarios],
                env=env, stdout=output, stderr=subprocess.STDOUT)
        runs[module] = process, log
    yield runs
    for process, _ in runs.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
@pytest.mark.parametrize('module', SCENARIOS)
def test_erp_scenarios_with_module(scenario_runs, module):
    process, log = scenario_runs[module]
    process.wait(timeout=1800)
    output = log.read_text()
    assert process.returncode == 0, output[-6000:]
    # every scenario of the module ran and passed
    assert output.count(' ... ok') == len(SCENARIOS[module]), output[-6000:]
