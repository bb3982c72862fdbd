# Dunning of contracts whose charge failed: the posted invoice stays, the
# contract is flagged "payment failed", the customer is told, and the
# plan's schedule retries the card and reminds the customer (by default 2, 7
# and 14 days after the first failure).  After auto_close_days the contract
# is closed with the reason "unpaid", or only suspended (no more billing
# until paid) by plan setting.  A successful retry or the invoice paid by
# other means clears the flag and stops the dunning.
import datetime

from sql import Null

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from ..exceptions import DunningScheduleError
from .sizes import CODE_SIZE

LOG_KINDS = [
    ('zero_amount', "Nothing to Charge"),
    ('no_method', "No Payment Method"),
    ('refused', "Charge Refused"),
    ('unknown', "Outcome Unknown"),
    ('retry', "Retry"),
    ('cleared', "Payment Received"),
    ('suspended', "Suspended"),
    ('resumed', "Resumed"),
    ('closed', "Closed Unpaid"),
    ]

class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    dunning_schedule = fields.Char("Dunning Schedule", size=CODE_SIZE,
        states={'invisible': Eval('invoicing_mode') != 'charge'},
        help="Days after the first failed charge on which the card is "
        "charged again and the customer reminded, separated by commas "
        "(e.g. 2,7,14).")
    auto_close_days = fields.Integer("Unpaid After (Days)",
        domain=['OR', ('auto_close_days', '=', None),
            ('auto_close_days', '>', 0)],
        states={'invisible': Eval('invoicing_mode') != 'charge'},
        help="Days after the first failed charge after which the contract "
        "is closed or suspended as unpaid. Leave empty never to.")
    unpaid_action = fields.Selection([
            ('close', "Close"),
            ('suspend', "Suspend"),
            ], "When Unpaid", required=True, sort=False,
        states={'invisible': Eval('invoicing_mode') != 'charge'},
        help="Close the contract with the reason \"unpaid\", or suspend it: "
        "it is not invoiced again until the invoice is paid.")

    @classmethod
    def default_dunning_schedule(cls):
        return '2,7,14'

    @classmethod
    def default_auto_close_days(cls):
        return 15

    @classmethod
    def default_unpaid_action(cls):
        return 'close'

    @property
    def dunning_days(self):
        "The retry days of the schedule, in ascending order"
        if not self.dunning_schedule:
            return []
        return [int(d) for d in self.dunning_schedule.split(',') if d.strip()]

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            try:
                days = plan.dunning_days
            except ValueError:
                days = None
            if days is None or any(d <= 0 for d in days) or days != sorted(
                    set(days)):
                raise DunningScheduleError(gettext(
                        'sale_subscription_contract.msg_dunning_schedule',
                        plan=plan.rec_name, schedule=plan.dunning_schedule))


class PaymentLog(ModelSQL, ModelView):
    "What the payment machinery did or asked for on a contract"
    __name__ = 'sale.subscription.payment_log'

    subscription = fields.Many2One('sale.subscription', "Contract",
        required=True, readonly=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True, readonly=True)
    kind = fields.Selection(LOG_KINDS, "Kind", required=True, readonly=True)
    invoice = fields.Many2One('account.invoice', "Invoice", readonly=True,
        ondelete='RESTRICT')
    payment = fields.Many2One('account.payment', "Payment", readonly=True,
        ondelete='RESTRICT')
    description = fields.Char("Description", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.subscription, Index.Equality())))


class ContractDunning(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    # derived from the unpaid invoice, never stored apart from it
    payment_failed = fields.Function(fields.Boolean("Payment Failed",
            help="The last charge failed and its invoice is not paid yet."),
        'get_payment_failed', searcher='search_payment_failed')
    payment_method_needed = fields.Boolean("New Payment Method Needed",
        readonly=True,
        states={'invisible': ~Eval('payment_failed')},
        help="The card was declined for good: it is not charged again until "
        "the customer gives another payment method.")
    payment_suspended = fields.Boolean("Suspended for Non-Payment",
        readonly=True,
        states={'invisible': ~Eval('payment_suspended')},
        help="Not invoiced again until the unpaid invoice is paid.")
    dunning_invoice = fields.Many2One('account.invoice', "Unpaid Invoice",
        readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('payment_failed')},
        help="The invoice whose charge failed.")
    dunning_started = fields.Date("First Failure", readonly=True,
        states={'invisible': ~Eval('payment_failed')},
        help="The day of the first failed charge; the dunning schedule "
        "counts from it.")
    dunning_step = fields.Integer("Reminders Sent", readonly=True,
        states={'invisible': ~Eval('payment_failed')})
    next_payment_retry = fields.Date("Next Retry", readonly=True,
        states={'invisible': ~Eval('next_payment_retry')},
        help="When the dunning runs next for this contract.")
    payment_attempts = fields.One2Many(
        'sale.subscription.payment_attempt', 'subscription',
        "Payment Attempts", readonly=True)
    payment_logs = fields.One2Many(
        'sale.subscription.payment_log', 'subscription', "Payment Log",
        readonly=True)
    last_payment = fields.Function(fields.Many2One(
            'account.payment', "Last Payment",
            help="The last payment that succeeded."), 'get_payment_status')
    failed_attempts = fields.Function(fields.Integer(
            "Failed Attempts",
            help="Failed charges of the unpaid invoice."),
        'get_payment_status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.dunning_invoice, Index.Equality()),
                where=t.dunning_invoice != Null))

    def get_payment_failed(self, name):
        return self.dunning_invoice is not None

    @classmethod
    def search_payment_failed(cls, name, clause):
        _, operator, value = clause
        failed = (operator == '=') == bool(value)
        return [('dunning_invoice', '!=' if failed else '=', None)]

    @classmethod
    def get_payment_status(cls, contracts, names):
        pool = Pool()
        Payment = pool.get('account.payment')
        Attempt = pool.get('sale.subscription.payment_attempt')
        result = {n: {c.id: None for c in contracts} for n in names}
        for contract in contracts:
            if 'last_payment' in names:
                payments = Payment.search([
                        ('subscription', '=', contract.id),
                        ('state', '=', 'succeeded'),
                        ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
                result['last_payment'][contract.id] = (
                    payments[0].id if payments else None)
            if 'failed_attempts' in names:
                result['failed_attempts'][contract.id] = Attempt.search([
                        ('subscription', '=', contract.id),
                        ('invoice', '=', contract.dunning_invoice),
                        ('result', '=', 'failed'),
                        ], count=True) if contract.dunning_invoice else 0
        return result

    def log_payment(self, kind, **values):
        log, = self.log_payments([(self, kind, values)])
        return log

    @classmethod
    def log_payments(cls, entries):
        "Record [(contract, kind, values)] in the payment log, in one write"
        Log = Pool().get('sale.subscription.payment_log')
        logs = [Log(subscription=contract, date=contract._today(), kind=kind,
                **values) for contract, kind, values in entries]
        Log.save(logs)
        return logs

    def _dunning_next(self, after_day):
        "The next dunning date after day after_day of the dunning, or None"
        for day in self.plan.dunning_days:
            if day > after_day:
                return self.dunning_started + datetime.timedelta(days=day)
        if self.plan.auto_close_days:
            return self.dunning_started + datetime.timedelta(
                days=self.plan.auto_close_days)
        return None

    def payment_failed_for(self, payment, result):
        "A charge failed: flag, tell the customer, schedule the dunning"
        today = self._today()
        hard = not result.retryable
        if self.dunning_invoice != payment.subscription_invoice:
            self.dunning_invoice = payment.subscription_invoice
            self.dunning_started = today
            self.dunning_step = 0
            self.next_payment_retry = self._dunning_next(0)
        if hard:
            self.payment_method_needed = True
        if hard or self.dunning_step == 0:
            # a soft decline of a retry is said by the next reminder
            self.notify_customer('payment_failed',
                invoice=payment.subscription_invoice, payment=payment,
                hard=hard)
        self.save()

    def payment_received(self, invoice):
        "The unpaid invoice is paid: clear the flag and stop the dunning"
        if invoice is None or self.dunning_invoice != invoice:
            return
        self.payment_method_needed = False
        self.dunning_invoice = None
        self.dunning_started = None
        self.dunning_step = None
        self.next_payment_retry = None
        self.log_payment('cleared', invoice=invoice)
        if self.payment_suspended:
            self.payment_suspended = False
            # the suspended periods are not invoiced afterwards
            self.skip_periods_before(self._today())
            self.update_next_billing_date()
            self.log_payment('resumed', invoice=invoice)
        self.save()

    def payment_succeeded_for(self, payment):
        Invoice = Pool().get('account.invoice')
        invoice = Invoice(payment.subscription_invoice.id)
        if self.invoice_settled(invoice):
            self.payment_received(invoice)

    @staticmethod
    def invoice_settled(invoice):
        # the ledger decides: the invoice moves to "paid" in a queue task
        # of the ERP, after its receivable lines are reconciled
        return invoice.state == 'paid' or bool(invoice.lines_to_pay) and all(
            l.reconciliation for l in invoice.lines_to_pay)

    @classmethod
    def run_payment_dunning(cls, date=None):
        """Cron: for each contract whose payment failed, clear it when its
        invoice was paid by other means, retry and remind when due, and
        close or suspend it when unpaid for too long"""
        pool = Pool()
        Date = pool.get('ir.date')
        Payment = pool.get('account.payment')
        if date is None:
            date = Date.today()
        contracts = cls.search([
                ('payment_failed', '=', True),
                ('company', '=', Transaction().context.get('company')),
                ])
        retries = []
        for contract in contracts:
            invoice = contract.dunning_invoice
            if invoice is None or contract.invoice_settled(invoice):
                contract.payment_received(invoice)
                continue
            if (not contract.next_payment_retry
                    or contract.next_payment_retry > date
                    or contract.state not in {'running', 'paused'}):
                continue
            if contract._charge_in_progress(invoice):
                continue  # the janitor settles it first
            day = (date - contract.dunning_started).days
            plan = contract.plan
            if plan.auto_close_days and day >= plan.auto_close_days:
                contract.dunning_unpaid(date)
                continue
            contract.dunning_step = (contract.dunning_step or 0) + 1
            contract.next_payment_retry = contract._dunning_next(day)
            contract.save()
            contract.notify_customer('payment_reminder', invoice=invoice,
                step=contract.dunning_step)
            if contract.payment_method_needed:
                continue  # a hard decline waits for a new method
            try:
                payment = contract.new_charge(invoice)
            except UserError as exception:
                contract.log_payment('refused', invoice=invoice,
                    description=exception.message)
                continue
            if payment:
                contract.log_payment('retry', invoice=invoice,
                    description=str(contract.dunning_step))
                retries.append(payment)
        if retries:
            Payment.subscription_start(retries)
        return retries

    def _charge_in_progress(self, invoice):
        Payment = Pool().get('account.payment')
        return bool(Payment.search([
                    ('subscription_invoice', '=', invoice.id),
                    ('state', 'in', ['draft', 'submitted', 'processing']),
                    ], limit=1))

    def dunning_unpaid(self, date):
        "Unpaid for too long: close with the reason unpaid, or suspend"
        pool = Pool()
        Reason = pool.get('sale.subscription.close_reason')
        self.next_payment_retry = None
        if self.plan.unpaid_action == 'suspend':
            self.payment_suspended = True
            self.save()
            self.log_payment('suspended', invoice=self.dunning_invoice)
            return
        self.save()
        reasons = Reason.search([('code', '=', 'unpaid')], limit=1)
        self.close_contracts([self], reasons[0] if reasons else None, date)
        self.log_payment('closed', invoice=self.dunning_invoice)

    @classmethod
    def claim(cls, ids, date):
        # a contract suspended for non-payment is not invoiced
        return [c for c in super().claim(ids, date)
            if not c.payment_suspended]

    @classmethod
    def write(cls, *args):
        # a new payment method ends the wait after a hard decline: the
        # next dunning run charges it (written with the new method)
        actions = iter(args)
        args = []
        for contracts, values in zip(actions, actions):
            waiting = [c for c in contracts
                if values.get('payment_method') and c.payment_method_needed]
            if not waiting:
                args.extend([contracts, values])
                continue
            others = [c for c in contracts if c not in waiting]
            if others:
                args.extend([others, values])
            args.extend([waiting, {**values,
                        'payment_method_needed': False,
                        'next_payment_retry': waiting[0]._today(),
                        }])
        super().write(*args)
