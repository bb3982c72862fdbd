# Closing a contract with a reason, today or at the end of its period (a
# scheduled end, as Stripe's cancel_at_period_end: the contract runs until
# then and the daily run closes it), reopening it, and the back-office
# wizard that closes.
import datetime

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from ..exceptions import ContractStateError


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    @classmethod
    def close_contracts(cls, contracts, reason, end_date, comment=None,
            at_once=None):
        """Close contracts with a reason, their service ending on end_date.

        At once (the default when end_date is not after today) the contract
        is closed now and its churn logged; otherwise the close is scheduled
        as Stripe's cancel_at_period_end: the contract keeps running (and
        its MRR) and ends on end_date; the daily run closes it the day after
        (end_finished), which logs the churn on that day.
        """
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        states = dict(cls.fields_get(['state'])['state']['selection'])
        for contract in contracts:
            if contract.state not in {'running', 'paused'}:
                raise ContractStateError(gettext(
                        'sale_subscription_contract'
                        '.msg_contract_close_not_running',
                        contract=contract.rec_name,
                        state=states[contract.state]))
            if end_date < contract.start_date - datetime.timedelta(days=1):
                raise ContractStateError(gettext(
                        'sale_subscription_contract'
                        '.msg_contract_close_before_start',
                        contract=contract.rec_name,
                        date=end_date))
        today = contracts[0]._today() if contracts else None
        if at_once is None:
            at_once = today is not None and end_date <= today
        # a paused contract is not served: nothing is left to run
        at_once = at_once or any(c.state == 'paused' for c in contracts)
        lines = []
        for contract in contracts:
            contract.close_reason = reason
            contract.close_comment = comment
            contract.closed_on = today
            if not contract.end_date or contract.end_date > end_date:
                contract.end_date = end_date
            contract.ends_on = None if at_once else contract.end_date
            for line in contract.lines:
                if line.end_date is None or line.end_date > end_date:
                    line.end_date = max(end_date, line.start_date)
                    lines.append(line)
        with cls.logging_mrr_itself():
            Line.save(lines)
        cls.save(contracts)
        if at_once:
            # closed today: the MRR is 0 from today on, as the contract
            # shows; a service that ended before churned the day after
            cls._close_now(contracts, lambda c: min(
                    c.end_date + datetime.timedelta(days=1), today))
        else:
            for contract in contracts:
                contract.update_next_billing_date()
            cls.save(contracts)

    @classmethod
    def _close_now(cls, contracts, churn_date=None):
        "Close contracts whose service ended; log the churn on churn_date"
        for contract in contracts:
            contract.ends_on = None
        cls.save(contracts)
        cls.close(contracts)
        for contract in contracts:
            contract.update_next_billing_date()
        cls.save(contracts)
        for contract in contracts:
            date = (churn_date(contract) if churn_date
                else contract.end_date + datetime.timedelta(days=1))
            cls.record_mrr([contract], date, kind='churn',
                close_reason=contract.close_reason)

    @classmethod
    def end_finished(cls, date):
        """Close the contracts whose last day is before date: fixed terms
        and closes scheduled at the end of a period (churn the day after)"""
        contracts = cls.search([
                ('plan', '!=', None),
                ('state', '=', 'running'),
                ('end_date', '<', date),
                ('company', '=', Transaction().context.get('company')),
                ])
        for contract in contracts:
            if contract.ends_on:
                cls._close_now([contract])
            else:
                cls.close_contracts([contract], None, contract.end_date,
                    at_once=True)
        return contracts

    @classmethod
    @ModelView.button
    def reopen(cls, contracts):
        """Reopen closed contracts (logged as a reactivation), or cancel the
        scheduled end of running ones (nothing happened: nothing logged)"""
        ending = [c for c in contracts
            if c.state in {'running', 'paused'} and c.ends_on]
        today = contracts[0]._today() if contracts else None
        # an end the daily run has not closed yet is closed as it would have
        ended = [c for c in ending if c.end_date < today]
        if ended:
            cls._close_now(ended)
        cls.cancel_end([c for c in ending if c not in ended])
        closed = [c for c in contracts if c.state == 'closed']
        cls._bill_before_reopen(closed, today)
        cls._reopen(closed)
        contracts = [c for c in closed if c.state == 'running']
        for contract in contracts:
            contract.update_next_billing_date()
        cls.save(contracts)
        for contract in contracts:
            cls.record_mrr([contract], contract.reopened_on,
                kind='reactivation')

    @classmethod
    def _bill_before_reopen(cls, contracts, date):
        "Invoice the periods of closed contracts still due (in arrears)"
        due = [c for c in contracts
            if c.next_billing_date and c.next_billing_date <= date]
        if due:
            cls.bill(due, date)

    @classmethod
    def cancel_end(cls, contracts):
        "Un-schedule the end of running contracts: they go on as before"
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        lines = []
        for contract in contracts:
            for line in contract.lines:
                if line.end_date and line.end_date == contract.end_date:
                    line.end_date = None
                    lines.append(line)
            contract.restore_end_date()
            contract.ends_on = None
            contract.close_reason = None
            contract.close_comment = None
            contract.closed_on = None
        # the lines' MRR does not change: nothing is logged
        Line.save(lines)
        for contract in contracts:
            contract.update_next_billing_date()
        cls.save(contracts)

    def restore_end_date(self):
        "The end date of the contract without a close: its term's or none"
        self.end_date = None
        if self.plan and self.plan.duration == 'fixed':
            _, self.end_date = self.plan.period(
                self.start_date, self.plan.duration_periods - 1)

    @classmethod
    @Workflow.transition('running')
    def _reopen(cls, contracts):
        pool = Pool()
        Line = pool.get('sale.subscription.line')
        Period = pool.get('sale.subscription.period')
        lines = []
        for contract in contracts:
            today = contract._today()
            end_date = contract.end_date
            for line in contract.lines:
                if line.end_date and line.end_date == end_date:
                    line.end_date = None
                    lines.append(line)
            contract.restore_end_date()
            contract.close_reason = None
            contract.close_comment = None
            contract.reopened_on = today
            paid = Period.search([
                    ('subscription', '=', contract.id),
                    ], order=[('end_date', 'DESC')], limit=1)
            if paid and paid[0].end_date >= today:
                # reopened within a period paid for: it goes on from there
                contract.skip_periods_before(today)
            else:
                # not served while closed, so not invoiced: the periods
                # count from the reopen day, as after a pause
                contract.reanchor(today)
        with cls.logging_mrr_itself():
            Line.save(lines)
        cls.save(contracts)

    def close_end_date(self, timing):
        "The last day of service when closing today or at period end"
        today = self._today()
        if timing == 'today' or not self.plan:
            return today
        period = self.current_period(today)
        end = period[1] if period else today
        return min(end, self.end_date) if self.end_date else end



class CloseContractStart(ModelView):
    __name__ = 'sale.subscription.close.start'

    reason = fields.Many2One(
        'sale.subscription.close_reason', "Reason", required=True,
        help="Why the contract is closed.")
    # chosen by the wizard's buttons (Close Today, Close at Period End), not
    # by a selection in the form: sao 8.0 rebuilds a selection's options
    # when another field changes and a button clicked meanwhile sends its
    # first option, so "Today" chosen, then a comment typed, closed at the
    # end of the period
    timing = fields.Selection([
            ('period_end', "At the End of the Current Period"),
            ('today', "Today"),
            ], "When", required=True, sort=False,
        help="Today closes the contract at once. At the end of the period "
        "it runs until the last day already paid for and the daily run "
        "closes it the day after; Reopen cancels the end until then.")
    end_date = fields.Date(
        "Last Day of Service", readonly=True,
        help="The last day already paid for: closed at the end of the "
        "period, the contract runs and is invoiced until this day and the "
        "daily run closes it the day after (Reopen cancels the end until "
        "then). Close Today ends its service today.")
    comment = fields.Text("Comment")
    contract = fields.Many2One(
        'sale.subscription', "Contract", readonly=True,
        states={'invisible': True})

    @classmethod
    def default_timing(cls):
        return 'period_end'

    @fields.depends('timing', 'contract')
    def on_change_with_end_date(self):
        if self.contract:
            # the client names the contract: over RPC its caller must be
            # allowed to read it (a no-op in Python code)
            if self.contract.id is not None and self.contract.id >= 0:
                self.contract.__class__.read([self.contract.id], ['id'])
            return self.contract.close_end_date(self.timing)


class CloseContract(Wizard):
    __name__ = 'sale.subscription.close'

    start = StateView(
        'sale.subscription.close.start',
        'sale_subscription_contract.close_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Close Today", 'close_today', 'tryton-cancel'),
            Button("Close at Period End", 'close', 'tryton-ok',
                default=True),
            ])
    # closes as the form's timing says (at the end of the period unless a
    # client sets it), close_today at once
    close = StateTransition()
    close_today = StateTransition()

    def default_start(self, fields):
        return {
            'contract': self.record.id,
            'timing': 'period_end',
            'end_date': self.record.close_end_date('period_end'),
            }

    def transition_close(self):
        pool = Pool()
        Contract = pool.get('sale.subscription')
        Contract.close_contracts(
            [self.record], self.start.reason,
            self.record.close_end_date(self.start.timing),
            comment=self.start.comment,
            at_once=self.start.timing == 'today')
        return 'end'

    def transition_close_today(self):
        self.start.timing = 'today'
        return self.transition_close()
