# The back-office wizard that closes a contract with a reason.
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.wizard import Button, StateTransition, StateView, Wizard


class CloseContractStart(ModelView):
    __name__ = 'sale.subscription.close.start'

    reason = fields.Many2One(
        'sale.subscription.close_reason', "Reason", required=True,
        help="Why the contract is closed.")
    timing = fields.Selection([
            ('period_end', "At the End of the Current Period"),
            ('today', "Today"),
            ], "When", required=True, sort=False,
        help="The service ends today, or at the end of the period "
        "that is already paid for.")
    end_date = fields.Date(
        "Last Day of Service", readonly=True,
        help="The contract is not invoiced beyond this day.")
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
            Button("Close", 'close', 'tryton-ok', default=True),
            ])
    close = StateTransition()

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
            comment=self.start.comment)
        return 'end'
