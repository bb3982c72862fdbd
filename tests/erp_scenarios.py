"""Run scenarios of the ERP's own modules with this module activated too.

    python tests/erp_scenarios.py sale_subscription/scenario_sale_subscription.rst ...

Extending `sale` and `sale_subscription` must not change how they behave for
sales and subscriptions without a plan. Run by test_erp_scenarios.py in its
own process: the scenarios create and drop their own database.
"""
import doctest
import os
import sys
import unittest

MODULE = 'sale_subscription_contract'


def main(scenarios):
    import trytond.tests.tools as tools
    from trytond.tests.test_tryton import (
        doctest_checker, doctest_setup, doctest_teardown)

    activate_modules = tools.activate_modules

    def with_this_module(modules, *setup):
        if isinstance(modules, str):
            modules = [modules]
        config = activate_modules([*modules, MODULE], *setup)
        from proteus import Model
        Module = Model.get('ir.module', config=config)
        assert Module.find(
            [('name', '=', MODULE), ('state', '=', 'activated')]), MODULE
        with_this_module.calls += 1
        return config
    with_this_module.calls = 0
    tools.activate_modules = with_this_module

    import trytond.modules
    root = os.path.dirname(trytond.modules.__file__)
    suite = unittest.TestSuite()
    for scenario in scenarios:
        module, name = scenario.split('/')
        suite.addTests(doctest.DocFileSuite(
                os.path.join(root, module, 'tests', name),
                module_relative=False,
                setUp=doctest_setup, tearDown=doctest_teardown,
                encoding='utf-8', checker=doctest_checker,
                optionflags=(doctest.REPORT_ONLY_FIRST_FAILURE
                    | doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    # each scenario must really have run with this module
    assert with_this_module.calls == len(scenarios), with_this_module.calls
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
