# Renewals of fixed-term contracts. A plan renews by a quotation (created N
# days before the end, confirmed by the customer: the same contract goes on
# for another term on the quotation's terms) or automatically (the end date
# moves by a term, no quotation). An unconfirmed renewal lets the contract
# end through the usual end_finished/close path, with its churn event.
import datetime

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from ..exceptions import RenewalError

# the sale line fields other modules may add (discounts, analytics) that a
# renewal carries over from the line that set the current terms
_LINE_CARRIED = ['base_price', 'discount_rate', 'discount_amount',
    'discount', 'analytic_accounts']


class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    renewal = fields.Selection([
            ('manual', "Renewal Quotation"),
            ('automatic', "Automatic"),
            ], "Renewal", sort=False,
        states={
            'invisible': Eval('duration') != 'fixed',
            'required': Eval('duration') == 'fixed',
            },
        help="Renewal quotation: a quotation for another term is created "
        "before the end; the contract ends unless it is confirmed.\n"
        "Automatic: the contract continues for another term by itself.")
    renewal_notice_days = fields.Integer(
        "Renewal Notice Days",
        domain=['OR',
            ('renewal_notice_days', '=', None),
            ('renewal_notice_days', '>=', 0),
            ],
        states={
            'invisible': ((Eval('duration') != 'fixed')
                | (Eval('renewal') != 'manual')),
            },
        help="How many days before the end of the term the renewal "
        "quotation is created.")

    @classmethod
    def default_renewal(cls):
        return 'manual'

    @classmethod
    def default_renewal_notice_days(cls):
        return 30


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    renewal_sales = fields.One2Many(
        'sale.sale', 'renewal_of', "Renewal Quotations", readonly=True,
        help="The quotations that renew the contract for another term.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'renew': {
                    'invisible': ((Eval('state') != 'running')
                        | ~Eval('end_date')),
                    'icon': 'tryton-refresh',
                    'depends': ['state', 'end_date'],
                    },
                })

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('renewal_sales', None)
        return super().copy(contracts, default=default)

    def next_term_end(self):
        "The last day of the term that follows the current end date"
        start = self.end_date + datetime.timedelta(days=1)
        index = 0
        while True:
            period = self.plan.period(self.anchor, index)
            if period is None:
                return None
            if period[0] >= start:
                break
            index += 1
        period = self.plan.period(
            self.anchor, index + self.plan.duration_periods - 1)
        return period[1] if period else None

    def check_renewable(self):
        states = dict(self.fields_get(['state'])['state']['selection'])
        if (not self.plan or self.plan.duration != 'fixed'
                or not self.end_date):
            raise RenewalError(gettext(
                    'sale_subscription_contract.msg_renewal_open_ended',
                    contract=self.rec_name))
        if self.state not in {'running', 'paused'}:
            raise RenewalError(gettext(
                    'sale_subscription_contract.msg_renewal_not_running',
                    contract=self.rec_name, state=states[self.state]))

    @classmethod
    @ModelView.button
    def renew(cls, contracts):
        "Create the renewal quotation of each contract for its next term"
        cls.create_renewal_quotations(contracts)

    @classmethod
    def create_renewal_quotations(cls, contracts):
        pool = Pool()
        Sale = pool.get('sale.sale')
        for contract in contracts:
            contract.check_renewable()
        sales = []
        for contract in contracts:
            if not contract.pending_renewal():
                sales.append(contract.get_renewal_sale())
        Sale.save(sales)
        Sale.quote(sales)
        return sales

    def pending_renewal(self):
        "The renewal quotation of the current term not cancelled, if any"
        for sale in self.renewal_sales:
            if (sale.renewal_start == self.end_date + datetime.timedelta(1)
                    and sale.state != 'cancelled'):
                return sale

    def _terms_sale_lines(self):
        "The sale lines that set the current terms, by product"
        sales = sorted(
            [s for s in self.renewal_sales
                if s.state in {'confirmed', 'processing', 'done'}],
            key=lambda s: s.renewal_start)
        sale = sales[-1] if sales else self.origin_sale
        if not sale:
            return {}
        return {l.product: l for l in sale.line_lines if l.product}

    def get_renewal_sale(self):
        "The unsaved quotation of the next term with the current lines"
        pool = Pool()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        start = self.end_date + datetime.timedelta(days=1)
        origin = self.origin_sale
        sale = Sale(
            company=self.company,
            party=self.party,
            invoice_party=self.invoice_party,
            invoice_address=self.invoice_address,
            currency=self.currency,
            payment_term=self.payment_term,
            subscription_plan=self.plan,
            subscription_start_date=start,
            sale_date=start,
            salesperson=self.salesperson,
            sales_team=self.sales_team,
            description=self.description,
            reference=self.reference,
            renewal_of=self,
            renewal_start=start,
            )
        sale.on_change_party()
        # the addresses and terms of the contract, not the party's defaults
        sale.invoice_party = self.invoice_party
        sale.invoice_address = self.invoice_address or sale.invoice_address
        if self.payment_term:
            sale.payment_term = self.payment_term
        if origin:
            sale.shipment_address = origin.shipment_address
        previous = self._terms_sale_lines()
        lines = []
        for line in self.lines:
            if line.end_date and line.end_date < self.end_date:
                continue
            product = line.service.product
            sale_line = SaleLine(
                sale=sale, type='line', product=product,
                quantity=line.quantity, unit=line.unit)
            sale_line.on_change_product()
            sale_line.unit = line.unit
            sale_line.quantity = line.quantity
            if line.description:
                sale_line.description = line.description
            previous_line = previous.get(product)
            for name in _LINE_CARRIED:
                if previous_line and name in SaleLine._fields:
                    setattr(sale_line, name, getattr(previous_line, name))
            # the price of the contract line, whatever the discount fields
            sale_line.unit_price = line.unit_price
            lines.append(sale_line)
        sale.lines = lines
        return sale

    def apply_renewal(self, sale):
        """Continue the contract for another term on the sale's terms:
        the end date moves by a term; lines whose quantity or price changed
        end with the old term and start again on the new one"""
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        old_end = self.end_date
        start = sale.renewal_start
        new_end = self.next_term_end()
        current = [l for l in self.lines
            if not l.end_date or l.end_date >= old_end]
        wanted = {}
        for sale_line in sale.recurring_lines:
            wanted.setdefault(sale_line.product, []).append(sale_line)
        lines, new_lines = [], []
        for line in current:
            candidates = wanted.get(line.service.product, [])
            same = [s for s in candidates
                if s.quantity == line.quantity
                and s.unit_price == line.unit_price]
            if same:
                candidates.remove(same[0])  # continues unchanged
            else:
                line.end_date = old_end
                lines.append(line)
        for sale_line in (s for c in wanted.values() for s in c):
            new_lines.append(Line(
                    subscription=self,
                    service=sale_line.product.subscription_services[0],
                    description=sale_line.description,
                    quantity=sale_line.quantity,
                    unit=sale_line.unit,
                    unit_price=sale_line.unit_price,
                    start_date=start,
                    ))
        self.end_date = new_end
        self.save()
        Line.save(lines + new_lines)
        self.update_next_billing_date()
        self.save()
        self.__class__.record_mrr([self], start)

    @classmethod
    def renew_from_sales(cls, sales):
        "Apply the confirmed renewal sales not applied yet"
        for sale in sales:
            # the records and lines of apply_renewal are made in a context
            # that keeps their saves from logging MRR: it logs the change
            # itself, once, dated on the new term
            with cls.logging_mrr_itself():
                contract = cls(sale.renewal_of.id)
                cls.lock([contract])
                if contract.end_date is None or (
                        contract.end_date + datetime.timedelta(days=1)
                        != sale.renewal_start):
                    continue  # applied already
                contract.check_renewable()
                contract.apply_renewal(sale)

    @classmethod
    def renew_automatically(cls, date):
        "Extend the automatic fixed-term contracts whose term ended before"
        contracts = cls.search([
                ('plan.duration', '=', 'fixed'),
                ('plan.renewal', '=', 'automatic'),
                ('state', 'in', ['running', 'paused']),
                ('ends_on', '=', None),  # a close is asked: no renewal
                ('end_date', '<', date),
                ('company', '=', Transaction().context.get('company')),
                ])
        for contract in contracts:
            while contract.end_date < date:
                contract.end_date = contract.next_term_end()
            contract.update_next_billing_date()
        cls.save(contracts)
        return contracts

    @classmethod
    def quote_renewals(cls, date):
        "Create the renewal quotations due by date (notice days before end)"
        contracts = cls.search([
                ('plan.duration', '=', 'fixed'),
                ('plan.renewal', '=', 'manual'),
                ('state', 'in', ['running', 'paused']),
                ('ends_on', '=', None),  # a close is asked: no renewal
                ('end_date', '>=', date),
                ('company', '=', Transaction().context.get('company')),
                ])
        due = [c for c in contracts
            if c.end_date - datetime.timedelta(
                days=c.plan.renewal_notice_days or 0) <= date
            and not c.pending_renewal()]
        return cls.create_renewal_quotations(due)

    @classmethod
    def end_finished(cls, date):
        ended = super().end_finished(date)
        # the renewal offers of ended contracts can no longer be accepted
        pool = Pool()
        Sale = pool.get('sale.sale')
        sales = [s for c in ended for s in c.renewal_sales
            if s.state in {'draft', 'quotation'}]
        Sale.cancel(sales)
        return ended


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    renewal_of = fields.Many2One(
        'sale.subscription', "Renewal Of", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('renewal_of'),
            },
        help="The contract this quotation renews: confirming it continues "
        "that contract for another term instead of creating a new one.")
    renewal_start = fields.Date(
        "Renewal Start", readonly=True,
        states={
            'invisible': ~Eval('renewal_of'),
            },
        help="The first day of the term the quotation renews.")

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        default.setdefault('renewal_of', None)
        default.setdefault('renewal_start', None)
        return super().copy(sales, default=default)

    @classmethod
    def confirm(cls, sales):
        for sale in sales:
            if sale.renewal_of:
                sale.check_renewal()
        super().confirm(sales)

    def check_renewal(self):
        "Refuse to confirm a renewal of a contract that ended meanwhile"
        contract = self.renewal_of
        contract.check_renewable()
        if contract.end_date + datetime.timedelta(days=1) != self.renewal_start:
            raise RenewalError(gettext(
                    'sale_subscription_contract.msg_renewal_outdated',
                    sale=self.rec_name, contract=contract.rec_name))

    @classmethod
    def create_subscriptions(cls, sales):
        pool = Pool()
        Contract = pool.get('sale.subscription')
        renewals = [s for s in sales if s.renewal_of]
        Contract.renew_from_sales(renewals)
        return super().create_subscriptions(
            [s for s in sales if not s.renewal_of])
