"""MRR forecast (Subscription Contracts › Reporting › MRR Forecast): a small
book built by the module's own operations, today 15 July 2026; its inputs
and the first months of the forecast written out by hand from the
definitions (README, "MRR Forecast"):

- month m ends on today + m months; the trailing months end on today - k
  months (k = 0 .. 5), the MRR at a day is the log's sum up to it;
- new, expansion, reactivation: their trailing 6 months' sum ÷ 6;
- churn and contraction rates: their trailing sum ÷ the sum of the MRR at
  the start of the 6 months; applied to the MRR at the start of the month;
- known changes: fixed terms ending without renewal (minus the MRR of their
  last day, the day after), discounts ending (the MRR they give back the
  day after), pauses resuming (the MRR on the resume day), trials ending
  (their MRR after the trial × the conversion rate of the trials that ended
  in the trailing 6 months).
"""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from demo.company import create_plan
from helpers import customer, make_catalogue, monthly_plan
from test_mrr_movements import close, contract_for

D = datetime.date
TODAY = D(2026, 7, 15)


def build_forecast_book(env):
    """The MRR per customer (the log's changes, by day):
        Carla  80 from 1.9.2025, fixed year, renewal by quotation: its last
               day is 31.8.2026
        Ida    2 × 35 from 1.10.2025, fixed year renewing by itself (no
               known end); 1 seat from 1.3.2026 (contraction 35)
        Alice  100 from 1.1.2026; a second seat on 1.6. (expansion 100)
        Dora   200 - 25 % = 150 from 1.2. (new 150), the discount's last
               day 30.9.2026
        Hans   40 from 1.2., paused from 1.6. (churn 40), resuming 1.9.
        Bob    2 × 50 from 1.3., closed 1.5. (churn 100), back on 1.6.
               with 90 (reactivation)
        Emil   trial 1.4. - 14.4., converted: 60 from 15.4. (new)
        Fritz  trial 1.5. - 14.5., closed at its end (no payment method)
        Greta  trial 10.7. - 23.7., 2 × 30 after it
    Returns the plans."""
    Contract = env.get('sale.subscription')
    Line = env.get('sale.subscription.line')
    monthly = monthly_plan(env)
    fixed = create_plan(env.company, "Jahr fest", 'monthly',
        duration='fixed', duration_periods=12, renewal='manual')
    automatic = create_plan(env.company, "Jahr automatisch", 'monthly',
        duration='fixed', duration_periods=12, renewal='automatic')
    pausable = create_plan(env.company, "Monatlich pausierbar", 'monthly',
        pause_allowed=True)
    trial = create_plan(env.company, "Mit Test", 'monthly', trial_days=14)
    trial_or_end = create_plan(env.company, "Test oder Ende", 'monthly',
        trial_days=14, trial_end_action='close')
    seat = make_catalogue(env)['seat']
    (carla, ida, alice, dora, hans, bob, emil, fritz, greta) = (
        customer(env, name) for name in ["Carla GmbH", "Ida AG",
            "Alice AG", "Dora OHG", "Hans KG", "Bob KG", "Emil e.K.",
            "Fritz GmbH", "Greta UG"])

    contract_for(env, carla, fixed, seat, 1, '80.00', D(2025, 9, 1))
    ida1 = contract_for(env, ida, automatic, seat, 2, '35.00',
        D(2025, 10, 1))
    alice1 = contract_for(env, alice, monthly, seat, 1, '100.00',
        D(2026, 1, 1))
    dora1 = contract_for(env, dora, monthly, seat, 1, '200.00', D(2026, 2, 1))
    with env.on(D(2026, 2, 1)):
        Line.write(list(dora1.lines), {
                'discount_rate': Decimal('0.25'),
                'discount_end_date': D(2026, 9, 30)})
    hans1 = contract_for(env, hans, pausable, seat, 1, '40.00', D(2026, 2, 1))
    bob1 = contract_for(env, bob, monthly, seat, 2, '50.00', D(2026, 3, 1))
    with env.on(D(2026, 3, 1)):
        Line.write(list(ida1.lines), {'quantity': 1})
    contract_for(env, emil, trial, seat, 1, '60.00', D(2026, 4, 1))
    with env.on(D(2026, 4, 15)):
        Contract.end_trials(D(2026, 4, 15))
    close(env, bob1, D(2026, 5, 1))
    contract_for(env, fritz, trial_or_end, seat, 1, '45.00', D(2026, 5, 1))
    with env.on(D(2026, 5, 15)):
        Contract.end_trials(D(2026, 5, 15))
    with env.on(D(2026, 6, 1)):
        Line.write(list(alice1.lines), {'quantity': 2})
        Contract.pause([hans1], D(2026, 6, 1), resume_on=D(2026, 9, 1))
    contract_for(env, bob, monthly, seat, 1, '90.00', D(2026, 6, 1))
    contract_for(env, greta, trial, seat, 2, '30.00', D(2026, 7, 10))
    return {'monthly': monthly, 'fixed': fixed, 'automatic': automatic}


def forecast(env, **filters):
    Forecast = env.get('sale.subscription.reporting.forecast')
    with env.on(TODAY), Transaction().set_context(
            company=env.company.id, **filters):
        return Forecast.search([])


def money(value):
    return Decimal(value).quantize(Decimal('0.01'))


MONTH_FIGURES = ['mrr_start', 'new', 'expansion', 'reactivation', 'churn',
    'contraction', 'known_end', 'known_discount_end', 'known_resume',
    'trial_mrr', 'known_trial', 'mrr']


def figures(row):
    return [getattr(row, n) for n in MONTH_FIGURES]


def test_inputs_follow_the_definitions(env):
    build_forecast_book(env)
    rows = forecast(env)
    assert len(rows) == 12
    first = rows[0]
    assert (first.today, first.trailing_from) == (TODAY, D(2026, 1, 16))
    # the MRR at the end of 15.1., 15.2., ... 15.6. (the months' starts)
    # and today: 250, 440, 505, 565, 465, 615 and 615
    assert first.mrr_today == money(615)
    assert first.trailing_mrr_start == money(
        250 + 440 + 505 + 565 + 465 + 615)
    # new: Dora 150, Hans 40, Bob 100, Emil 60; churn: Bob 100, Hans 40
    assert (first.trailing_new, first.trailing_expansion,
        first.trailing_reactivation, first.trailing_churn,
        first.trailing_contraction) == (
        money(350), money(100), money(90), money(140), money(35))
    # 140 ÷ 2840 = 0.04930; 35 ÷ 2840 = 0.01232
    assert (first.churn_rate, first.contraction_rate) == (
        Decimal('0.0493'), Decimal('0.0123'))
    # Emil converted, Fritz did not; Greta's trial is not over
    assert (first.trials_ended, first.trials_converted,
        first.trial_conversion_rate) == (2, 1, Decimal('0.5'))
    # customers at the starts 3, 5, 6, 7, 6, 6 (33); new Dora, Hans, Bob,
    # Emil; Bob back; Bob and Hans lost: 2 ÷ 33 = 0.0606
    assert (first.customers_today, first.new_customers,
        first.reactivated_customers, first.customer_churn_rate) == (
        6, Decimal('0.67'), Decimal('0.17'), Decimal('0.0606'))
    # contracts alike, Bob's second contract a new one: 5 new, none back
    assert (first.contracts_today, first.new_contracts,
        first.reactivated_contracts, first.contract_churn_rate) == (
        6, Decimal('0.83'), Decimal(0), Decimal('0.0606'))
    # the inputs are the same on every row
    assert {(r.churn_rate, r.mrr_today, r.trial_conversion_rate)
        for r in rows} == {(Decimal('0.0493'), money(615), Decimal('0.5'))}


def test_months_follow_the_recurrence(env):
    build_forecast_book(env)
    rows = forecast(env)
    assert [r.date for r in rows[:3]] == [
        D(2026, 8, 15), D(2026, 9, 15), D(2026, 10, 15)]
    assert rows[-1].date == D(2027, 7, 15)
    # new 350 ÷ 6 = 58.33, expansion 100 ÷ 6 = 16.67, reactivation 15
    # month 1: churn 0.0493 × 615 = 30.32, contraction 0.0123 × 615 =
    # 7.56; Greta's trial ends on 23.7.: 60 × 0.5
    #                  start  new   exp   react churn  contr  end  disc
    #                  resume trials conv  MRR
    assert figures(rows[0]) == [money(v) for v in [
            615, '58.33', '16.67', 15, '30.32', '7.56', 0, 0,
            0, 60, 30, '697.12']]
    # month 2: 0.0493 × 697.12 = 34.37, 0.0123 × 697.12 = 8.57; Carla's
    # term ends 31.8. (-80), Hans resumes 1.9. (+40)
    assert figures(rows[1]) == [money(v) for v in [
            '697.12', '58.33', '16.67', 15, '34.37', '8.57', -80, 0,
            40, 0, 0, '704.18']]
    # month 3: 0.0493 × 704.18 = 34.72, 0.0123 × 704.18 = 8.66; Dora's
    # discount ends 30.9.: +50 from 1.10.; Ida renews by herself
    assert figures(rows[2]) == [money(v) for v in [
            '704.18', '58.33', '16.67', 15, '34.72', '8.66', 0, 50,
            0, 0, 0, '800.80']]
    assert (rows[2].net_new, rows[2].arr) == (money('46.62'),
        money('9609.60'))
    # customers: 6 + 0.67 + 0.17 - 0.0606 × 6 = 6.48, then 6.93;
    # contracts: 6 + 0.83 - 0.0606 × 6 = 6.47
    assert [r.customers for r in rows[:2]] == [
        Decimal('6.48'), Decimal('6.93')]
    assert rows[0].contracts == Decimal('6.47')
    # no known change after the third month: each month from the one before
    mrr = rows[2].mrr
    for row in rows[3:]:
        churn = money(Decimal('0.0493') * mrr)
        contraction = money(Decimal('0.0123') * mrr)
        assert (row.churn, row.contraction) == (churn, contraction)
        mrr += money(90) - churn - contraction
        assert row.mrr == mrr
    # the 12th month's growth is the projected annual growth
    assert rows[-1].growth == (mrr / money(615) - 1).quantize(
        Decimal('0.0001'))
    assert rows[0].growth == Decimal('0.1335')  # 697.12 ÷ 615 - 1


def test_filters_restrict_the_book(env):
    plans = build_forecast_book(env)
    # Carla's plan: her 80 ends after August, nothing else moves
    rows = forecast(env, plan=plans['fixed'].id)
    assert [r.mrr for r in rows[:3]] == [money(80), money(0), money(0)]
    assert rows[1].known_end == money(-80)
    assert (rows[0].churn_rate, rows[0].trials_ended) == (Decimal(0), 0)
    assert rows[-1].growth == Decimal(-1)
    # Ida's plan renews by itself: no known end, her contraction a rate:
    # 35 ÷ (70 + 70 + 35 × 4)
    rows = forecast(env, plan=plans['automatic'].id)
    assert {r.known_end for r in rows} == {money(0)}
    assert rows[0].contraction_rate == Decimal('0.1250')
    assert rows[0].mrr == money(35) - money(Decimal('0.125') * 35)
    Country = env.get('country.country')
    nowhere = Country(name="Nirgendwo", code='ZZ')
    nowhere.save()
    rows = forecast(env, country=nowhere.id)
    assert {(r.mrr, r.growth, r.customers) for r in rows} == {
        (money(0), None, Decimal(0))}


def test_without_company_nothing(env):
    Forecast = env.get('sale.subscription.reporting.forecast')
    with Transaction().set_context(company=None):
        assert Forecast.search([]) == []
