# Reading a portal form: every value is checked here, before any model sees
# it, so that a tampered form (a huge or non-numeric value, an id not
# offered) is refused with a clear message (400) and nothing is written.
import re
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext

from ..exceptions import PortalInputError

MODULE = 'sale_subscription_contract'
# a name, an e-mail, a street: longer is not a real value
TEXT_SIZE = 200
# a comment
LONG_TEXT_SIZE = 2000
# quantities a customer may order themselves
MAX_QUANTITY = 10000
# what the ERP can send to (letters of any script, no quotes, brackets or
# spaces); the mail server says the rest
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+")
# digits with the usual separators, an international prefix
PHONE = re.compile(r'\+?[0-9][0-9 ()./-]{3,29}')
# control characters have no place in a form's text (a NUL is not even
# stored by PostgreSQL); tabs and line breaks only in a text area
CONTROL = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
LINE_BREAK = re.compile(r'[\t\r\n]')


def _refuse(field, message='msg_portal_input_invalid', **values):
    raise PortalInputError(gettext('%s.%s' % (MODULE, message),
            field=gettext('%s.%s' % (MODULE, field)), **values))


def text(portal, name, field, size=TEXT_SIZE, required=True, strip=True,
        multiline=False):
    """The (stripped) text of name; field is the message id of its label;
    line breaks only when multiline (a text area)"""
    value = portal.request.form.get(name, '')
    if len(value) > size:
        _refuse(field, 'msg_portal_input_too_long', size=size)
    if CONTROL.search(value) or (
            not multiline and LINE_BREAK.search(value)):
        _refuse(field)
    if strip:
        value = value.strip()
    if required and not value:
        _refuse(field, 'msg_portal_input_required')
    return value or None


def email(portal, name, field):
    "An e-mail address"
    value = text(portal, name, field)
    if not EMAIL.fullmatch(value):
        _refuse(field)
    return value


def phone(portal, name, field, required=False):
    "A phone number, or None when not required and empty"
    value = text(portal, name, field, size=30, required=required)
    if value is not None and not PHONE.fullmatch(value):
        _refuse(field)
    return value


def integer(portal, name, field, minimum=0, maximum=MAX_QUANTITY,
        required=True):
    "The whole number of name, within minimum and maximum"
    value = text(portal, name, field, size=20, required=required)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        _refuse(field)
    if not minimum <= number <= maximum:
        _refuse(field, 'msg_portal_input_range',
            minimum=minimum, maximum=maximum)
    return number


def quantity(portal, name, field, unit, minimum=0):
    """A quantity of unit as a float, within bounds and with no more
    decimals than the unit has (seats are whole)"""
    value = text(portal, name, field, size=20)
    try:
        number = Decimal(value.replace(',', '.'))
    except InvalidOperation:
        _refuse(field)
    if not number.is_finite() or not minimum <= number <= MAX_QUANTITY:
        _refuse(field, 'msg_portal_input_range',
            minimum=minimum, maximum=MAX_QUANTITY)
    if number != round(number, unit.digits if unit else 0):
        _refuse(field)
    return float(number)


def choice(portal, name, field, offered, required=True):
    """The record of offered whose id name holds: an id not offered (another
    customer's, a plan not related) is refused like any wrong value"""
    value = text(portal, name, field, size=20, required=required)
    if value is None:
        return None
    by_id = {str(r.id): r for r in offered}
    if value not in by_id:
        _refuse(field)
    return by_id[value]
