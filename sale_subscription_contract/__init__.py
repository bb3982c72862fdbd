# Models are registered by tryton.cfg; importing the portal registers its
# pages on trytond's WSGI application
from . import portal

__all__ = [portal]
