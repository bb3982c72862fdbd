# The customer's contact data: name, e-mail and phone of the party, and the
# billing address. A changed address is a new address, used by the
# contracts' future invoices; posted invoices keep the one they were
# posted with (the old address is deactivated, never changed).
from .home import signed_in
from . import forms
from .web import _, route

INVOICE_STATES = ['draft', 'quotation', 'running', 'paused']


def contact_of(party, kind):
    for mechanism in party.contact_mechanisms:
        if mechanism.type == kind and mechanism.active:
            return mechanism
    return None


def billing_address(party):
    return party.address_get(type='invoice')


def contact_page(portal, done=None):
    Country = portal.pool.get('country.country')
    party = signed_in(portal)[0]
    email, phone = contact_of(party, 'email'), contact_of(party, 'phone')
    return portal.render('contact.html', title=_('msg_portal_contact'),
        party=party, email=email.value if email else '',
        phone=phone.value if phone else '',
        address=billing_address(party), countries=Country.search([]),
        done=done)


@route('/contact')
def contact(portal):
    return contact_page(portal, done=portal.request.args.get('done'))


@route('/contact', methods=['POST'])
def contact_save(portal):
    pool = portal.pool
    Party = pool.get('party.party')
    Mechanism = pool.get('party.contact_mechanism')
    Address = pool.get('party.address')
    Contract = pool.get('sale.subscription')
    Country = pool.get('country.country')
    party = signed_in(portal)[0]
    name = forms.text(portal, 'name', 'msg_portal_name_field')
    email = forms.email(portal, 'email', 'msg_portal_email')
    phone = forms.phone(portal, 'phone', 'msg_portal_phone')
    street = forms.text(portal, 'street', 'msg_portal_street')
    postal_code = forms.text(portal, 'postal_code', 'msg_portal_postal_code',
        size=20)
    city = forms.text(portal, 'city', 'msg_portal_city')
    country = forms.choice(portal, 'country', 'msg_portal_country',
        Country.search([]))

    if party.name != name:
        Party.write([party], {'name': name})
    for kind, value in [('email', email), ('phone', phone)]:
        mechanism = contact_of(party, kind)
        if mechanism and mechanism.value != value:
            if value:
                mechanism.value = value
            else:
                mechanism.active = False
            # the ERP checks the e-mail and phone formats
            mechanism.save()
        elif not mechanism and value:
            Mechanism(party=party, type=kind, value=value).save()

    old = billing_address(party)
    new = (street, postal_code, city, country)
    if not old or (old.street_unstructured, old.postal_code, old.city,
            old.country) != new:
        address = Address(party=party, street_unstructured=street,
            postal_code=postal_code, city=city, country=country,
            invoice=True)
        address.save()
        # the contracts' next invoices go there; posted ones keep theirs
        contracts = Contract.search([
                ('party', '=', party.id),
                ('state', 'in', INVOICE_STATES),
                # a contract invoiced to another party keeps its address
                ('invoice_party', 'in', [None, party.id]),
                ])
        if contracts:
            Contract.write(contracts, {'invoice_address': address.id})
        if old:
            Address.write([old], {'active': False})
    return portal.redirect('/contact', done='1')
