# Pause and resume. A pause starts at a period boundary: never inside a
# period already invoiced (or being served, when billed in arrears), so the
# customer keeps what was paid for and no credit note is needed. Nothing is
# invoiced while paused; resuming re-anchors the periods on the resume day.
import datetime
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from ..exceptions import PauseError


class Plan(metaclass=PoolMeta):
    __name__ = 'sale.subscription.plan'

    pause_allowed = fields.Boolean(
        "Pause Allowed",
        help="Whether contracts on this plan may be paused.")
    pause_max_days = fields.Integer(
        "Maximum Pause Days",
        domain=['OR',
            ('pause_max_days', '=', None),
            ('pause_max_days', '>', 0),
            ],
        states={
            'invisible': ~Eval('pause_allowed'),
            },
        help="The longest pause in days; empty for no limit. A pause "
        "without resume date is resumed after this many days.")

    @classmethod
    def default_pause_allowed(cls):
        return False


class MRREvent(metaclass=PoolMeta):
    __name__ = 'sale.subscription.mrr_event'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the MRR goes to 0 and back: neither churn nor new business
        for kind in [('pause', "Pause"), ('resume', "Resume")]:
            if kind not in cls.kind.selection:
                cls.kind.selection.append(kind)


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    paused_from = fields.Date(
        "Paused From", readonly=True,
        states={
            'invisible': ~Eval('paused_from'),
            },
        help="The first day without service. A pause starts at the end of "
        "the period already invoiced, never within it, so nothing paid for "
        "is lost and no credit note is needed.")
    resume_on = fields.Date(
        "Resume On", readonly=True,
        states={
            'invisible': ~Eval('paused_from'),
            },
        help="The day the contract resumes by itself; its periods then "
        "count from this day.")
    pause_allowed = fields.Function(fields.Boolean(
            "Pause Allowed",
            help="Whether the plan of the contract allows pauses."),
        'on_change_with_pause_allowed')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('running', 'paused'),
            ('paused', 'running'),
            ('paused', 'closed'),
            }
        cls._buttons.update({
                'pause_wizard': {
                    'invisible': ((Eval('state') != 'running')
                        | ~Bool(Eval('plan'))
                        | ~Eval('pause_allowed', False)),
                    # a clock: sao and the ERP have no pause icon
                    'icon': 'tryton-log',
                    'depends': ['state', 'plan', 'pause_allowed'],
                    },
                'resume': {
                    'invisible': (~Eval('state').in_(['running', 'paused'])
                        | ~Bool(Eval('paused_from'))),
                    'icon': 'tryton-launch',
                    'depends': ['state', 'paused_from'],
                    },
                })

    @fields.depends('plan')
    def on_change_with_pause_allowed(self, name=None):
        return bool(self.plan and self.plan.pause_allowed)

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('paused_from', None)
        default.setdefault('resume_on', None)
        return super().copy(contracts, default=default)

    def pause_start(self, date):
        """The first day of a pause asked for date: the first period start
        on or after date that is not invoiced yet"""
        index = self.billing_index or 0
        while True:
            start = self.plan.period_start(self.anchor, index)
            if start is None or start >= date:
                return start
            index += 1

    def check_pause(self, paused_from, resume_on):
        "Raise when the contract cannot be paused from paused_from"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        states = dict(self.fields_get(['state'])['state']['selection'])
        if self.state != 'running' or not self.plan or self.paused_from:
            raise PauseError(gettext(
                    'sale_subscription_contract.msg_pause_not_running',
                    contract=self.rec_name,
                    state=states[self.state]))
        if not self.plan.pause_allowed:
            raise PauseError(gettext(
                    'sale_subscription_contract.msg_pause_not_allowed',
                    contract=self.rec_name, plan=self.plan.rec_name))
        if paused_from is None or (
                self.end_date and paused_from > self.end_date):
            raise PauseError(gettext(
                    'sale_subscription_contract.msg_pause_after_end',
                    contract=self.rec_name,
                    date=lang.strftime(self.end_date)))
        if resume_on is not None and resume_on <= paused_from:
            raise PauseError(gettext(
                    'sale_subscription_contract.msg_pause_resume_before',
                    contract=self.rec_name,
                    resume=lang.strftime(resume_on),
                    start=lang.strftime(paused_from)))
        maximum = self.plan.pause_max_days
        if maximum and (resume_on is None
                or (resume_on - paused_from).days > maximum):
            raise PauseError(gettext(
                    'sale_subscription_contract.msg_pause_too_long',
                    contract=self.rec_name, plan=self.plan.rec_name,
                    days=maximum, start=lang.strftime(paused_from)))

    @classmethod
    def pause(cls, contracts, date, resume_on=None):
        """Pause contracts from date (moved to the end of the invoiced
        period), resuming by themselves on resume_on if given.

        A plan with a maximum resumes after it when resume_on is empty.
        All contracts are checked before any is changed.
        """
        plans = []
        for contract in contracts:
            paused_from = contract.pause_start(date)
            resume = resume_on
            if resume is None and contract.plan.pause_max_days and paused_from:
                resume = paused_from + datetime.timedelta(
                    days=contract.plan.pause_max_days)
            contract.check_pause(paused_from, resume)
            plans.append((contract, paused_from, resume))
        for contract, paused_from, resume in plans:
            contract.paused_from = paused_from
            contract.resume_on = resume
            contract.update_next_billing_date()
        cls.save(contracts)
        today = contracts[0]._today() if contracts else None
        cls.start_pauses([c for c in contracts if c.paused_from <= today])

    @classmethod
    def start_pauses(cls, contracts):
        "Stop the service of contracts whose pause has begun"
        cls._pause(contracts)
        contracts = [c for c in contracts if c.state == 'paused']
        for contract in contracts:
            contract.update_next_billing_date()
        cls.save(contracts)
        for contract in contracts:
            cls.record_mrr([contract], contract.paused_from, kind='pause')

    @classmethod
    @Workflow.transition('paused')
    def _pause(cls, contracts):
        pass

    @classmethod
    @ModelView.button
    def resume(cls, contracts, date=None):
        """Resume paused contracts on date (today by default, never before
        the pause); a pause not begun yet is cancelled"""
        scheduled = [c for c in contracts
            if c.state == 'running' and c.paused_from]
        for contract in scheduled:
            contract.paused_from = contract.resume_on = None
            contract.update_next_billing_date()
        cls.save(scheduled)
        paused = [c for c in contracts if c.state == 'paused']
        dates = {}
        for contract in paused:
            day = date or contract._today()
            dates[contract] = max(day, contract.paused_from)
        cls._resume(paused)
        for contract in paused:
            contract.paused_from = contract.resume_on = None
            # the periods count from the resume day
            contract.reanchor(dates[contract])
        cls.save(paused)
        for contract in paused:
            cls.record_mrr([contract], dates[contract], kind='resume')

    @classmethod
    @Workflow.transition('running')
    def _resume(cls, contracts):
        pass

    def update_next_billing_date(self):
        super().update_next_billing_date()
        if self.paused_from and self.plan and self.state in {
                'running', 'paused'}:
            # only the periods before the pause are billed; in arrears the
            # last of them is due on the first day of the pause
            period = self.next_period()
            if period and period[0] < self.paused_from:
                self.next_billing_date = self.billing_date_of(
                    period[0], period[2])
            else:
                self.next_billing_date = None

    def compute_mrr(self, date, discounts=True):
        if self.paused_from and date >= self.paused_from:
            return Decimal(0)
        return super().compute_mrr(date, discounts=discounts)

    @classmethod
    def process_pauses(cls, date):
        "Cron: begin the pauses due and resume the contracts due by date"
        company = Transaction().context.get('company')
        starting = cls.search([
                ('state', '=', 'running'),
                ('paused_from', '<=', date),
                ('company', '=', company),
                ])
        cls.start_pauses(starting)
        resuming = cls.search([
                ('state', '=', 'paused'),
                ('resume_on', '<=', date),
                ('company', '=', company),
                ])
        for contract in resuming:
            cls.resume([contract], date=contract.resume_on)
        return starting, resuming

    @classmethod
    def close_contracts(cls, contracts, reason, end_date, comment=None,
            at_once=None):
        # the close logs its churn itself; records carry the context they
        # were read in, so they are read again in one that keeps the saves
        # of the ended lines from logging the drop a second time
        with cls.logging_mrr_itself():
            contracts = cls.browse([c.id for c in contracts])
            for contract in contracts:
                # closing ends a pause, begun or not
                contract.paused_from = contract.resume_on = None
            super().close_contracts(
                contracts, reason, end_date, comment=comment,
                at_once=at_once)

    @classmethod
    @ModelView.button_action(
        'sale_subscription_contract.wizard_contract_pause')
    def pause_wizard(cls, contracts):
        pass


class PauseContractStart(ModelView):
    __name__ = 'sale.subscription.pause.start'

    date = fields.Date(
        "From", required=True,
        help="The pause starts on this day, or at the end of the period "
        "already invoiced if that is later.")
    resume_on = fields.Date(
        "Resume On",
        help="The contract resumes by itself on this day; empty to resume "
        "by hand (or after the plan's maximum).")


class PauseContract(Wizard):
    __name__ = 'sale.subscription.pause'

    start = StateView(
        'sale.subscription.pause.start',
        'sale_subscription_contract.pause_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Pause", 'pause', 'tryton-ok', default=True),
            ])
    pause = StateTransition()

    def default_start(self, fields):
        return {'date': self.record._today()}

    def transition_pause(self):
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Contract.pause([self.record], self.start.date,
            resume_on=self.start.resume_on)
        return 'end'
