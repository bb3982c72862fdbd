# The signed-in customer's home: subscriptions, quotations to accept, sales
# orders, invoices (with their PDF); only the documents of the parties the
# web user stands for.
from werkzeug.exceptions import NotFound

from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction

from .web import _, route

SHOWN_CONTRACT_STATES = ['running', 'paused']
SHOWN_INVOICE_STATES = ['posted', 'paid']


def signed_in(portal):
    "The parties of the signed-in customer; nobody signed in: 404"
    if not portal.parties:
        raise NotFound()
    return portal.parties


def work_for(contract):
    """The contract read again as its company's: the ERP's methods take the
    company from the context (set for the rest of the request)"""
    company = contract.company.id
    Transaction().set_context(company=company, companies=[company])
    return contract.__class__(contract.id)


def home_page(portal):
    pool = portal.pool
    Contract = pool.get('sale.subscription')
    Sale = pool.get('sale.sale')
    parties = [p.id for p in signed_in(portal)]
    contracts = Contract.search([
            ('party', 'in', parties),
            ('state', 'in', SHOWN_CONTRACT_STATES),
            ], order=[('start_date', 'DESC'), ('id', 'DESC')])
    # sent to the customer: a draft is still the salesperson's
    quotations = Sale.search([
            ('party', 'in', parties),
            ('state', '=', 'quotation'),
            ], order=[('id', 'DESC')])
    orders = Sale.search([
            ('party', 'in', parties),
            ('state', 'in', ['confirmed', 'processing', 'done']),
            ], order=[('sale_date', 'DESC'), ('id', 'DESC')], limit=20)
    invoices = customer_invoices(parties, limit=50)
    return portal.render('home.html', title=_('msg_portal_home'),
        contracts=contracts, quotations=quotations, orders=orders,
        invoices=invoices)


@route('/quotations/<int:sale_id>', methods=['POST'])
def open_quotation(portal, sale_id):
    """The quotation page of one of the customer's quotations: a new link
    (as the e-mail's), the page is the same for both ways in"""
    Sale = portal.pool.get('sale.sale')
    sales = Sale.search([
            ('id', '=', sale_id),
            ('party', 'in', [p.id for p in signed_in(portal)]),
            ('state', '=', 'quotation'),
            ], limit=1)
    if not sales:
        raise NotFound()
    return portal.redirect('/quotation/%s' % sales[0].quotation_token())


def customer_invoices(parties, domain=None, limit=None):
    "The customer's posted and paid invoices, newest first"
    Invoice = Pool().get('account.invoice')
    return Invoice.search([
            ('party', 'in', parties),
            ('type', '=', 'out'),
            ('state', 'in', SHOWN_INVOICE_STATES),
            ] + (domain or []),
        order=[('invoice_date', 'DESC'), ('id', 'DESC')], limit=limit)


@route('/invoices/<int:invoice_id>.pdf', readonly=False)
def invoice_pdf(portal, invoice_id):
    "The ERP's invoice print of one of the customer's own invoices"
    pool = portal.pool
    ModelData = pool.get('ir.model.data')
    ActionReport = pool.get('ir.action.report')
    Email = pool.get('sale.subscription.customer_email')
    parties = [p.id for p in signed_in(portal)]
    invoices = customer_invoices(parties, [('id', '=', invoice_id)])
    if not invoices:
        raise NotFound()
    invoice, = invoices
    report = ActionReport(ModelData.get_id(
            'sale_subscription_contract', 'report_invoice_pdf'))
    # the same PDF as the invoice e-mail's; the first print is kept by the
    # ERP (hence not read-only)
    name, data = Email()._get_pdf(report, invoice)
    response = Response(data, content_type='application/pdf')
    response.headers['Content-Disposition'] = (
        'inline; filename="%s"' % name.replace('"', ''))
    return response
