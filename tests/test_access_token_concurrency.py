"""A secure link opened twice at the same moment (a double click, two tabs):
one use spends it, the other is told the link was used — not a database
error. Two real transactions on PostgreSQL, each in its own thread."""
import threading
import time

import pytest

from conftest import backend_name
from trytond.modules.sale_subscription_contract.transaction import (
    in_transaction)
from test_bad_input_rpc import _create_records, _delete_records
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER
from trytond.transaction import Transaction

pytestmark = pytest.mark.skipif(
    backend_name() != 'postgresql', reason="needs concurrent transactions")


def _new_token(contract_id):
    pool = Pool()
    AccessToken = pool.get('sale.subscription.access_token')
    Contract = pool.get('sale.subscription')
    token, _ = AccessToken.new(Contract(contract_id), 'pay')
    return token


def _token_state(token):
    from trytond.modules.sale_subscription_contract.models.access_token \
        import token_hash
    AccessToken = Pool().get('sale.subscription.access_token')
    record, = AccessToken.search([('token_hash', '=', token_hash(token))])
    return record.used


def test_two_uses_at_once_one_spends_the_other_is_refused(database):
    from trytond.modules.sale_subscription_contract.exceptions import (
        AccessTokenError)

    ids = in_transaction(DB_NAME, _create_records, user=USER)
    try:
        token = in_transaction(DB_NAME, lambda: _new_token(ids['contract']),
            user=USER)
        context = {'company': ids['company'], 'companies': [ids['company']]}
        AccessToken = Pool(DB_NAME).get('sale.subscription.access_token')
        # both read the token before either spends it; the first spends it
        # and commits while the second waits on the row
        both_read = threading.Barrier(2, timeout=30)
        first_spent = threading.Event()
        outcomes = {}

        def use(name):
            try:
                with Transaction().start(DB_NAME, USER, context=context) \
                        as transaction:
                    AccessToken.find(token, 'pay')
                    both_read.wait()
                    if name == 'second':
                        assert first_spent.wait(30)
                    try:
                        contract = AccessToken.use(token, 'pay')
                    except AccessTokenError as error:
                        transaction.rollback()
                        outcomes[name] = error.message
                        return
                    if name == 'first':
                        first_spent.set()
                        time.sleep(1)  # the second's UPDATE now waits
                    transaction.commit()
                    outcomes[name] = contract.id
            except Exception as error:
                outcomes[name] = repr(error)
                first_spent.set()

        threads = [threading.Thread(target=use, args=(name,))
            for name in ['first', 'second']]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert outcomes['first'] == ids['contract'], outcomes
        assert "has already been used" in outcomes['second'], outcomes
        assert in_transaction(DB_NAME, lambda: _token_state(token),
            user=USER, commit=False) is True
        # spent, it stays spent
        with pytest.raises(AccessTokenError):
            in_transaction(DB_NAME, lambda: AccessToken.use(token, 'pay'),
                user=USER, context=context)
    finally:
        in_transaction(DB_NAME, lambda: _delete_records(ids), user=USER)
