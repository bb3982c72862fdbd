# The portal's entry page and signing out
from werkzeug.exceptions import NotFound

from .web import route


@route('/')
def index(portal):
    "The entry page"
    return portal.render('index.html', title='')


@route('/sign-out', methods=['POST'])
def sign_out(portal):
    portal.sign_out()
    return portal.redirect('/')


@route('/<path:unknown>', methods=['GET', 'POST'], readonly=True)
def not_found(portal, unknown):
    "Any other address under the portal: its own 404 page"
    raise NotFound()
