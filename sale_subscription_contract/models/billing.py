# Recurring invoicing of contracts on a plan: one posted invoice per contract
# and period. A period row with a unique (contract, start) key is written in
# the same transaction as its invoice, so the database itself refuses to
# invoice a period twice, whatever runs concurrently or is rerun.
#
# The whole billing of a batch is ContractBilling.bill below, in order:
#   claim (bill_batch) -> build each due period's invoice from its line
#   providers -> save -> post -> settle what the invoices used -> log the
#   MRR changes the run brings -> queue the e-mails and the charges, which
#   the workers do after the commit.
# The line providers of a period's invoice, in _get_period_invoice: the
# services of the period (here), their discounts (discount.py), the setup
# fees of a first invoice (setup_fee.py), the prorated adjustments of
# changes (adjustment.py).
import datetime
from decimal import Decimal

from sql import Null

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, dualmethod, fields)
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, TransactionError

from ..exceptions import BillingDateError, BillingError

BATCH_SIZE = 50  # measured: 8 % less time and queries per contract than 25
# what account_invoice computes from an invoice's number
NUMBER_FORMS = {'number_alnum', 'number_digit'}


class InvoicingRun:
    """What building the invoices of one contract has used so far, in one
    billing run or one preview: a catch-up run builds several invoices of a
    contract, and each setup fee and adjustment goes on one of them only.

    simulated_adjustments are unsaved adjustments a preview of a change
    settles as if they were pending."""

    def __init__(self, contract, simulated_adjustments=()):
        self.contract = contract
        # a contract's first invoice carries its setup fees
        self.setup_fee_due = not contract.setup_fee_invoiced
        self.simulated_adjustments = list(simulated_adjustments)
        # [adjustment, rest to settle], loaded with the first invoice
        self.adjustments = None


class BillingPeriod(ModelSQL, ModelView):
    __name__ = 'sale.subscription.period'

    subscription = fields.Many2One(
        'sale.subscription', "Contract", required=True, readonly=True,
        ondelete='RESTRICT')
    start_date = fields.Date(
        "Start Date", required=True, readonly=True,
        help="The first day of the service period.")
    end_date = fields.Date(
        "End Date", required=True, readonly=True,
        help="The last day of the service period that was invoiced.")
    invoice_date = fields.Date("Invoice Date", required=True, readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('subscription_start_unique',
                Unique(t, t.subscription, t.start_date),
                'sale_subscription_contract.msg_period_already_invoiced'),
            ]
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]


class ContractBilling(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    billing_anchor = fields.Date(
        "Billing Anchor", readonly=True,
        help="The day the periods are counted from (the start date unless "
        "a pause, a trial or a plan switch moved it); every period starts "
        "on its day of the month.")
    billing_index = fields.Integer(
        "Billed Periods", readonly=True,
        help="How many periods since the billing anchor have been invoiced.")
    next_billing_date = fields.Date(
        "Next Invoice Date", readonly=True,
        states={
            'invisible': ~Eval('plan'),
            },
        help="When the billing run invoices the next period.")
    periods = fields.One2Many(
        'sale.subscription.period', 'subscription', "Invoiced Periods",
        readonly=True)
    invoices = fields.Function(fields.Many2Many(
            'account.invoice', None, None, "Invoices"), 'get_invoices')
    current_period_start = fields.Function(
        fields.Date("Current Period Start"), 'get_current_period')
    current_period_end = fields.Function(
        fields.Date("Current Period End"), 'get_current_period')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.next_billing_date, Index.Range()),
                where=t.next_billing_date != Null))

    @classmethod
    def default_billing_index(cls):
        return 0

    def get_invoices(self, name):
        return [p.invoice.id for p in self.periods if p.invoice]

    @classmethod
    def get_current_period(cls, contracts, names):
        result = {n: {c.id: None for c in contracts} for n in names}
        for contract in contracts:
            if not contract.plan or contract.state == 'draft':
                continue
            period = contract.current_period(contract._today())
            if period:
                if 'current_period_start' in names:
                    result['current_period_start'][contract.id] = period[0]
                if 'current_period_end' in names:
                    result['current_period_end'][contract.id] = period[1]
        return result

    def next_period(self):
        """Return (start, end, billed_end) of the next period to invoice.

        billed_end is before end when the contract ends within the period.
        """
        return self.period_at(self.billing_index or 0)

    @property
    def anchor(self):
        "The day periods are counted from"
        return self.billing_anchor or self.start_date

    def reanchor(self, date):
        "Count the periods from date on (after a pause, trial or plan switch)"
        self.billing_anchor = date
        self.billing_index = 0
        self.update_next_billing_date()

    def period_at(self, index):
        "Return (start, end, billed_end) of the period at index or None"
        period = self.plan.period(self.anchor, index)
        if period is None:
            return None
        start, end = period
        if self.end_date and start > self.end_date:
            return None
        billed_end = min(end, self.end_date) if self.end_date else end
        return start, end, billed_end

    def billing_date_of(self, start, billed_end):
        if self.plan.billing_timing == 'arrears':
            return billed_end + datetime.timedelta(days=1)
        return start

    def update_next_billing_date(self):
        if self.state not in {'running', 'closed'} or not self.plan:
            self.next_billing_date = None
            return
        period = self.next_period()
        self.next_billing_date = (
            self.billing_date_of(period[0], period[2]) if period else None)

    def skip_periods_before(self, date):
        "Skip the unbilled periods that ended before date (e.g. on reopen)"
        while True:
            period = self.plan.period(self.anchor, self.billing_index or 0)
            if period is None or period[1] >= date:
                break
            self.billing_index = (self.billing_index or 0) + 1

    @classmethod
    def check_billing_date(cls, company, date):
        "Refuse a run for a date outside an open fiscal year"
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        try:
            FiscalYear.find(company, date=date)
        except UserError as exception:
            raise BillingDateError(gettext(
                    'sale_subscription_contract.msg_billing_date_closed',
                    date=date, error=exception.message)) from exception

    @classmethod
    def due_contract_ids(cls, date, after=None, limit=None):
        "Ids of the contracts due on date, in order (after the id after)"
        company = Transaction().context.get('company')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((table.next_billing_date <= date)
            & (table.plan != Null)
            & table.state.in_(['running', 'paused', 'closed'])
            & (table.company == company))
        if after is not None:
            where &= table.id > after
        cursor.execute(*table.select(table.id, where=where,
                order_by=[table.id], limit=limit))
        return [i for i, in cursor]

    @classmethod
    def claim(cls, ids, date):
        """Lock the contracts still due among ids and return them.

        On PostgreSQL contracts locked by a concurrent run are skipped: that
        run bills them.
        """
        if not ids:
            return []  # PostgreSQL refuses an empty IN ()
        transaction = Transaction()
        table = cls.__table__()
        query = table.select(table.id,
            where=table.id.in_(list(ids))
            & (table.next_billing_date <= date)
            & table.state.in_(['running', 'paused', 'closed']),
            order_by=[table.id])
        statement, params = tuple(query)
        if backend.name == 'postgresql':
            # python-sql has no SKIP LOCKED
            statement += ' FOR UPDATE SKIP LOCKED'
        cursor = transaction.connection.cursor()
        cursor.execute(statement, params)
        return cls.browse([i for i, in cursor])

    @classmethod
    def bill(cls, contracts, date):
        """Invoice and post every period of contracts due up to date.

        A contract that cannot be invoiced (e.g. a product without revenue
        account) is skipped and reported in the returned errors; nothing is
        written for it.  Returns (invoices, errors) where errors maps a
        contract to its message.
        """
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Period = pool.get('sale.subscription.period')
        Adjustment = pool.get('sale.subscription.adjustment')

        # 1. build the invoices of the due periods, contract by contract
        invoices, periods, billed, errors = [], [], [], {}
        for contract in contracts:
            try:
                prepared = contract._prepare_invoices(date)
            except UserError as exception:
                errors[contract] = exception.message
                continue
            for invoice, period in prepared:
                invoices.append(invoice)
                periods.append(period)
            billed.append(contract)
        # 2. save them with their lines: the ERP computes the taxes once
        Invoice.save(invoices)
        Period.save(periods)
        cls.save(billed)
        # 3. post them; the posting shortcuts apply to these invoices only,
        # not to those a task queued by the posting may create (the context
        # is queued too)
        with Transaction().set_context({'_skip_warnings': True,
                    Invoice.BILLING_RUN_POST_CONTEXT: [
                        i.id for i in invoices]}):
            Invoice.post(invoices)
        # 4. the adjustments the invoices carry are settled (adjustment.py)
        if invoices:
            Adjustment.settle(invoices)
        # 5. the ends of discounts up to date are logged in the MRR
        # (discount.py)
        cls.end_discounts(date, contracts)
        # 6. after the commit, the workers e-mail the invoices of plans that
        # e-mail (customer_email.py) and charge those of plans that charge
        # (payment.py): both only queue tasks here
        cls.notify_invoices(invoices)
        cls.charge_invoices(invoices)
        return invoices, errors

    def _prepare_invoices(self, date):
        "Return [(invoice, period)] for the periods due up to date"
        pool = Pool()
        Period = pool.get('sale.subscription.period')
        run = InvoicingRun(self)
        result = []
        while self.next_billing_date and self.next_billing_date <= date:
            start, end, billed_end = self.next_period()
            # dated on the run, not on the period: the ERP numbers invoices
            # in date order, which a late or catch-up run would break
            invoice_date = date
            invoice = self._get_period_invoice(
                start, end, billed_end, invoice_date, run)
            period = Period(
                subscription=self, start_date=start, end_date=billed_end,
                invoice_date=invoice_date, invoice=invoice)
            result.append((invoice, period))
            self.billing_index = (self.billing_index or 0) + 1
            self.update_next_billing_date()
        if result:
            # fees added to the plan or the products later are not charged
            # to this contract
            self.setup_fee_invoiced = True
        return result

    def _new_invoice(self, invoice_date):
        "Return the unsaved invoice of the contract dated invoice_date"
        invoice = self._get_invoice()
        invoice.invoice_date = invoice_date
        if not invoice.account:
            raise BillingError(gettext(
                    'sale_subscription_contract'
                    '.msg_billing_missing_receivable',
                    contract=self.rec_name,
                    party=invoice.party.rec_name))
        return invoice

    def _get_period_invoice(self, start, end, billed_end, invoice_date, run):
        """Return the unsaved invoice of a period with its lines, in this
        order: the services, their discounts, the setup fees of a first
        invoice, the adjustments (credits are deducted from the total of
        the lines before them)"""
        invoice = self._new_invoice(invoice_date)
        lines = self._get_period_service_lines(
            invoice, start, end, billed_end)
        self._discount_period_lines(lines, start)
        if run.setup_fee_due:
            lines.extend(self._get_setup_fee_lines(invoice))
            run.setup_fee_due = False
        lines.extend(self._get_adjustment_lines(invoice, lines, run))
        invoice.lines = lines
        return invoice

    def _get_period_service_lines(self, invoice, start, end, billed_end):
        "The unsaved invoice lines of the contract's services for a period"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get(self.party.lang.code if self.party.lang else None)
        full_days = (end - start).days + 1
        billed_days = (billed_end - start).days + 1
        lines = []
        for line in self.lines:
            if line.start_date and line.start_date > billed_end:
                continue
            if line.end_date and line.end_date < start:
                continue
            unit_price = line.unit_price
            if billed_days < full_days:
                # a contract ending within the period pays its days only
                unit_price = (unit_price * billed_days / full_days).quantize(
                    Decimal(1).scaleb(-price_digits[1]))
            invoice_line = self._new_invoice_line(invoice,
                line.service.product, line.quantity, unit_price,
                gettext('sale_subscription_contract.msg_invoice_line_period',
                    service=line.service.rec_name,
                    start=lang.strftime(start),
                    end=lang.strftime(billed_end)),
                origin=line, unit=line.unit)
            lines.append(invoice_line)
        if not lines:
            raise BillingError(gettext(
                    'sale_subscription_contract.msg_billing_no_lines',
                    contract=self.rec_name, start=lang.strftime(start)))
        return lines

    def _new_invoice_line(self, invoice, product, quantity, unit_price,
            description, origin=None, unit=None, **values):
        """Return an unsaved line of invoice for product, with its account
        and taxes as the ERP fills them in; a product the ERP cannot invoice
        raises BillingError naming the contract"""
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        invoice_line = InvoiceLine(
            invoice=invoice,
            company=self.company,
            currency=self.currency,
            type='line',
            product=product,
            unit=unit or product.default_uom,
            quantity=quantity,
            origin=origin,
            **values)
        invoice_line.on_change_invoice()
        try:
            invoice_line.on_change_product()
        except UserError as exception:
            raise BillingError(gettext(
                    'sale_subscription_contract.msg_billing_line_error',
                    contract=self.rec_name,
                    error=exception.message)) from exception
        invoice_line.unit_price = unit_price
        invoice_line.description = description
        if not invoice_line.account:
            raise BillingError(gettext(
                    'sale_subscription_contract.msg_billing_missing_revenue',
                    contract=self.rec_name, product=product.rec_name))
        return invoice_line

    @classmethod
    def bill_due_contracts(cls, date=None):
        "Cron entry: queue the first batch of the run's chain of batches"
        pool = Pool()
        Date = pool.get('ir.date')
        Company = pool.get('company.company')
        if date is None:
            date = Date.today()
        company = Transaction().context.get('company')
        if company is None:
            return
        cls.check_billing_date(Company(company), date)
        cls.end_finished(date)
        ids = cls.due_contract_ids(date, limit=BATCH_SIZE)
        if ids:
            cls.__queue__.bill_batch(cls.browse(ids), date, chain=True)

    @classmethod
    def bill_batch(cls, contracts, date, chain=False):
        """Queue task: bill the contracts of a batch not yet billed by another

        A batch of the run's chain first queues the next batch, which starts
        when this one is committed: invoices are numbered without gaps, so
        two batches cannot post side by side and would only fail on the
        sequence's lock; one after the other, they leave the other workers
        to the charges.
        """
        if not chain:
            return cls.bill(cls.claim([c.id for c in contracts], date), date)
        transaction = Transaction()
        queued = len(transaction.tasks)  # without a worker: run after this
        after = max(c.id for c in contracts)
        cls._queue_next_batch(date, after)
        try:
            return cls.bill(cls.claim([c.id for c in contracts], date), date)
        except (TransactionError, backend.DatabaseOperationalError):
            raise  # the task is run again (with the lock it asks for)
        except Exception:
            # A contract the checks before posting did not catch fails the
            # batch: as the command line does, the run goes on and each
            # contract of this batch gets a task of its own, so only the
            # failing one is reported, for a rerun.
            transaction.rollback()
            # the ids of the rolled-back tasks would be reused (SQLite)
            del transaction.tasks[queued:]
            cls._queue_next_batch(date, after)
            for contract in contracts:
                cls.__queue__.bill_batch([contract], date)
            return [], {}

    @classmethod
    def _queue_next_batch(cls, date, after):
        ids = cls.due_contract_ids(date, after=after, limit=BATCH_SIZE)
        if ids:
            cls.__queue__.bill_batch(cls.browse(ids), date, chain=True)


class InvoiceBilling(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    # Context keys read here only: the ids of the invoices the billing run
    # (ContractBilling.bill) is posting, and of the contract invoices whose
    # number forms the ERP is writing
    BILLING_RUN_POST_CONTEXT = 'subscription_billing_run_post'
    NUMBER_FORMS_CONTEXT = 'subscription_number_forms'

    @classmethod
    def _posted_by_billing_run(cls, invoices):
        "Whether all invoices are being posted by the billing run"
        ids = Transaction().context.get(cls.BILLING_RUN_POST_CONTEXT)
        return bool(ids) and {i.id for i in invoices} <= set(ids)

    @classmethod
    def _of_contracts(cls, invoices):
        "Whether each of invoices bills a contract's line"
        Line = Pool().get('account.invoice.line')
        line = Line.__table__()
        ids = {i.id for i in invoices}
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.select(line.invoice, distinct=True,
                where=line.invoice.in_(list(ids))
                & line.origin.like('sale.subscription.line,%')))
        return {i for i, in cursor} >= ids

    @classmethod
    def _check_taxes(cls, invoices):
        # The check only raises a warning when a line's taxes differ from
        # on_change_product's; the billing run posts with warnings skipped
        # and took every line's taxes from on_change_product in the same
        # transaction: re-reading and recomputing each line is wasted.
        if cls._posted_by_billing_run(invoices):
            return
        super()._check_taxes(invoices)

    @classmethod
    def on_modification(cls, mode, invoices, field_names=None):
        # The ERP stores the number's alphanumeric and digit forms by a
        # write of their own after each creation and numbering; that write
        # changes no line, yet recomputes the taxes of every draft invoice
        # (each new invoice's taxes were computed twice). Skipped for the
        # invoices of contracts only.
        if (mode == 'write' and field_names
                and set(field_names) <= NUMBER_FORMS
                and cls._of_contracts(invoices)):
            with Transaction().set_context({
                        cls.NUMBER_FORMS_CONTEXT: [i.id for i in invoices]}):
                return super().on_modification(
                    mode, invoices, field_names=field_names)
        return super().on_modification(
            mode, invoices, field_names=field_names)

    @dualmethod
    def update_taxes(cls, invoices, exception=False):
        number_forms = Transaction().context.get(cls.NUMBER_FORMS_CONTEXT)
        if (not exception and number_forms
                and {i.id for i in invoices} <= set(number_forms)):
            return
        # Posting writes the employee, number, cached amounts and payment
        # means of a draft invoice, each write recomputing its taxes; it
        # changes no line. The taxes computed when the run saved the
        # invoices hold, and get_move still recomputes them and refuses a
        # difference (exception=True) before the move is made.
        if not exception and cls._posted_by_billing_run(invoices):
            return
        super().update_taxes(invoices, exception=exception)
