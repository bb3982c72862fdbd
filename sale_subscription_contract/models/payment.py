# Renewal by charge: after the billing run posted the invoice of a contract
# whose plan charges a payment method, a payment (account.payment on the
# invoice's receivable line, with an idempotency key derived from the
# invoice) is written in the billing transaction, and a queue task charges it
# once that transaction has committed.  A crash anywhere leaves the posted
# invoice and a "processing" payment with its key; the janitor asks the
# processor what became of it instead of charging again.
# Success books the payment the ERP's way (account_payment_clearing): a
# clearing move reconciled with the receivable line, so the invoice is paid.
import datetime
import uuid
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from ..exceptions import ChargeAmountError, ProcessorError, ProcessorTimeout
from .payment_processor import FAILED, SUCCEEDED, UNKNOWN, ChargeResult

# a payment left without any attempt this long is taken over by the janitor
# (its queue task was lost)
JANITOR_GRACE = datetime.timedelta(hours=1)


class PaymentAttempt(ModelSQL, ModelView):
    "One call to a processor to charge a payment, and what it answered"
    __name__ = 'sale.subscription.payment_attempt'

    subscription = fields.Many2One('sale.subscription', "Contract",
        required=True, readonly=True, ondelete='CASCADE')
    payment = fields.Many2One('account.payment', "Payment", required=True,
        readonly=True, ondelete='RESTRICT')
    invoice = fields.Many2One('account.invoice', "Invoice", readonly=True,
        ondelete='RESTRICT')
    date = fields.Date("Date", required=True, readonly=True)
    processor = fields.Char("Processor", readonly=True,
        help="The process method of the payment journal that was asked.")
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        required=True, readonly=True)
    idempotency_key = fields.Char("Idempotency Key", required=True,
        readonly=True,
        help="Charging twice with this key charges the customer once.")
    result = fields.Selection([
            (SUCCEEDED, "Succeeded"),
            (FAILED, "Failed"),
            (UNKNOWN, "Unknown"),
            ], "Result", required=True, readonly=True,
        help="Unknown: the processor gave no usable answer; the janitor "
        "asks it again later, the card is not charged again.")
    error_code = fields.Char("Error Code", readonly=True)
    error_message = fields.Char("Error Message", readonly=True)
    reference = fields.Char("Processor Reference", readonly=True,
        help="The processor's id of the charge, e.g. Stripe's payment "
        "intent, to find it in the processor's dashboard.")
    settled_on = fields.Date("Settled On", readonly=True,
        help="The day the janitor learned the result of an unknown outcome.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.subscription, Index.Equality()),
                (t.id, Index.Range(order='DESC'))))


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    subscription = fields.Many2One('sale.subscription', "Contract",
        readonly=True, ondelete='RESTRICT',
        help="The contract whose invoice the payment charges.")
    subscription_invoice = fields.Many2One('account.invoice',
        "Charged Invoice", readonly=True, ondelete='RESTRICT')
    subscription_payment_method = fields.Many2One(
        'sale.subscription.payment_method', "Payment Method", readonly=True,
        ondelete='RESTRICT')
    subscription_key = fields.Char("Idempotency Key", readonly=True,
        help="The key the processor is charged with; "
        "the same key never charges twice.")
    subscription_attempt = fields.Integer("Charge Number", readonly=True,
        help="Which charge of the invoice this is: each number is charged "
        "once, so two charges started at the same moment (a double click, "
        "the customer and the dunning) cannot both be made.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('subscription_key_unique', Unique(t, t.subscription_key),
                'sale_subscription_contract.msg_payment_key_unique'),
            # the second of two charges started at once computes the same
            # number: its INSERT waits for the first and is refused
            ('subscription_attempt_unique',
                Unique(t, t.subscription_invoice, t.subscription_attempt),
                'sale_subscription_contract.msg_payment_attempt_unique'),
            ]

    @classmethod
    def process_method_with_group(cls):
        return super().process_method_with_group() + ['subscription_test']

    @classmethod
    def copy(cls, payments, default=None):
        default = default.copy() if default else {}
        default.setdefault('subscription_key', None)
        default.setdefault('subscription_attempt', None)
        return super().copy(payments, default=default)

    @classmethod
    def subscription_start(cls, payments):
        """Move new charge payments to processing, in a group per journal,
        and queue their charge: it runs after this transaction committed"""
        pool = Pool()
        Group = pool.get('account.payment.group')
        cls.save(payments)
        cls.submit(payments)
        by_journal = {}
        for payment in payments:
            by_journal.setdefault(payment.journal, []).append(payment)
        with_group = cls.process_method_with_group()
        for journal, journal_payments in by_journal.items():
            def group(journal=journal):
                group = Group(company=journal.company, journal=journal,
                    kind='receivable')
                group.save()
                return group
            # as the ERP's process wizard: a method without group (Stripe)
            # is processed payment by payment
            cls.process(journal_payments,
                group if journal.process_method in with_group else None)
        for payment in payments:
            # one task per payment: one gateway failure does not hold others
            cls.__queue__.subscription_charge([payment])

    @classmethod
    def subscription_charge(cls, payments):
        "Queue task: charge payments still waiting for their first answer"
        payments = cls.browse([p.id for p in payments])
        # a task run twice at once must not charge twice
        cls.lock(payments)
        for payment in payments:
            if (payment.state != 'processing' or not payment.subscription_key
                    or payment.subscription_attempts()):
                continue  # already charged or settled: never twice
            payment.subscription_call('charge')

    def subscription_attempts(self):
        Attempt = Pool().get('sale.subscription.payment_attempt')
        return Attempt.search([('payment', '=', self.id)])

    def subscription_call(self, action):
        """Ask the processor (action 'charge' or 'lookup'), record the
        attempt and settle the payment on a definite answer"""
        pool = Pool()
        Attempt = pool.get('sale.subscription.payment_attempt')
        method = self.subscription_payment_method
        today = self.subscription._today()
        result = None
        if action == 'lookup':
            result = self._subscription_ask('lookup')
            if result is None:
                # the processor never saw the key: charging with it is safe
                action = 'charge'
        if action == 'charge':
            if method is None or not method.active:
                result = ChargeResult(FAILED, 'invalid_payment_method',
                    gettext('sale_subscription_contract'
                        '.msg_charge_no_method', payment=self.rec_name))
            elif method.is_expired(today):
                # refused before asking the gateway, like a bank would
                result = ChargeResult(FAILED, 'expired_card', gettext(
                        'sale_subscription_contract.msg_charge_card_expired',
                        method=method.rec_name,
                        expiry=f"{method.exp_month:02d}/{method.exp_year}"))
            else:
                result = self._subscription_ask('charge')
        unknown = [a for a in self.subscription_attempts()
            if a.result == UNKNOWN]
        if unknown:
            # the janitor learned what became of an unknown outcome
            attempt = unknown[0]
            attempt.result = result.status
            attempt.error_code = result.code
            attempt.error_message = result.message
            attempt.reference = result.reference or attempt.reference
            if result.status != UNKNOWN:
                attempt.settled_on = today
        else:
            attempt = Attempt(subscription=self.subscription, payment=self,
                invoice=self.subscription_invoice, date=today,
                processor=self.journal.process_method, amount=self.amount,
                currency=self.currency, idempotency_key=self.subscription_key,
                result=result.status, error_code=result.code,
                error_message=result.message, reference=result.reference)
        attempt.save()
        self.subscription.settle_payment(self, result)
        return result

    def _subscription_ask(self, action):
        "The processor's answer as a ChargeResult; UNKNOWN when it has none"
        processor = self.journal.subscription_processor()
        try:
            if action == 'lookup':
                answer = processor.lookup(self.subscription_key)
                if answer is None:
                    return None
            else:
                answer = processor.charge(self, self.subscription_key)
        except ProcessorTimeout:
            return ChargeResult(UNKNOWN, 'timeout', gettext(
                    'sale_subscription_contract.msg_charge_timeout',
                    payment=self.rec_name))
        except ProcessorError as exception:
            return ChargeResult(UNKNOWN, 'invalid_response', gettext(
                    'sale_subscription_contract.msg_charge_garbage',
                    payment=self.rec_name, answer=str(exception)[:100]))
        if (not isinstance(answer, ChargeResult)
                or answer.status not in {SUCCEEDED, FAILED, UNKNOWN}):
            return ChargeResult(UNKNOWN, 'invalid_response', gettext(
                    'sale_subscription_contract.msg_charge_garbage',
                    payment=self.rec_name, answer=repr(answer)[:100]))
        return answer

    @classmethod
    def subscription_janitor(cls):
        """Cron: settle the charges whose outcome is unknown by asking the
        processor with their key; never charge them blindly again"""
        # create_date is stored in UTC without time zone
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        payments = cls.search([
                ('state', '=', 'processing'),
                ('subscription_key', '!=', None),
                ('company', '=', Transaction().context.get('company')),
                ])
        settled = []
        for payment in payments:
            attempts = payment.subscription_attempts()
            if not attempts and payment.create_date > now - JANITOR_GRACE:
                continue  # its queue task has not run yet
            if attempts and all(a.result != UNKNOWN for a in attempts):
                continue
            payment.subscription_call('lookup')
            settled.append(payment)
        return settled


class ContractPayment(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def charge_invoices(cls, invoices):
        """Start charging the invoices of contracts on a plan that charges
        (the billing run's step 6: the charges are queued tasks)"""
        pool = Pool()
        Period = pool.get('sale.subscription.period')
        Payment = pool.get('account.payment')
        periods = Period.search([
                ('invoice', 'in', [i.id for i in invoices]),
                ('subscription.plan.invoicing_mode', '=', 'charge'),
                ])
        payments = []
        for period in periods:
            contract = period.subscription
            try:
                payment = contract.new_charge(period.invoice)
            except UserError as exception:
                # e.g. a credit: reported on the contract, the invoice is
                # kept and the billing goes on
                contract.log_payment('refused', invoice=period.invoice,
                    description=exception.message)
                continue
            if payment:
                payments.append(payment)
        if payments:
            Payment.subscription_start(payments)
        return payments

    def new_charge(self, invoice):
        """Return an unsaved payment charging what is left to pay on invoice,
        or None when nothing is charged (said so on the contract)"""
        pool = Pool()
        Payment = pool.get('account.payment')
        if invoice.total_amount == 0:
            self.log_payment('zero_amount', invoice=invoice,
                description=gettext(
                    'sale_subscription_contract.msg_log_zero_amount',
                    invoice=invoice.rec_name))
            return None
        lines = [l for l in invoice.lines_to_pay
            if not l.reconciliation and (l.payment_amount or 0) > 0]
        amount = sum((l.payment_amount for l in lines), Decimal(0))
        if invoice.total_amount < 0 or amount <= 0:
            raise ChargeAmountError(gettext(
                    'sale_subscription_contract.msg_charge_amount',
                    invoice=invoice.rec_name, contract=self.rec_name,
                    amount=invoice.currency.round(
                        amount if invoice.total_amount >= 0
                        else invoice.total_amount)))
        if not self.has_payment_method():
            self.notify_customer('invoice', invoice=invoice)
            self.log_payment('no_method', invoice=invoice,
                description=gettext(
                    'sale_subscription_contract.msg_log_no_method',
                    invoice=invoice.rec_name,
                    method=(self.payment_method.rec_name
                        if self.payment_method else '-')))
            return None
        line = lines[0]  # the payment term of a subscription has one
        earlier = Payment.search([
                ('subscription_invoice', '=', invoice.id),
                ])
        # (charges made before the numbers were stored have none)
        attempt = max([p.subscription_attempt or 0 for p in earlier]
            + [len(earlier)]) + 1
        return Payment(
            company=self.company, journal=self.payment_method.journal,
            kind='receivable', party=invoice.party, line=line,
            date=self._today(), amount=line.payment_amount,
            subscription=self, subscription_invoice=invoice,
            subscription_payment_method=self.payment_method,
            subscription_attempt=attempt,
            subscription_key=self.new_charge_key(invoice, attempt),
            reference=invoice.number)

    def new_charge_key(self, invoice, attempt):
        """The idempotency key of the attempt-th payment of invoice.

        Invoice numbers repeat across companies (and databases sharing a
        processor account), so the key ends with a random UUID: unique by
        construction. It is stored with the payment before any call, and
        the janitor asks the processor with that stored key."""
        return f"{invoice.number}-{attempt}-{uuid.uuid4().hex}"

    def settle_payment(self, payment, result):
        "Book a processor's definite answer; an unknown one changes nothing"
        pool = Pool()
        Payment = pool.get('account.payment')
        if result.status == SUCCEEDED:
            # reconciled at once, the invoice is paid; the clearing move is
            # posted with the others by the ERP's cron (the journal's
            # clearing posting delay): posting here would take the gapless
            # move sequence in every charge and serialise all workers on it
            Payment.succeed([payment])
            payment = Payment(payment.id)
            self.payment_succeeded_for(payment)
        elif result.status == FAILED:
            Payment.fail([payment])
            self.payment_failed_for(payment, result)
        else:
            self.log_payment('unknown', invoice=payment.subscription_invoice,
                payment=payment, description=result.message)
