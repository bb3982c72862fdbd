# The subscription contract: the ERP's sale.subscription on a plan, with its
# origin sale, salesperson, close reason and MRR.
from decimal import Decimal

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from ..exceptions import (
    ClosedContractError, ContractLineError, ContractStartError)
from .sales_team import SalespersonMixin

# what may still change on a closed contract: the billing of its last
# periods and the bookkeeping of the close itself
_CLOSED_WRITABLE = {
    'state', 'end_date', 'next_billing_date', 'billing_index',
    'billing_anchor', 'mrr',
    'next_invoice_date', 'close_reason', 'close_comment', 'closed_on',
    'reopened_on', 'ends_on', 'write_date', 'write_uid',
    }


class Contract(SalespersonMixin, metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    plan = fields.Many2One(
        'sale.subscription.plan', "Plan", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The plan sets the billing period, timing and duration.")
    origin_sale = fields.Many2One(
        'sale.sale', "Origin Sale", readonly=True, ondelete='RESTRICT',
        help="The quotation whose confirmation created the contract.")
    close_reason = fields.Many2One(
        'sale.subscription.close_reason', "Close Reason", readonly=True,
        states={
            'invisible': ~Eval('close_reason'),
            },
        help="Why the contract was closed.")
    close_comment = fields.Text(
        "Close Comment", readonly=True,
        states={
            'invisible': ~Eval('close_reason'),
            })
    closed_on = fields.Date(
        "Closed On", readonly=True,
        states={
            'invisible': ~Eval('closed_on'),
            },
        help="The day the contract was closed (its end may be later).")
    reopened_on = fields.Date(
        "Reopened On", readonly=True,
        states={
            'invisible': ~Eval('reopened_on'),
            },
        help="The last day the contract was reopened.")
    ends_on = fields.Date(
        "Ends On", readonly=True,
        states={
            'invisible': ~Eval('ends_on'),
            },
        help="The last day of service of a close asked for the end of the "
        "period: the contract runs (and counts in the MRR) until then and "
        "the daily run closes it the day after. Reopen cancels the end.")
    mrr = Monetary(
        "MRR", currency='company_currency', digits='company_currency',
        readonly=True,
        help="Monthly recurring revenue in the company currency: "
        "the recurring total normalised to one month.")
    company_currency = fields.Function(
        fields.Many2One('currency.currency', "Company Currency"),
        'on_change_with_company_currency')
    recurring_amount = fields.Function(Monetary(
            "Recurring Total", currency='currency', digits='currency',
            help="The untaxed amount invoiced each period."),
        'get_recurring_amount')
    mrr_events = fields.One2Many(
        'sale.subscription.mrr_event', 'subscription', "MRR Events",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('origin_sale_unique', Unique(t, t.origin_sale),
                'sale_subscription_contract.msg_contract_origin_sale_unique'),
            ]
        cls._sql_indexes.add(Index(
                t, (t.plan, Index.Equality()), where=t.plan != Null))
        cls.state.selection.insert(3, ('paused', "Paused"))
        for field in [cls.salesperson, cls.sales_team]:
            field.states = {'readonly': Eval('state') == 'closed'}
        cls._transitions |= {('closed', 'running')}
        # on a plan, the billing run owns the invoice dates and a running
        # contract goes back to draft only by closing and reopening it; a
        # paused one never does (no transition: the button would do nothing)
        cls.next_invoice_date.states = {
            **cls.next_invoice_date.states,
            'invisible': (cls.next_invoice_date.states.get('invisible', False)
                | Bool(Eval('plan'))),
            }
        cls._buttons['draft']['invisible'] = (
            cls._buttons['draft']['invisible']
            | (Eval('state') == 'paused')
            | ((Eval('state') == 'running') & Bool(Eval('plan'))))
        cls._buttons['draft'].setdefault('depends', []).append('plan')
        cls._buttons.update({
                'close_wizard': {
                    'invisible': ~Eval('state').in_(['running', 'paused']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': ((Eval('state') != 'closed')
                        & ~Eval('ends_on'))
                    | ~Bool(Eval('plan')),
                    'icon': 'tryton-undo',
                    'depends': ['state', 'plan', 'ends_on'],
                    },
                })

    @fields.depends('company')
    def on_change_with_company_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_recurring_amount(self, name=None):
        return self.recurring_amount_at(self._today())

    def _today(self):
        Date = Pool().get('ir.date')
        with Transaction().set_context(company=self.company.id):
            return Date.today()

    def recurring_amount_at(self, date, discounts=True):
        """The untaxed amount of one full period for the lines active at date

        discounts: whether the discounts running at date are deducted
        (discount.py)"""
        amount = Decimal(0)
        for line in self.lines:
            if line.start_date and line.start_date > date:
                continue
            if line.end_date and line.end_date < date:
                continue
            amount += self.currency.round(
                Decimal(str(line.quantity or 0)) * (line.unit_price or 0))
        return amount

    def compute_mrr(self, date, discounts=True):
        """The MRR at date in the company currency (discounts: see
        recurring_amount_at)"""
        if not self.plan or self.state not in {'running'}:
            return Decimal(0)
        return self.running_mrr(date, discounts=discounts)

    def running_mrr(self, date, discounts=True):
        """The MRR at date of the contract if it runs then, whatever its
        state (and trial or pause) now: what a trial converting or a pause
        resuming on date brings (forecast.py)"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        if not self.plan or (self.end_date and self.end_date < date):
            return Decimal(0)
        amount = (self.recurring_amount_at(date, discounts=discounts)
            * self.plan.monthly_factor())
        with Transaction().set_context(date=date):
            amount = Currency.compute(
                self.currency, amount, self.company.currency, round=False)
        return self.company.currency.round(amount)

    # Context key, read by mrr_logged_by_caller() only: while it is set, the
    # caller writing contract lines logs their MRR change itself (once, at
    # the date and with the kind of its change) and the lines do not
    MRR_LOGGED_BY_CALLER_CONTEXT = 'subscription_mrr_logged_by_caller'

    @classmethod
    def logging_mrr_itself(cls):
        "A context in which the contract lines written do not log the MRR"
        return Transaction().set_context(
            {cls.MRR_LOGGED_BY_CALLER_CONTEXT: True})

    @classmethod
    def mrr_logged_by_caller(cls):
        "Whether the writer of the contract lines logs the MRR itself"
        return bool(Transaction().context.get(
                cls.MRR_LOGGED_BY_CALLER_CONTEXT))

    @classmethod
    def record_mrr(cls, contracts, date, kind=None, close_reason=None,
            description=None, discounts=True):
        """Log an MRR event for each contract whose MRR changed at date.

        kind forces the kind of the event (e.g. reactivation); otherwise it
        follows from the sign of the change. discounts: see
        recurring_amount_at.
        """
        pool = Pool()
        Event = pool.get('sale.subscription.mrr_event')
        events, changed = [], []
        for contract in contracts:
            if not contract.plan:
                continue
            before = contract.mrr or Decimal(0)
            after = contract.compute_mrr(date, discounts=discounts)
            if before == after and not kind:
                continue
            events.append(Event(
                    date=date,
                    subscription=contract,
                    company=contract.company,
                    party=contract.party,
                    plan=contract.plan,
                    salesperson=contract.salesperson,
                    sales_team=contract.sales_team,
                    kind=kind or Event.kind_for(before, after),
                    currency=contract.company.currency,
                    mrr_before=before,
                    mrr_after=after,
                    mrr_change=after - before,
                    close_reason=close_reason,
                    description=description,
                    ))
            contract.mrr = after
            changed.append(contract)
        Event.save(events)
        cls.save(changed)
        return events

    def compute_next_invoice_date(self):
        # contracts on a plan are billed period by period by the billing
        # run (see billing.py), never by the ERP's generate_invoice
        if self.plan:
            return None
        return super().compute_next_invoice_date()

    @classmethod
    def validate_fields(cls, contracts, field_names):
        super().validate_fields(contracts, field_names)
        if field_names and not (field_names & {'plan', 'start_date'}):
            return
        for contract in contracts:
            if contract.plan and contract.start_date:
                try:
                    contract.plan.check_start_date(contract.start_date)
                except Exception as exception:
                    raise ContractStartError(gettext(
                            'sale_subscription_contract'
                            '.msg_contract_start_date_invalid',
                            contract=contract.rec_name,
                            error=str(exception))) from exception

    @classmethod
    def check_modification(
            cls, mode, contracts, values=None, external=False):
        super().check_modification(
            mode, contracts, values=values, external=external)
        if mode == 'write' and external and values:
            if set(values) - _CLOSED_WRITABLE:
                for contract in contracts:
                    if contract.state == 'closed':
                        raise ClosedContractError(gettext(
                                'sale_subscription_contract'
                                '.msg_contract_closed_readonly',
                                contract=contract.rec_name))

    @classmethod
    @ModelView.button
    def run(cls, contracts):
        super().run(contracts)  # the ERP's transition writes the state
        planned = [c for c in contracts if c.plan and c.state == 'running']
        for contract in planned:
            if contract.plan.duration == 'fixed' and not contract.end_date:
                _, contract.end_date = contract.plan.period(
                    contract.start_date, contract.plan.duration_periods - 1)
            if not contract.billing_anchor:
                contract.billing_anchor = contract.start_date
            contract.update_next_billing_date()
        cls.save(planned)
        for contract in planned:
            # the MRR starts at the regular price; a discount running from
            # the start is logged apart, as a contraction (discount.py)
            cls.record_mrr([contract], contract.start_date, discounts=False)

    @classmethod
    @ModelView.button_action(
        'sale_subscription_contract.wizard_contract_close')
    def close_wizard(cls, contracts):
        pass

    def current_period(self, date):
        "Return (start, end) of the period that contains date"
        pool = Pool()
        Period = pool.get('sale.subscription.period')
        if date < self.anchor:
            # before a move of the anchor: the period invoiced then
            periods = Period.search([
                    ('subscription', '=', self.id),
                    ('start_date', '<=', date),
                    ], order=[('start_date', 'DESC')], limit=1)
            if periods and periods[0].end_date >= date:
                return periods[0].start_date, periods[0].end_date
            return None
        # start near the billed periods rather than walking from the anchor
        index = max((self.billing_index or 0) - 1, 0)
        period = self.plan.period(self.anchor, index)
        if period is None or period[0] > date:
            index = 0
        while True:
            period = self.plan.period(self.anchor, index)
            if period is None or period[0] > date:
                return None
            if period[1] >= date:
                return period
            index += 1

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        for name in ['origin_sale', 'close_reason', 'close_comment',
                'closed_on', 'ends_on', 'reopened_on', 'mrr', 'mrr_events',
                'billing_anchor']:
            default.setdefault(name, None)
        return super().copy(contracts, default=default)


def check_line_amounts(quantity, unit_price, line, contract):
    """Refuse a quantity not above 0 and a negative unit price on a
    contract line (a discount is a discount, a credit an adjustment)"""
    if quantity is not None and quantity <= 0:
        raise ContractLineError(gettext(
                'sale_subscription_contract.msg_contract_line_quantity',
                line=line, contract=contract, quantity=quantity))
    if unit_price is not None and unit_price < 0:
        raise ContractLineError(gettext(
                'sale_subscription_contract.msg_contract_line_price',
                line=line, contract=contract, price=unit_price))


class ContractLine(metaclass=PoolMeta):
    __name__ = 'sale.subscription.line'

    @classmethod
    def preprocess_values(cls, mode, values):
        # checked before anything is created, whoever creates
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            pool = Pool()
            Contract = pool.get('sale.subscription')
            Service = pool.get('sale.subscription.service')
            contract = values.get('subscription')
            check_line_amounts(values.get('quantity'),
                values.get('unit_price'),
                Service(values['service']).rec_name
                if values.get('service') else '',
                Contract(contract).rec_name
                if isinstance(contract, int) and contract >= 0 else '')
        return values

    @classmethod
    def write(cls, *args):
        # checked before anything is written, naming the line
        actions = iter(args)
        for lines, values in zip(actions, actions):
            if {'quantity', 'unit_price'} & set(values):
                for line in lines:
                    check_line_amounts(
                        values.get('quantity', line.quantity),
                        values.get('unit_price', line.unit_price),
                        line.rec_name, line.subscription.rec_name)
        super().write(*args)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            for line in lines:
                if line.subscription.state == 'closed':
                    raise ClosedContractError(gettext(
                            'sale_subscription_contract'
                            '.msg_contract_closed_readonly',
                            contract=line.subscription.rec_name))

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        if mode == 'write' and not (field_names or set()) & {
                'quantity', 'unit_price', 'start_date', 'end_date'}:
            return
        pool = Pool()
        Contract = pool.get('sale.subscription')
        if Contract.mrr_logged_by_caller():
            return
        contracts = {l.subscription for l in lines
            if l.subscription.state == 'running' and l.subscription.plan}
        if contracts:
            date = max(list(contracts)[0]._today(), min(
                    c.start_date for c in contracts))
            Contract.record_mrr(Contract.browse(list(contracts)), date)

    @classmethod
    def on_delete(cls, lines):
        callbacks = super().on_delete(lines)
        pool = Pool()
        Contract = pool.get('sale.subscription')
        contracts = list({l.subscription.id for l in lines
                if l.subscription.state == 'running'
                and l.subscription.plan})
        if contracts:
            def record():
                records = Contract.browse(contracts)
                Contract.record_mrr(records, records[0]._today())
            callbacks.append(record)
        return callbacks
