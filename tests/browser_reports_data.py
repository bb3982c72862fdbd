"""Build the database of the report browser tests (test_browser_reports
.py): the company of browser_lifecycle_data.py with customers in two
monthly cohorts, dated from today (the company's day), the MRR events
written by the module's own operations:

    two months ago (1st)  Anfang GmbH 2 seats, Kurz KG 1 seat
    last month (1st)      Später AG 3 seats
    last month (10th)     Kurz KG closes

Run in its own process on its own database, as browser_lifecycle_data.py:

    python tests/browser_reports_data.py PASSWORD OUT
"""
import json
import os
import sys

from dateutil.relativedelta import relativedelta

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(TESTS), TESTS]

from trytond.tests.test_tryton import (  # noqa: E402
    DB_NAME, USER, activate_module)

import browser_lifecycle_data  # noqa: E402
from conftest import EXTRAS, MODULE  # noqa: E402
from demo.company import create_customer, create_plan  # noqa: E402
from helpers import make_catalogue  # noqa: E402
from test_mrr_movements import close, contract_for  # noqa: E402
from trytond.modules.sale_subscription_contract.transaction import (  # noqa
    in_transaction)

SEAT = '29.90'


def fill(env, today):
    plan = create_plan(env.company, "Monatlich", 'monthly')
    seat = make_catalogue(env)['seat']
    first = today.replace(day=1) - relativedelta(months=2)
    second = first + relativedelta(months=1)
    contract_for(env, create_customer("Anfang GmbH"), plan, seat, 2, SEAT,
        first)
    short = contract_for(env, create_customer("Kurz KG"), plan, seat, 1,
        SEAT, first)
    contract_for(env, create_customer("Später AG"), plan, seat, 3, SEAT,
        second)
    close(env, short, second + relativedelta(days=9))
    return {'today': today.isoformat(), 'first': first.isoformat(),
        'second': second.isoformat(), 'seat': SEAT}


def main(password, out):
    activate_module([MODULE, *EXTRAS])
    facts = in_transaction(DB_NAME,
        lambda: browser_lifecycle_data.setup(password, fill), user=USER)
    with open(out, 'w') as file:
        json.dump(facts, file)


if __name__ == '__main__':
    main(*sys.argv[1:])
