"""What the demo database holds, and the records worth opening first: the
figures `make demo` prints and tests/test_demo.py checks (also written to
var/demo.json by the build)."""
from collections import Counter

from trytond.pool import Pool


def final_status(contracts):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Payment = pool.get('account.payment')
    Method = pool.get('sale.subscription.payment_method')
    Email = pool.get('sale.subscription.customer_email')
    Event = pool.get('sale.subscription.mrr_event')
    Attempt = pool.get('sale.subscription.payment_attempt')
    payments = Counter(p.state for p in Payment.search([
                ('subscription', '!=', None)]))
    emails = Counter(e.state for e in Email.search([]))
    closed = Counter(c.close_reason.code if c.close_reason else 'term'
        for c in contracts if c.state == 'closed')
    result = {
        'paid_invoices': Invoice.search_count([
                ('type', '=', 'out'), ('state', '=', 'paid')]),
        'payment_methods': Method.search_count([]),
        'payments': sum(payments.values()),
        'failed_payments': payments['failed'],
        'unknown_outcomes': Attempt.search_count([
                ('settled_on', '!=', None)]),
        'emails_sent': emails['sent'], 'emails_pending': emails['pending'],
        'emails_failed': emails['failed'],
        'closed_by_reason': dict(closed),
        'mrr_events': dict(Counter(e.kind for e in Event.search([]))),
        'try': what_to_try(contracts),
        }
    return result


def what_to_try(contracts):
    "{what: [contract number (customer)]} of the stories worth opening"
    def names(selected, limit=3):
        return [f"{c.number} ({c.party.name})" for c in selected][:limit]
    running = [c for c in contracts if c.state == 'running']
    return {
        'declined, retry pending': names(c for c in running
            if c.payment_failed and not c.payment_method_needed),
        'declined, waiting for a new card': names(c for c in running
            if c.payment_method_needed),
        'closed as unpaid': names(c for c in contracts
            if c.state == 'closed' and c.close_reason
            and c.close_reason.code == 'unpaid'),
        'came back (reactivation)': names(c for c in running
            if c.reopened_on),
        'ends at the end of its period': names(c for c in running
            if c.ends_on),
        'card charged, invoice paid': names(c for c in running
            if c.plan and c.plan.invoicing_mode == 'charge'
            and not c.payment_failed),
        }
