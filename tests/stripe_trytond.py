"""trytond for test_portal_stripe.py: the server's stripe library talks to
the recorded Stripe at $RECORDED_STRIPE (stripe_helpers.StripeOverHTTP)
instead of api.stripe.com; otherwise the `trytond` command.

    python tests/stripe_trytond.py -c trytond.conf -d DATABASE
"""
import os
import sys

import stripe

from trytond.cli import main

stripe.api_base = os.environ['RECORDED_STRIPE']

if __name__ == '__main__':
    sys.exit(main())
