# every cron entry of the module, in one place
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('sale.subscription|bill_due_contracts',
                    "Invoice Due Subscription Contracts"),
                ('sale.subscription|process_lifecycle',
                    "Pause, Resume, End Trials and Renew Subscription "
                    "Contracts"),
                ('sale.subscription|run_payment_dunning',
                    "Retry Failed Subscription Payments"),
                ('account.payment|subscription_janitor',
                    "Settle Subscription Charges of Unknown Outcome"),
                ('sale.subscription.customer_email|retry_failed',
                    "Retry Failed Customer E-mails"),
                ('ir.queue|requeue_dead_tasks',
                    "Requeue the Tasks of Dead Workers"),
                ('sale.subscription.access_token|delete_expired',
                    "Delete Expired Customer Links"),
                ])
