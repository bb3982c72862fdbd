# The portal's entry page and signing out
from werkzeug.exceptions import NotFound

from .account import sign_in_page
from .home import home_page
from .web import route


@route('/')
def index(portal):
    "The entry page: the customer's home when signed in, else signing in"
    if portal.web_user and portal.parties:
        return home_page(portal)
    return sign_in_page(portal)


@route('/sign-out', methods=['POST'])
def sign_out(portal):
    portal.sign_out()
    return portal.redirect('/')


@route('/<path:unknown>', methods=['GET', 'POST'], readonly=True)
def not_found(portal, unknown):
    "Any other address under the portal: its own 404 page"
    raise NotFound()
