"""The customer portal in the demo (and the portal's bench): a customer who
signs in with a password, quotations waiting on their secure links."""
from trytond.pool import Pool

PASSWORD = 'Kunde-2026!'


def portal_account(party, password=PASSWORD):
    "Give party a portal account (the ERP's web user); return its e-mail"
    WebUser = Pool().get('web.user')
    email = party.email or f'kunde-{party.id}@demo.example'
    WebUser(email=email, party=party, password=password).save()
    return email


def quotation_for(contract):
    """A quotation to contract's customer for one more seat of its first
    service on the same plan, quoted (waiting for the customer)"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    SaleLine = pool.get('sale.line')
    Date = pool.get('ir.date')
    sale = Sale(party=contract.party, company=contract.company,
        sale_date=Date.today(), subscription_plan=contract.plan)
    sale.on_change_party()
    sale.payment_term = contract.payment_term
    line = SaleLine(sale=sale, type='line',
        product=contract.lines[0].service.product, quantity=1)
    line.on_change_product()
    sale.lines = [line]
    sale.save()
    Sale.quote([sale])
    return sale


def quotation_link(contract):
    "The secure link (full URL) of a new quotation to contract's customer"
    return quotation_for(contract).quotation_link()


def url_path(url):
    "The path of url, without scheme and host (the demo prints its own)"
    host_end = url.index('/', url.index('//') + 2)
    return url[host_end:]


def seed(contracts, quotations=3):
    """A portal account for the first running contract's customer and
    quotations for the next ones; return what `make demo` prints"""
    running = [c for c in contracts if c.state == 'running' and c.lines]
    if not running:
        return {}
    account = running[0]
    return {
        'email': portal_account(account.party),
        'password': PASSWORD,
        'customer': account.party.name,
        'quotations': [
            {'customer': c.party.name, 'path': url_path(quotation_link(c))}
            for c in running[1:1 + quotations]],
        }
