# A customer's contract: what it is, what it costs next, its invoices, and
# what the customer may do themselves, only as far as the plan allows and
# always through the contract's own methods (the back office's): change
# lines or plan (previewed, then applied), pause and resume, close with a
# reason, replace the card, pay a failed invoice.
from werkzeug.exceptions import NotFound

from trytond.pool import Pool

from ..exceptions import CardAuthenticationRequired
from . import forms
from .home import customer_invoices, signed_in, work_for
from .payment import (
    card_authenticate, card_form_values, pay_failed_invoice, replace_card)
from .stripe_card import with_stripe
from .web import _, route


def own_contract(portal, contract_id):
    "The signed-in customer's contract contract_id; any other: 404"
    Contract = portal.pool.get('sale.subscription')
    parties = [p.id for p in signed_in(portal)]
    contracts = Contract.search([
            ('id', '=', contract_id),
            ('party', 'in', parties),
            ('state', 'in', ['running', 'paused', 'closed']),
            ], limit=1)
    if not contracts:
        raise NotFound()
    return work_for(contracts[0])


def contract_invoices(contract):
    "The posted invoices of the contract (their lines' origin is its lines)"
    return customer_invoices([contract.party.id], [
            ('lines.origin.subscription', '=', contract.id,
                'sale.subscription.line'),
            ])


def offered_options(contract, today):
    """The services the customer may add: the options of the quotation the
    contract came from that it does not have yet"""
    sale = contract.origin_sale
    if not sale:
        return []
    active = {l.service for l in contract.get_change(today)._active_lines()}
    services = []
    for option in getattr(sale, 'options', []):
        for service in option.product.subscription_services[:1]:
            if service not in active and service not in services:
                services.append(service)
    return services


def may_change(contract):
    return (contract.state == 'running' and contract.plan
        and contract.plan.customer_access != 'restricted')


def may_close(contract):
    return (contract.state in {'running', 'paused'} and contract.plan
        and contract.plan.customer_can_close and not contract.ends_on)


def may_pause(contract):
    return (contract.state == 'running' and contract.plan
        and contract.plan.pause_allowed and not contract.paused_from
        and not contract.ends_on)


def close_reasons():
    Reason = Pool().get('sale.subscription.close_reason')
    # "unpaid" is the dunning's, not the customer's
    return Reason.search([('code', '!=', 'unpaid')])


def contract_page(portal, contract, status=200, **values):
    Date = portal.pool.get('ir.date')
    today = Date.today()
    preview = contract.preview_invoices(1)
    changeable, closable = may_change(contract), may_close(contract)
    values.setdefault('error', None)
    stripe_key = contract.portal_stripe_key()
    return with_stripe(portal.render('contract.html', status=status,
        title=_('msg_portal_contract', number=contract.number or ''),
        contract=contract, next_invoice=preview[0] if preview else None,
        lines=(contract.get_change(today)._active_lines()
            if contract.state != 'closed' else []),
        invoices=contract_invoices(contract),
        # a charge of the failed invoice under way (another tab's click):
        # said so, no second Pay button
        charging=bool(contract.dunning_invoice
            and contract._charge_in_progress(contract.dunning_invoice)),
        may_change=changeable, may_close=closable,
        may_pause=may_pause(contract),
        may_remove=(contract.plan
            and contract.plan.customer_access == 'upgrade_downgrade'),
        options=offered_options(contract, today) if changeable else [],
        plans=list(contract.plan.related_plans) if contract.plan else [],
        reasons=close_reasons(),
        close_end=(contract.close_end_date('period_end')
            if closable else None),
        card=card_form_values(portal), done=portal.request.args.get('done'),
        stripe_key=stripe_key, **values), stripe_key)


@route('/contracts/<int:contract_id>')
def contract_view(portal, contract_id):
    return contract_page(portal, own_contract(portal, contract_id))


def change_of(portal, contract):
    """The change the customer's form asks for (unsaved), its values
    checked: quantities within bounds, a plan and an option offered"""
    Date = portal.pool.get('ir.date')
    today = Date.today()
    change = contract.get_change(today)
    may_remove = contract.plan.customer_access == 'upgrade_downgrade'
    lines = []
    for line in change._active_lines():
        remove = may_remove and portal.request.form.get(
            'remove_%s' % line.id) == '1'
        quantity = forms.quantity(portal, 'quantity_%s' % line.id,
            'msg_portal_quantity', line.unit, minimum=1)
        if remove:
            lines.append({'line': line, 'remove': True})
        elif quantity != line.quantity:
            lines.append({'line': line, 'quantity': quantity})
    option = forms.choice(portal, 'option', 'msg_portal_option',
        offered_options(contract, today), required=False)
    if option:
        lines.append({'service': option, 'quantity': forms.quantity(portal,
                    'option_quantity', 'msg_portal_quantity',
                    option.product.sale_uom, minimum=1)})
    plan = forms.choice(portal, 'plan', 'msg_portal_plan',
        [contract.plan] + list(contract.plan.related_plans), required=False)
    return contract.get_change(today, lines=lines, plan=plan)


@route('/contracts/<int:contract_id>/change', methods=['POST'])
def change_preview(portal, contract_id):
    "What the change costs (paid now, next invoice); nothing is written"
    contract = own_contract(portal, contract_id)
    if not may_change(contract):
        raise NotFound()
    change = change_of(portal, contract)
    preview = change.preview(customer=True)
    return portal.render('change.html', title=_('msg_portal_change'),
        contract=contract, preview=preview,
        paid_now=sum(i['total_amount'] for i in preview['now']),
        form=[(k, v) for k, v in portal.request.form.items()
            if k != 'csrf_token'])


@route('/contracts/<int:contract_id>/change/apply', methods=['POST'])
def change_apply(portal, contract_id):
    contract = own_contract(portal, contract_id)
    if not may_change(contract):
        raise NotFound()
    # the same checks as the preview: the plan's customer access
    change_of(portal, contract).apply(customer=True)
    return portal.redirect('/contracts/%s' % contract.id, done='change')


@route('/contracts/<int:contract_id>/close', methods=['POST'])
def close(portal, contract_id):
    "Close at the end of the period paid for, with a reason"
    Contract = portal.pool.get('sale.subscription')
    contract = own_contract(portal, contract_id)
    if not may_close(contract):
        raise NotFound()
    reason = forms.choice(portal, 'reason', 'msg_portal_close_reason',
        close_reasons())
    comment = forms.text(portal, 'comment', 'msg_portal_close_comment',
        size=forms.LONG_TEXT_SIZE, required=False, multiline=True)
    Contract.close_contracts([contract], reason,
        contract.close_end_date('period_end'), comment=comment,
        at_once=False)
    return portal.redirect('/contracts/%s' % contract.id, done='close')


@route('/contracts/<int:contract_id>/pause', methods=['POST'])
def pause(portal, contract_id):
    "Pause from the end of the period paid for (the plan's rules apply)"
    Contract = portal.pool.get('sale.subscription')
    Date = portal.pool.get('ir.date')
    contract = own_contract(portal, contract_id)
    if not may_pause(contract):
        raise NotFound()
    Contract.pause([contract], Date.today())
    return portal.redirect('/contracts/%s' % contract.id, done='pause')


@route('/contracts/<int:contract_id>/resume', methods=['POST'])
def resume(portal, contract_id):
    Contract = portal.pool.get('sale.subscription')
    contract = own_contract(portal, contract_id)
    if not (contract.plan and contract.plan.pause_allowed
            and (contract.state == 'paused' or contract.paused_from)):
        raise NotFound()
    Contract.resume([contract])
    return portal.redirect('/contracts/%s' % contract.id, done='resume')


@route('/contracts/<int:contract_id>/card', methods=['POST'])
def card(portal, contract_id):
    "Replace the card the contract is charged with"
    contract = own_contract(portal, contract_id)
    if contract.state not in {'running', 'paused'}:
        raise NotFound()
    try:
        replace_card(portal, contract)
    except CardAuthenticationRequired as exception:
        # nothing is stored: the bank's window first
        base = '/contracts/%s' % contract.id
        return card_authenticate(portal, contract, exception,
            portal.url(base + '/card'), portal.url(base),
            _('msg_portal_back_contract'), _('msg_portal_replace_card'))
    return portal.redirect('/contracts/%s' % contract.id, done='card')


@route('/contracts/<int:contract_id>/pay', methods=['POST'])
def pay(portal, contract_id):
    "Charge the failed invoice again with the card on file"
    contract = own_contract(portal, contract_id)
    if not contract.dunning_invoice:
        raise NotFound()
    pay_failed_invoice(contract)
    return portal.redirect('/contracts/%s' % contract.id, done='pay')
