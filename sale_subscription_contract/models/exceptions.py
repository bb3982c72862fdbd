# Errors raised by sale_subscription_contract; their texts are in data/message.xml.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class PlanError(ValidationError):
    pass


class RecurringLineError(ValidationError):
    pass


class ContractStartError(ValidationError):
    pass


class ContractStateError(UserError):
    pass


class ClosedContractError(AccessError):
    pass


class BillingDateError(UserError):
    pass


class BillingError(UserError):
    pass


class QuotationExpiredError(UserError):
    pass


class PreviewError(UserError):
    pass


class ContractLineError(ValidationError):
    pass


class InputValueError(ValidationError):
    "A value of the wrong type for its field (e.g. over RPC)"
