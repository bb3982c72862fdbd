"""Tryton's standard tests of a module (views, depends, field methods,
access, rec_name, buttons, wizards, menus, XML...) for this module with its
optional Stripe dependency.

Not collected by the suite itself: ModuleTestCase drops and creates the
database DB_NAME, which would be the suite's own; tests/test_module.py runs
this file in a process of its own on a database of its own.
"""
from trytond.tests.test_tryton import ModuleTestCase


class SaleSubscriptionContractTestCase(ModuleTestCase):
    "Test the Sale Subscription Contract module"
    module = 'sale_subscription_contract'
    extras = ['account_payment_stripe']


del ModuleTestCase
