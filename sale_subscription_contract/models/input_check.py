# Values of the wrong type (over RPC: a string for a date or a quantity, a
# dict for a name) would fail deep in the ORM or the database with a raw
# Python error; a text longer than the database can index would fail with
# a database error. create() and write() of the module's models check each
# value against its field first and answer with a translated user error;
# nothing is written. Values Tryton converts itself (an ISO date string, a
# number as text) are converted here already, so the module's own create
# and write overrides see the field's type.
#
# The check is applied by tryton.cfg's [register_mixin] to CHECKED only:
# the module's own models and the contract and its lines (which the module
# owns, although the ERP defines them). Pool.setup_mixin puts the mixin in
# front of every override, whatever the order of [register].
import datetime
import math
import re
from decimal import Decimal

from sql import Column, Expression, Query

from trytond.i18n import gettext
from trytond.model import Model
from trytond.model.exceptions import SizeValidationError

from .access_token import AccessToken
from .adjustment import Adjustment
from .billing import BillingPeriod
from .change_plan import PlanRelated
from .close_reason import CloseReason
from .contract import Contract, ContractLine
from .customer_email import CustomerEmail
from .dunning import PaymentLog
from ..exceptions import InputValueError
from .mrr import MRREvent
from .payment import PaymentAttempt
from .payment_method import PaymentMethod
from .payment_processor import TestCard, TestCharge
from .plan import Plan
from .quotation_template import (
    QuotationTemplate, QuotationTemplateLine, QuotationTemplateOption,
    SaleOption)
from .sales_team import SalesTeam, SalesTeamEmployee

CHECKED = (
    Contract, ContractLine, Plan, PlanRelated, CloseReason, SalesTeam,
    SalesTeamEmployee, QuotationTemplate, QuotationTemplateLine,
    QuotationTemplateOption, SaleOption, MRREvent, BillingPeriod,
    Adjustment, PaymentMethod, PaymentAttempt, PaymentLog, TestCard,
    TestCharge, AccessToken, CustomerEmail)

# a Char without a size of its own that the database indexes holds at most
# this many characters: a PostgreSQL index row takes 2,704 bytes, and a
# character up to 4 of them in UTF-8
INDEXED_CHAR_SIZE = 600
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1  # an INTEGER column
ACTIONS = {'create', 'write', 'delete', 'add', 'remove', 'copy'}
_INTEGER = re.compile(r'\s*[+-]?\d+\s*\Z')


class _Invalid(Exception):
    "The value does not fit its field; args: the message id"


def _text(value, limit=40):
    "The value as the error message shows it: short, whatever its type"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + '…'


def _number(value, convert):
    if isinstance(value, bool):
        raise _Invalid('msg_input_not_number')
    if isinstance(value, str):
        try:
            value = convert(value.strip())
        except (ValueError, ArithmeticError):
            raise _Invalid('msg_input_not_number')
    elif not isinstance(value, (int, float, Decimal)):
        raise _Invalid('msg_input_not_number')
    if isinstance(value, (float, Decimal)) and not math.isfinite(value):
        raise _Invalid('msg_input_not_number')
    return value


def _numeric(value):
    return _number(value, Decimal)


def _float(value):
    return _number(value, float)


def _integer(value, low=INT_MIN, high=INT_MAX):
    if isinstance(value, str) and _INTEGER.match(value):
        value = int(value)
    elif (isinstance(value, (float, Decimal)) and math.isfinite(value)
            and value == int(value)):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid('msg_input_not_integer')
    if not low <= value <= high:
        raise _Invalid('msg_input_out_of_range')
    return value


def _record(value):
    if isinstance(value, Model):  # the module's code passes records too
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid('msg_input_not_record')
    return _integer(value, 0)


def _date(value):
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid('msg_input_not_date')
    if (isinstance(value, datetime.datetime)
            or not isinstance(value, datetime.date)):
        raise _Invalid('msg_input_not_date')
    return value


def _datetime(value):
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid('msg_input_not_date')
    if not isinstance(value, datetime.datetime):
        raise _Invalid('msg_input_not_date')
    return value


def _boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    raise _Invalid('msg_input_not_boolean')


def _selection(value):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Invalid('msg_input_invalid')
    return value


def _reference(value):
    if isinstance(value, Model) or isinstance(value, str) and ',' in value:
        return value
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and isinstance(value[0], str)):
        _integer(value[1])
        return value
    raise _Invalid('msg_input_invalid')


def _actions(value):
    "The list of actions of a One2Many or Many2Many"
    if not isinstance(value, (list, tuple)):
        raise _Invalid('msg_input_invalid')
    for action in value:
        if (not isinstance(action, (list, tuple)) or not action
                or action[0] not in ACTIONS):
            raise _Invalid('msg_input_invalid')
        kind, *args = action
        if kind == 'create':
            if len(args) != 1 or not isinstance(args[0], (list, tuple)) \
                    or not all(isinstance(v, dict) for v in args[0]):
                raise _Invalid('msg_input_invalid')
        elif kind == 'write':
            if len(args) < 2 or len(args) % 2:
                raise _Invalid('msg_input_invalid')
            for ids, values in zip(args[::2], args[1::2]):
                _ids(ids)
                if not isinstance(values, dict):
                    raise _Invalid('msg_input_invalid')
        else:
            if not args:
                raise _Invalid('msg_input_invalid')
            _ids(args[0])
    return value


def _ids(ids):
    if not isinstance(ids, (list, tuple)):
        raise _Invalid('msg_input_invalid')
    for id_ in ids:
        _record(id_)


def _typed(*types):
    def check(value):
        if not isinstance(value, types):
            raise _Invalid('msg_input_invalid')
        return value
    return check


def _multiselection(value):
    if (not isinstance(value, (list, tuple))
            or not all(isinstance(v, str) for v in value)):
        raise _Invalid('msg_input_invalid')
    return value


CONVERTERS = {
    'numeric': _numeric,
    'float': _float,
    'integer': _integer,
    'many2one': _record,
    'one2one': _record,
    'date': _date,
    'datetime': _datetime,
    'timestamp': _datetime,
    'time': _typed(datetime.time),
    'timedelta': _typed(datetime.timedelta),
    'boolean': _boolean,
    'selection': _selection,
    'multiselection': _multiselection,
    'reference': _reference,
    'one2many': _actions,
    'many2many': _actions,
    'dict': _typed(dict),
    }


def _indexed_columns(cls):
    "The names of the columns of cls's indexes and unique constraints"
    names = set()

    def walk(expression):
        if isinstance(expression, Column):
            names.add(expression.name)
        elif isinstance(expression, (list, tuple)):
            for item in expression:
                walk(item)
        elif isinstance(expression, Expression):  # e.g. Coalesce(column)
            for klass in type(expression).__mro__:
                slots = getattr(klass, '__slots__', ())
                for slot in [slots] if isinstance(slots, str) else slots:
                    walk(getattr(expression, slot, None))
    for index in getattr(cls, '_sql_indexes', ()):
        walk(index.expressions)
    for _, constraint, _ in getattr(cls, '_sql_constraints', ()):
        walk(getattr(constraint, 'columns', ()))
    return names


class InputCheckMixin:
    "Check the types and lengths of the values given to create and write"
    __slots__ = ()

    @classmethod
    def create(cls, vlist):
        if (isinstance(vlist, (dict, str, bytes))
                or not hasattr(vlist, '__iter__')):
            cls._raise_input('msg_input_not_values')
        return super().create([cls.check_input(v) for v in vlist])

    @classmethod
    def write(cls, *args):
        if len(args) < 2 or len(args) % 2:
            cls._raise_input('msg_input_not_values')
        args = list(args)
        for i in range(1, len(args), 2):
            args[i] = cls.check_input(args[i])
        super().write(*args)

    @classmethod
    def check_input(cls, values):
        "Return values converted to their fields' types, or raise"
        if not isinstance(values, dict):
            cls._raise_input('msg_input_not_values')
        checked = {}
        for name, value in values.items():
            field = cls._fields.get(name) if isinstance(name, str) else None
            if field is None:
                cls._raise_input('msg_input_unknown_field', field=_text(name))
            if value is not None and not isinstance(
                    value, (Query, Expression)):
                try:
                    value = cls._check_value(name, field, value)
                except _Invalid as invalid:
                    cls._raise_input(invalid.args[0], name, value=value)
            checked[name] = value
        return checked

    @classmethod
    def _check_value(cls, name, field, value):
        if field._type in {'char', 'text', 'full_text'}:
            if not isinstance(value, str):
                raise _Invalid('msg_input_not_text')
            if '\x00' in value:
                raise _Invalid('msg_input_invalid')
            if field._type == 'char':
                cls._check_size(name, field, value)
            return value
        converter = CONVERTERS.get(field._type)
        return converter(value) if converter else value

    @classmethod
    def _check_size(cls, name, field, value):
        size = getattr(field, 'size', None)
        if not isinstance(size, int):
            if name not in _indexed_columns(cls):
                return
            size = INDEXED_CHAR_SIZE
        if len(value) > size:
            names = cls.__names__(name)
            raise SizeValidationError(gettext('ir.msg_size_validation',
                    value=_text(value), size=len(value), max_size=size,
                    **names))

    @classmethod
    def _raise_input(cls, message, name=None, **values):
        names = cls.__names__(name) if name else cls.__names__()
        if 'value' in values:
            values['value'] = _text(values['value'])
        names.update(values)
        raise InputValueError(gettext(
                'sale_subscription_contract.' + message, **names))
