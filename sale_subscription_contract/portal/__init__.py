# The customer portal: pages on trytond's WSGI application (web.py is the
# request's way through; each other file is the pages of one concern)
from . import core, quotation  # noqa: F401
from . import contact, contract, payment  # noqa: F401
