# Customer e-mails: the invoice of a billing run and the payment notices,
# each in the customer's language from a template the admin edits (the
# ERP's ir.email.template, seeded in data/customer_email.xml), with the
# invoice as PDF, logged as the ERP's ir.email.
#
# Every e-mail is an outbox row sent by its own queue task once the billing
# run has committed: SMTP is never part of the billing transaction, so a
# mail server that is down cannot lose an invoice. A failed send marks the
# row failed (with the error) and the cron retries it.
import datetime
import html as html_
import logging
import re
from email.message import EmailMessage

from genshi.template import TextTemplate

import trytond.config as config
from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import html_to_text
from trytond.sendmail import send_message
from trytond.tools import slugify
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, TransactionError

from ..exceptions import CustomerEmailError

logger = logging.getLogger(__name__)

KINDS = [
    ('invoice', "Invoice"),
    ('payment_failed', "Payment Failed"),
    ('payment_reminder', "Payment Reminder"),
    ('closed_unpaid', "Closed Unpaid"),
    ]
# the cron stops retrying a failed e-mail after this many attempts; the
# Retry button still sends it
MAX_ATTEMPTS = 5
# a pending e-mail older than this lost its task (no worker): the cron sends it
STALE_AFTER = datetime.timedelta(minutes=15)
HTML = ('<!DOCTYPE html>\n<html>\n<head><title>%(subject)s</title></head>\n'
    '<body>%(body)s</body>\n</html>')


def plain_text(body):
    "The text part of an HTML body (by the ERP's html2text when installed)"
    text = html_to_text(body)
    if text:
        return text
    text = re.sub(r'(?i)<br\s*/?>|</p>|</div>|</li>', '\n', body)
    text = re.sub(r'<[^>]+>', '', text)
    return html_.unescape(text).strip() + '\n'


def render_template(template, name, values):
    "The subject or body (name) of an e-mail template rendered with values"
    text = getattr(template, name) or ''
    try:
        return TextTemplate(text).generate(**values).render()
    except Exception as exception:
        raise CustomerEmailError(gettext(
                'sale_subscription_contract'
                '.msg_customer_email_template_error',
                template=template.rec_name,
                error=str(exception))) from exception


class CustomerEmail(Workflow, ModelSQL, ModelView):
    __name__ = 'sale.subscription.customer_email'

    subscription = fields.Many2One(
        'sale.subscription', "Contract", required=True, readonly=True,
        ondelete='CASCADE',
        help="The contract the e-mail is about.")
    party = fields.Many2One(
        'party.party', "Customer", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The customer the e-mail is sent to.")
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The invoice attached to the e-mail.")
    kind = fields.Selection(
        KINDS, "Kind", required=True, readonly=True, sort=False,
        help="Which template the e-mail is written from.")
    payment = fields.Many2One(
        'account.payment', "Payment", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': Eval('kind') != 'payment_failed',
            },
        help="The refused charge the e-mail is about.")
    hard = fields.Boolean(
        "Hard Decline", readonly=True,
        states={
            'invisible': Eval('kind') != 'payment_failed',
            },
        help="The payment method was refused for good: the e-mail asks "
        "for a new one.")
    step = fields.Integer(
        "Reminder Step", readonly=True,
        states={
            'invisible': Eval('kind') != 'payment_reminder',
            },
        help="Which reminder of the dunning this is.")
    language = fields.Many2One(
        'ir.lang', "Language", readonly=True, ondelete='SET NULL',
        help="The customer's language the e-mail is written in.")
    state = fields.Selection([
            ('pending', "Pending"),
            ('sent', "Sent"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False,
        help="Pending: waiting for its queue task.\n"
        "Sent: accepted by the mail server, see the e-mail.\n"
        "Failed: not sent, see the error; retried by the cron.")
    attempts = fields.Integer(
        "Failed Attempts", readonly=True,
        help="How many times sending failed.")
    error = fields.Text(
        "Error", readonly=True,
        states={
            'invisible': ~Eval('error'),
            },
        help="Why the last attempt failed.")
    email = fields.Many2One(
        'ir.email', "E-mail", readonly=True, ondelete='SET NULL',
        help="The e-mail as sent, with its attachments.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'sent'),
            ('pending', 'failed'),
            ('failed', 'pending'),
            }
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('state') != 'failed',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_hard(cls):
        return False

    @classmethod
    @ModelView.button
    @Workflow.transition('pending')
    def retry(cls, emails):
        "Send the failed e-mails again by a queue task each"
        for email in emails:
            cls.__queue__.deliver([email])

    @classmethod
    def retry_failed(cls):
        """Cron entry: retry the failed e-mails that have attempts left and
        send the pending ones whose task no worker ran"""
        cls.retry(cls.search([
                    ('state', '=', 'failed'),
                    ('attempts', '<', MAX_ATTEMPTS),
                    ]))
        # without a worker, tasks queued by a task (the billing batches of
        # the cron) or by the CLI wait in ir.queue: the cron runs its own
        # create_date is stored in UTC without a time zone
        stale = (datetime.datetime.now(datetime.timezone.utc).replace(
                tzinfo=None) - STALE_AFTER)
        for email in cls.search([
                    ('state', '=', 'pending'),
                    ('create_date', '<', stale),
                    ]):
            cls.__queue__.deliver([email])

    @classmethod
    @Workflow.transition('sent')
    def _sent(cls, emails):
        pass

    @classmethod
    @Workflow.transition('failed')
    def _failed(cls, emails):
        pass

    @classmethod
    def deliver(cls, emails):
        "Queue task: send the pending e-mails"
        for email in emails:
            if email.state != 'pending':
                continue
            try:
                email._send()
            except (backend.DatabaseOperationalError, TransactionError):
                raise  # the queue redoes the task
            except Exception as exception:
                # SMTP down or refusing, no address, no PDF: keep the row
                # (and the invoice) and let the cron try again
                error = (exception.message if isinstance(exception, UserError)
                    else '%s: %s' % (type(exception).__name__, exception))
                logger.warning(
                    "customer e-mail %s (%s of %s) failed: %s",
                    email.id, email.kind, email.subscription.rec_name, error,
                    exc_info=not isinstance(exception, UserError))
                email.attempts = (email.attempts or 0) + 1
                email.error = error
                email.save()
                cls._failed([email])
            else:
                cls._sent([email])

    def _send(self):
        "Send the e-mail now (strict: raise on failure) and log it"
        pool = Pool()
        Email = pool.get('ir.email')
        Attachment = pool.get('ir.attachment')
        AccessToken = pool.get('sale.subscription.access_token')
        tokens = []
        try:
            msg, body, files = self._get_message(tokens)
            send_message(msg, strict=True)
        except Exception:
            # a link that was never sent must not open anything
            AccessToken.delete(tokens)
            raise
        log = Email.from_message(msg, body=body, resource=self.invoice)
        log.save()
        Attachment.save([
                Attachment(resource=log, name=name, data=data)
                for name, data in files])
        self.email = log
        self.error = None
        self.save()

    @property
    def template_xml_id(self):
        return 'email_template_' + self.kind

    @property
    def link_purpose(self):
        "What the secure link of the e-mail is for, None for no link"
        if self.kind == 'invoice':
            return None
        if self.kind == 'payment_failed' and self.hard:
            return 'payment_method'
        return 'pay'

    def _get_message(self, tokens):
        """Return (message, body to log, [(file name, data)]) in the
        customer's language; the secure link made for it is appended to
        tokens"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Template = pool.get('ir.email.template')
        Configuration = pool.get('ir.configuration')
        Lang = pool.get('ir.lang')
        Invoice = pool.get('account.invoice')
        Contract = pool.get('sale.subscription')
        AccessToken = pool.get('sale.subscription.access_token')

        code = (self.language.code if self.language
            else Configuration.get_language())
        template_id = ModelData.get_id(
            'sale_subscription_contract', self.template_xml_id)
        with Transaction().set_context(language=code):
            # read again in the language: translated subject, body, names
            template = Template(template_id)
            invoice = Invoice(self.invoice.id)
            contract = Contract(self.subscription.id)
            recipients = (getattr(invoice, template.recipients.name, None)
                if template.recipients else invoice.party)
            with Transaction().set_context(usage=template.contact_mechanism):
                to = Template.get_addresses(recipients)
            if not to:
                raise CustomerEmailError(gettext(
                        'sale_subscription_contract'
                        '.msg_customer_email_no_address',
                        contract=contract.rec_name,
                        party=invoice.party.rec_name))
            files = [self._get_pdf(report, invoice)
                for report in template.reports]
            link = None
            if self.link_purpose:
                link, token = contract.access_link(self.link_purpose)
                tokens.append(token)
                # the log keeps the link without its token: the database
                # must never hold a token in clear
                logged_link = link.rsplit('/', 1)[0] + '/***'
            values = template.get_context(invoice)
            values.update({
                    'invoice': invoice,
                    'contract': contract,
                    'party': invoice.party,
                    'hard': bool(self.hard),
                    'step': self.step,
                    'link': link,
                    'link_days': AccessToken.validity().days,
                    'lang': Lang.get(code),
                    })
            subject = ' '.join(render_template(
                    template, 'subject', values).split())
            body = render_template(template, 'body', values)
            logged_body = body
            if link:
                logged_body = body.replace(link, logged_link)

        msg = EmailMessage()
        html = HTML % {'subject': subject, 'body': body}
        msg.add_alternative(plain_text(body), subtype='plain')
        msg.add_alternative(html, subtype='html')
        for name, data in files:
            msg.add_attachment(data, maintype='application', subtype='pdf',
                filename=('utf-8', '', name))
        sender = (config.get('subscription', 'email_from')
            or config.get('email', 'from'))
        set_from_header(msg, config.get('email', 'from'), sender)
        msg['To'] = to
        msg['Subject'] = subject
        msg['Auto-Submitted'] = 'auto-generated'
        return msg, logged_body, files

    def _get_pdf(self, report, invoice):
        "Return (file name, PDF) of the action report for invoice"
        pool = Pool()
        Report = pool.get(report.report_name, type='report')
        ext, data, _, title = Report.execute(
            [invoice.id], {'action_id': report.id})
        if isinstance(data, str):
            data = data.encode('utf-8')
        if (ext != 'pdf' and report.extension == 'pdf'
                and ext == report.template_extension):
            # the ERP keeps an invoice's first print as it was made: when
            # that was the back office's ODT, convert it as the action does
            ext, data = Report.convert(report, data)
        if ext != 'pdf':
            raise CustomerEmailError(gettext(
                    'sale_subscription_contract.msg_customer_email_no_pdf',
                    report=report.rec_name, invoice=invoice.rec_name))
        return '%s.pdf' % slugify(title), data


class Contract(metaclass=PoolMeta):
    __name__ = 'sale.subscription'

    customer_emails = fields.One2Many(
        'sale.subscription.customer_email', 'subscription',
        "Customer E-mails", readonly=True,
        help="The invoices and payment notices e-mailed to the customer.")

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default else {}
        default.setdefault('customer_emails', None)
        return super().copy(contracts, default=default)

    def notify_customer(self, kind, **values):
        "E-mail the customer about an invoice (see notify_customers)"
        email, = self.notify_customers([(self, kind, values)])
        return email

    @classmethod
    def notify_customers(cls, notices):
        """E-mail each customer about an invoice, in their language.

        notices: (contract, kind, values) with kind 'invoice' (values:
        invoice), 'payment_failed' (invoice, payment, hard),
        'payment_reminder' (invoice, step) or 'closed_unpaid' (invoice).
        Each e-mail is sent by a queue task after commit; returns their
        outbox rows, the one record of each notice (the payment log does
        not repeat them)."""
        pool = Pool()
        CustomerEmail = pool.get('sale.subscription.customer_email')
        for _, kind, values in notices:
            if kind not in dict(KINDS):
                raise ValueError("unknown customer notice %r" % kind)
            if values.get('invoice') is None:
                raise ValueError("customer notice %r needs an invoice" % kind)
        emails = [CustomerEmail(
                subscription=contract, party=contract.party,
                invoice=values['invoice'], kind=kind,
                payment=values.get('payment'),
                hard=bool(values.get('hard')), step=values.get('step'),
                language=contract.party.lang)
            for contract, kind, values in notices]
        CustomerEmail.save(emails)
        for email in emails:
            # one task each: a rerun task never sends another e-mail twice
            CustomerEmail.__queue__.deliver([email])
        return emails

    @classmethod
    def notify_invoices(cls, invoices):
        """Queue the e-mail of each posted invoice of a contract on a plan
        that e-mails its invoices (the billing run's step 6)"""
        pool = Pool()
        Period = pool.get('sale.subscription.period')
        periods = Period.search([
                ('invoice', 'in', [i.id for i in invoices]),
                ('subscription.plan.invoicing_mode', '=', 'invoice'),
                ('invoice.state', 'in', ['posted', 'paid']),
                ], order=[('id', 'ASC')])
        cls.notify_customers([(period.subscription, 'invoice',
                    {'invoice': period.invoice}) for period in periods])
