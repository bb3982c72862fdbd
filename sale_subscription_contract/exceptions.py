# The errors of sale_subscription_contract, as the ERP keeps them: in one
# module. The texts of the user errors are in the data/*.xml messages.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


# Contracts, plans and billing
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


class DiscountError(ValidationError):
    pass


class InputValueError(ValidationError):
    "A value of the wrong type for its field (e.g. over RPC)"


# Changes, pause, trial, renewal, setup fee
class ChangeError(UserError):
    pass


class ChangeAccessError(UserError):
    pass


class LifecyclePlanError(ValidationError):
    pass


class PauseError(UserError):
    pass


class RenewalError(UserError):
    pass


# Payments and dunning
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


# Customer e-mails and secure links
class AccessTokenError(UserError):
    pass


class CustomerEmailError(UserError):
    pass


# Answers of a payment gateway (not user errors: the charge code reads them)
class ProcessorError(Exception):
    "The gateway answered something that is not a result (garbage)"


class ProcessorTimeout(Exception):
    "The gateway did not answer: the charge may or may not have happened"


# The quotation page of the customer portal
class QuotationPortalError(UserError):
    pass


class StripeCardError(UserError):
    "Stripe refused the card a customer entered in a portal page"


class CardAuthenticationRequired(UserError):
    """The customer's bank asks them to confirm the card (3-D Secure): the
    page lets Stripe.js do it with the setup intent's client secret, then
    posts again with the setup intent's id"""

    def __init__(self, message, setup_intent, client_secret):
        super().__init__(message)
        self.setup_intent = setup_intent
        self.client_secret = client_secret


# The customer portal
class PortalInputError(UserError):
    "A value of a portal form that cannot be taken: nothing is written"
    pass
