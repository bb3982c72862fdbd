# Mid-period changes of a contract: add, remove or resize lines, change a
# price or switch plan, with the rest of the current period prorated by the
# day. A change is an unsaved object whose methods say what it is (kind),
# whether it is allowed (check), what it costs (preview) and carry it out
# (apply); the wizard, upsell quotations and the portal all use them.
import datetime
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from ..exceptions import ChangeAccessError, ChangeError
from .billing import InvoicingRun


def _price(value):
    return Decimal(value).quantize(Decimal(1).scaleb(-price_digits[1]))


def _list_price(product):
    "The price a line added without price gets"
    return product.list_price_used or product.template.list_price


class ContractChange(ModelView):
    __name__ = 'sale.subscription.change'

    contract = fields.Many2One(
        'sale.subscription', "Contract", required=True, readonly=True,
        help="The running contract to change.")
    date = fields.Date(
        "Date", required=True,
        help="The first day the change applies; the rest of the current "
        "period from this day on is prorated.")
    plan = fields.Many2One(
        'sale.subscription.plan', "New Plan",
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        help="Switch the contract to this related plan; "
        "empty to keep the plan.")
    company = fields.Many2One('company.company', "Company", readonly=True)
    lines = fields.One2Many(
        'sale.subscription.change.line', None, "Lines",
        help="The new quantities and prices; a line without contract "
        "line is added. Contract lines not listed stay as they are.")

    @property
    def switch(self):
        "The plan switched to, if any"
        if self.plan and self.plan != self.contract.plan:
            return self.plan
        return None

    @property
    def new_plan(self):
        return self.switch or self.contract.plan

    def _active_lines(self):
        return [l for l in self.contract.lines
            if (not l.start_date or l.start_date <= self.date)
            and (not l.end_date or l.end_date >= self.date)]

    def targets(self):
        """Return [(contract line or None, change line or None, old quantity,
        old price, new quantity, new price)], quantities 0 when absent"""
        by_line = {c.line: c for c in (self.lines or []) if c.line}
        # prices are per period: a plan switch converts them unless given
        factor = Decimal(1)
        if self.switch:
            factor = (self.contract.plan.periods_per_year
                / self.switch.periods_per_year)
        result = []
        for line in self._active_lines():
            change = by_line.get(line)
            quantity, price = line.quantity, line.unit_price
            new_quantity = quantity
            new_price = _price(price * factor)
            if change:
                if change.remove:
                    new_quantity = 0
                elif change.quantity is not None:
                    new_quantity = change.quantity
                if change.unit_price is not None:
                    new_price = change.unit_price
            result.append(
                (line, change, quantity, price, new_quantity, new_price))
        for change in (self.lines or []):
            if change.line or change.remove:
                continue
            price = change.unit_price
            if price is None and change.service:
                price = _list_price(change.service.product)
            result.append(
                (None, change, 0, Decimal(0), change.quantity, price))
        return result

    def kind(self):
        """Return 'upgrade', 'downgrade', 'mixed' or None (no change),
        comparing the monthly amount of each line before and after"""
        old_factor = self.contract.plan.monthly_factor()
        new_factor = self.new_plan.monthly_factor()
        up = down = False
        for _, _, quantity, price, new_quantity, new_price in self.targets():
            old = Decimal(str(quantity or 0)) * price * old_factor
            new = Decimal(str(new_quantity or 0)) * (new_price or 0) * new_factor
            up |= new > old
            down |= new < old
        if self.switch:
            # a plan switch at the same monthly amount still moves on
            new = self._monthly(new=True)
            old = self._monthly(new=False)
            if new > old:
                return 'upgrade'
            if new < old:
                return 'downgrade'
            return 'downgrade' if down and not up else 'upgrade'
        if up and down:
            return 'mixed'
        if up:
            return 'upgrade'
        if down:
            return 'downgrade'
        return None

    def _monthly(self, new):
        total = Decimal(0)
        for _, _, quantity, price, new_quantity, new_price in self.targets():
            if new:
                total += (Decimal(str(new_quantity or 0)) * (new_price or 0)
                    * self.new_plan.monthly_factor())
            else:
                total += (Decimal(str(quantity or 0)) * price
                    * self.contract.plan.monthly_factor())
        return total

    def check(self, customer=False):
        """Raise when the change is bad input, or, for a customer, when the
        plan's customer access forbids it; back-office users may do more"""
        contract = self.contract
        names = {'contract': contract.rec_name}
        if contract.state != 'running' or not contract.plan:
            states = dict(contract.fields_get(['state'])['state']['selection'])
            raise ChangeError(gettext(
                    'sale_subscription_contract.msg_change_contract_state',
                    state=states[contract.state], **names))
        if (not self.date or self.date < contract.anchor
                or contract.current_period(self.date) is None):
            raise ChangeError(gettext(
                    'sale_subscription_contract.msg_change_date',
                    date=self.date, start=contract.anchor, **names))
        if self.switch and self.switch not in contract.plan.related_plans:
            raise ChangeError(gettext(
                    'sale_subscription_contract.msg_change_plan_unrelated',
                    plan=self.switch.rec_name,
                    current=contract.plan.rec_name, **names))
        for line, change, _, _, quantity, price in self.targets():
            if change and change.remove:
                continue
            name = (line.rec_name if line else
                change.service.rec_name if change.service else '-')
            if line is None and not change.service:
                raise ChangeError(gettext(
                        'sale_subscription_contract.msg_change_service',
                        **names))
            if quantity is None or quantity < 1:
                raise ChangeError(gettext(
                        'sale_subscription_contract.msg_change_quantity',
                        line=name, quantity=quantity, **names))
            if price is None or price < 0:
                raise ChangeError(gettext(
                        'sale_subscription_contract.msg_change_price',
                        line=name, price=price, **names))
        kind = self.kind()
        if kind is None and not self.switch:
            raise ChangeError(gettext(
                    'sale_subscription_contract.msg_change_nothing', **names))
        if customer:
            self.check_customer(kind)

    def check_customer(self, kind):
        "Raise when the plan's customer access forbids the change"
        contract = self.contract
        access = contract.plan.customer_access
        names = {'contract': contract.rec_name, 'plan': contract.plan.rec_name}
        if access == 'restricted':
            raise ChangeAccessError(gettext(
                    'sale_subscription_contract.msg_change_customer_restricted',
                    **names))
        for line, change, _, price, _, new_price in self.targets():
            if line is None:
                price = _list_price(change.service.product)
            if change and change.unit_price is not None and (
                    (self.switch and line) or change.unit_price != price):
                # prices are the back office's, whatever the plan allows
                raise ChangeAccessError(gettext(
                        'sale_subscription_contract.msg_change_customer_price',
                        line=(line or change.service).rec_name, **names))
        if access == 'upgrade' and kind in {'downgrade', 'mixed'}:
            raise ChangeAccessError(gettext(
                    'sale_subscription_contract'
                    '.msg_change_customer_downgrade', **names))

    def _prorations(self):
        """Return the unsaved adjustments of the current period.

        Per line the customer pays the old amount for the days before the
        change and the new amount from the change on; what the period's
        invoice charges (or will charge) for the line is corrected by the
        difference, rounded once to the currency at the end.
        """
        pool = Pool()
        Adjustment = pool.get('sale.subscription.adjustment')
        Period = pool.get('sale.subscription.period')
        Lang = pool.get('ir.lang')
        contract = self.contract
        lang = Lang.get(contract.party.lang.code
            if contract.party.lang else None)
        start, end = contract.current_period(self.date)
        # a contract ending within the period is billed up to its end only
        last = min(end, contract.end_date) if contract.end_date else end
        full = (end - start).days + 1
        elapsed = (self.date - start).days
        remaining = max((last - self.date).days + 1, 0)
        billed_days = (last - start).days + 1
        paid = bool(Period.search([
                    ('subscription', '=', contract.id),
                    ('start_date', '=', start),
                    ], limit=1))
        adjustments = []
        for line, change, quantity, price, new_quantity, new_price in (
                self.targets()):
            old = Decimal(str(quantity or 0)) * (price or 0)
            new = Decimal(str(new_quantity or 0)) * (new_price or 0)
            removed = bool(change and change.remove)
            if self.switch:
                # the new plan bills from the change on: the old one keeps
                # the days before it only
                new = Decimal(0)
                billed = old * billed_days if paid else 0
            elif paid:
                billed = old * billed_days
            elif removed:
                # the run still bills a line that ends within the period
                billed = old * full if elapsed else 0
            else:
                billed = new * full
            exact = (old * elapsed + new * remaining - billed) / full
            amount = contract.currency.round(exact)
            if not amount:
                continue
            if paid or removed or self.switch and paid:
                days, first, final = remaining, self.date, last
            else:
                days, first, final = (elapsed, start,
                    self.date - datetime.timedelta(days=1))
            service = line.service if line else change.service
            adjustments.append(Adjustment(
                    subscription=contract,
                    line=line,
                    date=self.date,
                    product=service.product,
                    currency=contract.currency,
                    amount=amount,
                    state='pending',
                    description=gettext(
                        'sale_subscription_contract.msg_change_prorated',
                        service=service.rec_name,
                        days=days, period_days=full,
                        start=lang.strftime(first),
                        end=lang.strftime(final)),
                    ))
        return adjustments, paid

    def _now(self, adjustment, paid):
        "Whether the adjustment is invoiced at once (else on the next invoice)"
        plan = self.contract.plan
        if not paid:
            # the period is not invoiced yet: its own invoice settles it
            return False
        if adjustment.amount > 0:
            return not self.switch and plan.upgrade_invoicing == 'immediately'
        return plan.downgrade_credit == 'credit_note'

    def _simulate(self):
        """Return (contract, adjustments, now) with the change made on an
        unsaved copy of the contract's instance; nothing is written"""
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Line = pool.get('sale.subscription.line')
        adjustments, paid = self._prorations()
        now = [a for a in adjustments if self._now(a, paid)]
        contract = Contract(self.contract.id)
        lines = {l.id: l for l in contract.lines}
        # an added line is unsaved: every field the billing reads needs a
        # value (its default, else none)
        blank = {n: None for n, f in Line._fields.items()
            if n != 'id' and not isinstance(f, (
                    fields.Function, fields.One2Many, fields.Many2Many))}
        blank.update(Line.default_get(list(blank), with_rec_name=False))
        for line, change, _, _, quantity, price in self.targets():
            if line is None:
                lines[object()] = Line(**{**blank, **dict(
                    subscription=contract,
                    service=change.service,
                    description=change.service.product.rec_name,
                    quantity=quantity,
                    unit=change.service.product.default_uom,
                    unit_price=price,
                    start_date=self.date,
                    )})
                continue
            record = lines[line.id]
            if change and change.remove:
                record.end_date = max(
                    self.date - datetime.timedelta(days=1), record.start_date)
                continue
            if record.quantity != quantity:
                record.quantity = quantity
            if record.unit_price != price:
                record.unit_price = price
        contract.lines = list(lines.values())
        if self.switch:
            contract.plan = self.switch
            contract.invoice_recurrence = self.switch.recurrence
            contract.reanchor(self.date)
        return contract, adjustments, now

    def preview(self, customer=False):
        """Return what the customer pays for the change, writing nothing:
        {'kind', 'now': [invoice], 'next': invoice or None} where an invoice
        is the dict of Contract.preview_invoices"""
        pool = Pool()
        Date = pool.get('ir.date')
        self.check(customer)
        today = Date.today()
        contract, adjustments, now = self._simulate()
        invoices = []
        if now:
            invoice = contract._adjustment_invoice(now, today)
            invoices.append(contract._preview_invoice(
                    invoice, self.date, self.date, self.date, today))
        run = InvoicingRun(contract, simulated_adjustments=[
                a for a in adjustments if not any(a is n for n in now)])
        due = 0
        if self.switch:
            # apply bills the new plan's periods already due at once
            index = contract.billing_index or 0
            while due < 12:
                period = contract.period_at(index + due)
                if (period is None or contract.billing_date_of(
                            period[0], period[2]) > today):
                    break
                due += 1
        following = contract._preview_invoices(due + 1, run)
        invoices += following[:due]
        return {
            'kind': self.kind(),
            'now': invoices,
            'next': following[due] if len(following) > due else None,
            }

    def apply(self, customer=False):
        "Check and make the change; return the invoices written at once"
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Adjustment = pool.get('sale.subscription.adjustment')
        Date = pool.get('ir.date')
        self.check(customer)
        today = Date.today()
        # read before saving: the saved contract is on the new plan
        switch, kind = self.switch, self.kind()
        contract, adjustments, now = self._simulate()
        # the MRR is logged once below, at the date of the change
        with Contract.logging_mrr_itself():
            contract.save()
        for adjustment in adjustments:
            adjustment.subscription = contract
        Adjustment.save(adjustments)
        invoices = []
        if now:
            invoices.append(contract.invoice_adjustments(now, today))
        contract = Contract(contract.id)
        Contract.record_mrr([contract], self.date,
            description=gettext(
                'sale_subscription_contract.msg_change_mrr',
                kind=dict(KINDS).get(kind, '')))
        if switch and contract.next_billing_date <= today:
            # the new plan's first period is invoiced on the switch
            billed, errors = Contract.bill(
                Contract.claim([contract.id], today), today)
            if errors:
                raise ChangeError(errors[contract])
            invoices += billed
        return invoices


KINDS = [
    (None, ""),
    ('upgrade', "Upgrade"),
    ('downgrade', "Downgrade"),
    ('mixed', "Mixed"),
    ]


class ContractChangeLine(ModelView):
    __name__ = 'sale.subscription.change.line'

    line = fields.Many2One(
        'sale.subscription.line', "Contract Line",
        domain=[
            ('subscription', '=', Eval('contract', -1)),
            ],
        help="The contract line to change; empty to add a line.")
    contract = fields.Many2One(
        'sale.subscription', "Contract", readonly=True)
    service = fields.Many2One(
        'sale.subscription.service', "Service",
        states={
            'required': ~Eval('line'),
            'readonly': Bool(Eval('line')),
            },
        help="The service of a line to add.")
    quantity = fields.Float(
        "Quantity",
        states={
            'readonly': Bool(Eval('remove')),
            },
        help="The new quantity, at least 1.")
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits,
        states={
            'readonly': Bool(Eval('remove')),
            },
        help="The new price per period; empty keeps the price "
        "(converted to the new plan's period on a plan switch).")
    remove = fields.Boolean(
        "Remove",
        states={
            'readonly': ~Eval('line'),
            },
        help="End the contract line the day before the change.")

    @classmethod
    def default_remove(cls):
        return False


class ContractChangeMixin(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'change_wizard': {
                    'invisible': (Eval('state') != 'running')
                    | ~Bool(Eval('plan')),
                    'icon': 'tryton-launch',
                    'depends': ['state', 'plan'],
                    },
                })

    @classmethod
    @ModelView.button_action(
        'sale_subscription_contract.wizard_contract_change')
    def change_wizard(cls, contracts):
        pass

    def get_change(self, date, lines=None, plan=None):
        """Return an unsaved change of self: lines are dicts with the
        keys of sale.subscription.change.line"""
        pool = Pool()
        Change = pool.get('sale.subscription.change')
        ChangeLine = pool.get('sale.subscription.change.line')
        defaults = {'line': None, 'service': None, 'quantity': None,
            'unit_price': None, 'remove': False}
        return Change(contract=self, company=self.company, date=date,
            plan=plan, lines=[ChangeLine(contract=self, **{**defaults, **l})
                for l in (lines or [])])


class ChangePreview(ModelView):
    __name__ = 'sale.subscription.change.preview'

    kind = fields.Selection(
        KINDS, "Kind", readonly=True, sort=False,
        help="Whether the change raises or lowers what the customer pays.")
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    now_total = Monetary(
        "Invoiced Now", currency='currency', digits='currency',
        readonly=True,
        help="The total with taxes invoiced (or credited, negative) when "
        "the change is applied.")
    next_date = fields.Date(
        "Next Invoice Date", readonly=True,
        help="The date of the next invoice of the billing run.")
    next_total = Monetary(
        "Next Invoice", currency='currency', digits='currency',
        readonly=True,
        help="The total with taxes of the next invoice after the change.")
    details = fields.Text(
        "Details", readonly=True,
        help="The lines of the invoices, nothing is written yet.")


class ChangeContract(Wizard):
    __name__ = 'sale.subscription.change_contract'

    start = StateView(
        'sale.subscription.change',
        'sale_subscription_contract.change_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Preview", 'preview', 'tryton-forward', default=True),
            ])
    preview = StateView(
        'sale.subscription.change.preview',
        'sale_subscription_contract.change_preview_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Apply", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        Date = Pool().get('ir.date')
        contract = self.record
        today = Date.today()
        change = contract.get_change(today)
        return {
            'contract': contract.id,
            'company': contract.company.id,
            'date': today,
            'plan': contract.plan.id,
            'lines': [{
                    'contract': contract.id,
                    'line': l.id,
                    'service': l.service.id,
                    'quantity': l.quantity,
                    'unit_price': l.unit_price,
                    'remove': False,
                    } for l in change._active_lines()],
            }

    def _change(self):
        self.start.contract = self.record
        for line in self.start.lines:
            line.contract = self.record
        return self.start

    def default_preview(self, fields):
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        preview = self._change().preview()
        currency = self.record.currency
        details = []
        for invoice in preview['now'] + [preview['next']]:
            if not invoice:
                continue
            details.append(lang.strftime(invoice['invoice_date']) + ':')
            for line in invoice['lines']:
                details.append('  %s: %s' % (line['description'],
                        lang.currency(line['amount'], currency)))
            details.append('  = %s' % lang.currency(
                    invoice['total_amount'], currency))
        return {
            'kind': preview['kind'],
            'currency': currency.id,
            'now_total': sum((i['total_amount'] for i in preview['now']),
                Decimal(0)),
            'next_date': (preview['next']['invoice_date']
                if preview['next'] else None),
            'next_total': (preview['next']['total_amount']
                if preview['next'] else None),
            'details': '\n'.join(details),
            }

    def transition_apply(self):
        self._change().apply()
        return 'end'
