# The invoiced revenue of the Subscription KPIs (mrr_kpi.py): per period,
# the net revenue and its non-recurring part, from the customer invoices and
# credit notes of the company, in one SQL aggregation.
#
# Amounts are the company-currency amounts the ERP posted for each invoice
# line (its move line: untaxed, converted with the ERP's rates at the
# invoice's currency date), so the report agrees with the accounts.
#
# A credit note (in Tryton an 'out' invoice with negative quantities) is
# counted on its own date, negative; each of its lines is classified and
# attributed as the line it credits (its origin), so crediting a setup fee
# takes back non-recurring revenue.
from sql import Literal, Null
from sql.aggregate import Min, Sum
from sql.conditionals import Case, Coalesce

from trytond.pool import Pool

from .mrr_movement import FILTERS, month_of

# invoices whose revenue stands: a cancelled one only if a credit note
# refunded it (its move stays in the books, the credit note reverses it)
POSTED = ['posted', 'paid']


def _origin_id(line, Model):
    "The id of the invoice line's origin when it is a Model, else NULL"
    InvoiceLine = Pool().get('account.invoice.line')
    return Case((line.origin.like(Model.__name__ + ',%'),
            InvoiceLine.origin.sql_id(line.origin, Model)))


def revenue_per_period(company_id, context, months, first_day, end_day):
    """Per period (start): the net revenue (net_revenue) and its
    non-recurring part (non_recurring) of the customer invoices dated from
    first_day to before end_day, under the context's filters; months maps
    each month's first day to its period's first day (month_periods)"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    MoveLine = pool.get('account.move.line')
    invoice = Invoice.__table__()
    credit_note = Invoice.__table__()
    line = InvoiceLine.__table__()
    move_line = MoveLine.__table__()

    refunded = credit_note.select(credit_note.move,
        where=credit_note.state.in_(POSTED) & (credit_note.move != Null))
    standing = (invoice.state.in_(POSTED)
        | ((invoice.state == 'cancelled')
            & invoice.cancel_move.in_(refunded)))
    query = (invoice
        .join(line, condition=(line.invoice == invoice.id)
            & (line.type == 'line'))
        .join(move_line, condition=(move_line.move == invoice.move)
            & move_line.origin.like('account.invoice.line,%')
            & (MoveLine.origin.sql_id(move_line.origin, InvoiceLine)
                == line.id)))
    query, recurring, contract = _with_sources(query, line)
    lines = query.select(
        invoice.invoice_date.as_('date'),
        (move_line.credit - move_line.debit).as_('amount'),
        Case((recurring, 1), else_=0).as_('recurring'),
        contract.as_('contract'),
        where=(invoice.company == company_id)
        & (invoice.type == 'out') & standing
        & (invoice.invoice_date >= first_day)
        & (invoice.invoice_date < end_day))

    where = Literal(True)
    filtered = _filtered_contracts(context)
    if filtered is not None:
        # a filter keeps the lines of its contracts only
        where &= lines.contract.in_(filtered)
    return (lines
        .join(months, condition=month_of(lines.date) == months.column1)
        .select(months.column2.as_('start'),
            Sum(lines.amount).as_('net_revenue'),
            Sum(Case((lines.recurring == Literal(0), lines.amount),
                    else_=Literal(0))).as_('non_recurring'),
            where=where, group_by=[months.column2]))


def _with_sources(query, line):
    """query joined with what tells of its invoice line (line) whether it
    is recurring and its contract, both read on the line it credits if it
    is a credit: (query, recurring condition, contract id or NULL)"""
    pool = Pool()
    InvoiceLine = pool.get('account.invoice.line')
    ContractLine = pool.get('sale.subscription.line')
    Adjustment = pool.get('sale.subscription.adjustment')
    Period = pool.get('sale.subscription.period')
    SaleLine = pool.get('sale.line')
    Contract = pool.get('sale.subscription')
    source = InvoiceLine.__table__()
    contract_line = ContractLine.__table__()
    adjustment = Adjustment.__table__()
    period = Period.__table__()
    sale_line = SaleLine.__table__()
    contract = Contract.__table__()

    # one level: a credit note's line has the credited line as origin
    credited = _origin_id(line, InvoiceLine)
    query = (query
        .join(source, condition=source.id == Coalesce(credited, line.id))
        .join(contract_line, type_='LEFT', condition=contract_line.id
            == _origin_id(source, ContractLine))
        .join(adjustment, type_='LEFT',
            condition=adjustment.id == source.subscription_adjustment)
        .join(sale_line, type_='LEFT',
            condition=sale_line.id == _origin_id(source, SaleLine))
        # the one-time lines of a sale belong to the contract it made
        .join(contract, type_='LEFT',
            condition=contract.origin_sale == sale_line.sale))
    # the contract of a billing-run invoice (a plan's setup fee has no
    # origin); the run writes an invoice per period
    invoiced = period.select(Min(period.subscription),
        where=period.invoice == source.invoice)
    # recurring: a service's period (prorated or not) and the prorated
    # adjustments; a setup fee is one-time though its origin may be the
    # contract line it is charged for
    recurring = (((contract_line.id != Null)
            & (Coalesce(source.subscription_setup_fee, False)
                == Literal(False)))
        | (adjustment.id != Null))
    return query, recurring, Coalesce(contract_line.subscription,
        adjustment.subscription, invoiced, contract.id)


def _filtered_contracts(context):
    """The ids of the contracts of the context's plan, product, sales team,
    salesperson and customer country filters (the contracts' own); None
    without a filter"""
    pool = Pool()
    Contract = pool.get('sale.subscription')
    Movement = pool.get('sale.subscription.reporting.mrr_movement')
    contract = Contract.__table__()
    if not any(context.get(f) for f in FILTERS):
        return None
    return contract.select(contract.id,
        where=Movement._filter_condition(contract, contract.id, context))
