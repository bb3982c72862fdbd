# The pages that take a card through Stripe Elements (the quotation's, a
# contract's card page and its secure payment link): what they allow the
# browser (CSP), what they post (Stripe's ids only: models/stripe_card.py)
# and the page that has the customer confirm the card in their bank's window
# (3-D Secure) before the same form is posted again.
from trytond.transaction import Transaction

from ..models.stripe_card import STRIPE_FIELDS
from .web import SECURITY_HEADERS

# what Stripe.js needs (https://docs.stripe.com/security/guide): its script,
# its card and 3-D Secure frames, its API; still no inline script
STRIPE_CSP = SECURITY_HEADERS['Content-Security-Policy'].replace(
    "script-src 'self';",
    "script-src 'self' https://js.stripe.com; "
    "frame-src https://js.stripe.com https://hooks.stripe.com; "
    "connect-src 'self' https://api.stripe.com;")


def with_stripe(response, stripe_key):
    "response allowed to run Stripe.js when the page has a Stripe key"
    if stripe_key:
        response.headers['Content-Security-Policy'] = STRIPE_CSP
    return response


def posted_stripe_fields(portal):
    "The Stripe fields of the form that were posted"
    form = portal.request.form
    return {name: form[name] for name in STRIPE_FIELDS if name in form}


def authenticate(portal, exception, stripe_key, action, back, back_label,
        fields, title):
    """After rolling back what the post did: the page that has the customer
    confirm the card in their bank's window, then posts fields (the form's,
    with the setup intent's id) to action again"""
    Transaction().rollback()
    fields = [(name, value) for name, value in fields
        if name != 'stripe_setup_intent'] + [
        ('stripe_setup_intent', exception.setup_intent)]
    response = portal.render('card_authenticate.html', title=title,
        message=exception.message, fields=fields,
        client_secret=exception.client_secret, stripe_key=stripe_key,
        action=action, back=back, back_label=back_label)
    return with_stripe(response, stripe_key)
