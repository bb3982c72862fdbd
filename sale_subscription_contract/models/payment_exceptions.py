# Errors of the automatic payment; their texts are in data/payment.xml.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class CardNumberError(ValidationError):
    pass


class TestProcessorDisabledError(UserError):
    pass


class CardExpiredError(ValidationError):
    pass


class CardSecurityCodeError(ValidationError):
    pass


class PaymentMethodPartyError(ValidationError):
    pass


class ChargeAmountError(UserError):
    pass


class DunningScheduleError(ValidationError):
    pass


class StripeMethodError(ValidationError):
    pass
