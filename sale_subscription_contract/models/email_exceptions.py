# Errors of the customer e-mails and secure links; texts in
# data/customer_email.xml.
from trytond.exceptions import UserError


class AccessTokenError(UserError):
    pass


class CustomerEmailError(UserError):
    pass
