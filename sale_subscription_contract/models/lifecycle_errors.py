# Errors of the contract lifecycle (pause, trial, renewal, setup fee); their
# texts are in data/lifecycle.xml.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class LifecyclePlanError(ValidationError):
    pass


class PauseError(UserError):
    pass


class RenewalError(UserError):
    pass
