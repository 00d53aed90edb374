"""Breathing Space (BS-01..BS-09, WE-7) and repayment plans (RP-01, SFS)."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from casework.constants import CaseStatus
from casework.models import Case, Letter
from casework.runs.services import run_start
from casework.services import DomainError
from debt import relief as rules
from debt.constants import HoldKind, PaymentMethod
from debt.holds import holds_for
from debt.models import BreathingSpaceRule, PlanMiss, PlanRule, RepaymentPlan, SpendingGuideline, SuppressedAction
from debt.models.relief import MoratoriumKind, PlanStatus
from debt.relief_apps import ready
from debt.services import relief as services

from .factories import ClientFactory, UserFactory
from .factories_debt import InvoiceFactory, PaymentFactory

ready()  # debt/apps.py will call this once the coordinator wires it; calling it twice is harmless

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return UserFactory(username="relief-officer")


@pytest.fixture
def bs_rule():
    # The migration seeds the rule in force since 4 May 2021; the test pins its figures.
    return BreathingSpaceRule.objects.update_or_create(
        effective_from=date(2021, 5, 4), defaults={"standard_days": 60, "review_request_days": 19, "crisis_extra_days": 30})[0]


def _record(client, actor, **kw):
    args = {"kind": MoratoriumKind.STANDARD, "register_entry_date": date(2025, 5, 14), "adviser_name": "Sam Adviser",
            "adviser_organisation": "StepChange", "insolvency_reference": "BS123", "actor": actor, **kw}
    return services.moratorium_record(client=client, **args)


# Breathing Space --------------------------------------------------------------------------------

def test_we7_standard_breathing_space_dates(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor)
    assert moratorium.start_date == date(2025, 5, 15)  # BS-02: the day after the register entry
    assert moratorium.review_due_on == date(2025, 6, 3)  # BS-07: 20 days beginning with the start
    assert moratorium.expected_end == date(2025, 7, 14)  # BS-03: protect through start + 60


def test_bs01_mental_health_crisis_is_open_until_treatment_ends_plus_30_days(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor, kind=MoratoriumKind.MENTAL_HEALTH)
    assert moratorium.expected_end is None
    client_id = moratorium.client_id
    assert services.active_moratorium(client_id, date(2026, 5, 15)) == moratorium  # no fixed maximum
    moratorium = services.moratorium_treatment_ended(moratorium=moratorium, treatment_ended_on=date(2025, 9, 1),
                                                     actor=actor)
    assert moratorium.expected_end == date(2025, 10, 1)
    assert services.active_moratorium(client_id, date(2025, 10, 1)) == moratorium
    assert services.active_moratorium(client_id, date(2025, 10, 2)) is None


def test_bs07_review_due_date_comes_from_the_rule_in_force(actor):
    BreathingSpaceRule.objects.update_or_create(effective_from=date(2021, 5, 4), defaults={"review_request_days": 19})
    BreathingSpaceRule.objects.create(effective_from=date(2025, 1, 1), review_request_days=25, standard_days=59)
    moratorium = _record(ClientFactory(), actor)
    assert moratorium.review_due_on == date(2025, 6, 9)
    assert moratorium.expected_end == date(2025, 7, 13)


def test_bs07_a_review_request_after_the_due_date_is_refused(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor)
    with pytest.raises(DomainError):
        services.moratorium_review_request(moratorium=moratorium, requested_on=date(2025, 6, 4), grounds="x",
                                           actor=actor)
    moratorium = services.moratorium_review_request(moratorium=moratorium, requested_on=date(2025, 6, 3),
                                                    grounds="Debtor has sufficient funds", actor=actor)
    assert moratorium.review_requested_on == date(2025, 6, 3)


def test_an_active_moratorium_holds_only_the_covered_debts(bs_rule, actor):
    client = ClientFactory()
    covered = InvoiceFactory(client=client, issue_date=date(2025, 4, 1))
    other = InvoiceFactory(client=client, issue_date=date(2025, 4, 2))
    moratorium = _record(client, actor, invoices=[covered])
    assert services.covered_invoice_ids(moratorium) == {covered.pk}
    holds = holds_for(client.pk, date(2025, 6, 1))
    assert [h.kind for h in holds] == [HoldKind.BREATHING_SPACE]
    assert "14 July 2025" in holds[0].reason
    assert holds_for(client.pk, date(2025, 7, 15)) == []  # after the expected end
    assert holds_for(ClientFactory().pk, date(2025, 6, 1)) == []
    assert other.pk not in services.covered_invoice_ids(moratorium)


def test_bs06_all_debts_means_those_owed_at_the_start_not_later_charges(bs_rule, actor):
    client = ClientFactory()
    before = InvoiceFactory(client=client, issue_date=date(2025, 5, 1))
    after = InvoiceFactory(client=client, issue_date=date(2025, 6, 1))
    moratorium = _record(client, actor)
    assert services.covered_invoice_ids(moratorium) == {before.pk}
    assert after.pk not in services.covered_invoice_ids(moratorium)


def test_a_cancelled_moratorium_stops_holding(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor)
    services.moratorium_end(moratorium=moratorium, ended_on=date(2025, 6, 10), reason="cancelled", actor=actor)
    assert holds_for(moratorium.client_id, date(2025, 6, 11)) == []


def test_suppression_log_records_what_was_not_done(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor)
    row = services.suppression_record(client=moratorium.client, action="debt.recovery.letter",
                                      detail="First reminder not sent", on=date(2025, 6, 1))
    assert row.moratorium == moratorium
    with pytest.raises(Exception):
        SuppressedAction.objects.filter(pk=row.pk).update(detail="changed")


def test_moratorium_days_and_recovery_pause_days(bs_rule, actor):
    moratorium = _record(ClientFactory(), actor)
    services.moratorium_end(moratorium=moratorium, ended_on=date(2025, 6, 13), reason="ended", actor=actor)
    moratorium.refresh_from_db()
    assert services.moratorium_days(moratorium) == 30  # 15 May to 13 June inclusive
    assert services.recovery_pause_days(moratorium.client_id, date(2025, 5, 1), date(2025, 12, 31)) == 30
    assert services.recovery_pause_days(moratorium.client_id, date(2025, 6, 1), date(2025, 6, 5)) == 5
    assert services.recovery_pause_days(moratorium.client_id, date(2025, 7, 1), date(2025, 7, 31)) == 0


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    def run(job: str, on: date):
        with django_capture_on_commit_callbacks(execute=True):
            return run_start(job=job, business_date=on, trigger="test")
    return run


def test_expiry_job_marks_a_moratorium_expired_after_its_expected_end(bs_rule, actor, run_job):
    moratorium = _record(ClientFactory(), actor)
    run_job("breathing_space_expiry", date(2025, 7, 15))
    moratorium.refresh_from_db()
    assert (moratorium.ended_on, moratorium.end_reason) == (date(2025, 7, 14), "expired")


# Repayment plans --------------------------------------------------------------------------------

@pytest.mark.parametrize("total, instalment, frequency, count", [
    (Decimal("100.00"), Decimal("30.00"), "monthly", 4),
    (Decimal("100.00"), Decimal("33.34"), "weekly", 3),
    (Decimal("1000.01"), Decimal("7.00"), "four_weekly", 143),
    (Decimal("0.05"), Decimal("0.02"), "monthly", 3),
    (Decimal("250.00"), Decimal("250.00"), "monthly", 1),
])
def test_plan_instalments_sum_exactly_to_the_total(total, instalment, frequency, count):
    rows = rules.schedule(total=total, instalment_amount=instalment, frequency=frequency, start=date(2026, 1, 31))
    assert len(rows) == count
    assert sum(r.amount for r in rows) == total
    assert all(r.amount <= instalment for r in rows[:-1])
    assert rows[-1].due_to_date == total


def test_monthly_instalment_dates_keep_the_day_of_month():
    rows = rules.schedule(total=Decimal("90"), instalment_amount=Decimal("30"), frequency="monthly",
                          start=date(2026, 1, 31))
    assert [r.due_on for r in rows] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_rp01_affordability_flags_spending_above_the_guideline():
    SpendingGuideline.objects.create(category="food", household_type="single", monthly_trigger=Decimal("300"),
                                     effective_from=date(2025, 4, 1))
    SpendingGuideline.objects.create(category="travel", household_type="single", monthly_trigger=Decimal("100"),
                                     effective_from=date(2025, 4, 1))
    check = services.assess({"pensions": Decimal("900"), "benefits": Decimal("300"), "food": Decimal("350"),
                             "travel": Decimal("100"), "home": Decimal("500")}, "single", date(2026, 1, 1))
    assert [c.category for c in check.flagged] == ["food"]  # travel at the guideline is not questioned
    assert (check.income, check.spending, check.disposable) == (Decimal("1200.00"), Decimal("950.00"),
                                                                Decimal("250.00"))


@pytest.fixture
def plan_setup(actor, django_capture_on_commit_callbacks):
    PlanRule.objects.create(effective_from=date(2020, 1, 1), grace_days=7, breaks_allowed=1)
    client = ClientFactory()
    InvoiceFactory(client=client, total=Decimal("300.00"))
    with django_capture_on_commit_callbacks(execute=True):
        plan = services.plan_agree(client=client, household_type="single", amounts={"pensions": Decimal("1000"),
                                   "home": Decimal("600")}, instalment_amount=Decimal("100"), frequency="monthly",
                                   start_date=date(2026, 12, 1), method=PaymentMethod.BANK_TRANSFER, actor=actor)
    return plan


def test_agreeing_a_plan_sends_a_confirmation_listing_the_instalments_and_holds_recovery(plan_setup):
    plan = RepaymentPlan.objects.get(pk=plan_setup.pk)
    assert plan.total == Decimal("300.00")
    assert plan.confirmation_letter.letter_type == "plan_confirmation"
    assert [h.kind for h in holds_for(plan.client_id, date(2026, 12, 5))] == [HoldKind.REPAYMENT_PLAN]


def test_a_plan_costing_more_than_the_disposable_income_is_refused(actor):
    client = ClientFactory()
    InvoiceFactory(client=client)
    with pytest.raises(DomainError):
        services.plan_agree(client=client, household_type="single", amounts={"pensions": Decimal("500"),
                            "home": Decimal("480")}, instalment_amount=Decimal("25"), frequency="monthly",
                            start_date=date(2026, 12, 1), method=PaymentMethod.CASH, actor=actor)


@pytest.fixture
def check(run_job):
    return lambda on: run_job("plan_check", on)


def test_a_missed_instalment_after_the_grace_period_sends_one_letter(plan_setup, check):
    plan = plan_setup
    check(date(2026, 12, 8))  # due 1 December + 7 days grace: not yet missed
    assert not PlanMiss.objects.filter(plan=plan).exists()
    check(date(2026, 12, 9))
    check(date(2026, 12, 10))  # a later run finds the same miss already recorded
    assert Letter.objects.filter(client=plan.client, letter_type="plan_missed_instalment").count() == 1
    plan.refresh_from_db()
    assert (plan.status, plan.times_broken) == (PlanStatus.ACTIVE, 1)


def test_payments_since_the_start_keep_a_plan_on_track(plan_setup, check):
    PaymentFactory(client=plan_setup.client, amount=Decimal("100.00"), received_on=date(2026, 12, 3))
    check(date(2026, 12, 20))
    assert not PlanMiss.objects.filter(plan=plan_setup).exists()


def test_broken_twice_the_plan_is_broken_its_hold_ends_and_the_case_is_escalated(plan_setup, check):
    plan = plan_setup
    check(date(2026, 12, 9))
    # The second instalment's 1 January 2027 (New Year's Day) moves to Monday 4 January: not yet
    # missed on 9 January, missed once its grace ends on 11 January.
    check(date(2027, 1, 9))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE and plan.times_broken == 1
    check(date(2027, 1, 12))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.BROKEN and plan.times_broken == 2
    assert holds_for(plan.client_id, date(2027, 1, 13)) == []
    assert Case.objects.get(client=plan.client).status == CaseStatus.ESCALATED
    assert Letter.objects.filter(client=plan.client, letter_type="plan_missed_instalment").count() == 2


def test_no_missed_payment_letter_during_breathing_space_and_the_suppression_is_logged(plan_setup, check, bs_rule, actor):
    _record(plan_setup.client, actor, register_entry_date=date(2026, 12, 5))
    check(date(2026, 12, 9))
    assert not Letter.objects.filter(client=plan_setup.client, letter_type="plan_missed_instalment").exists()
    assert SuppressedAction.objects.filter(client=plan_setup.client, action="debt.plan.missed_letter").count() == 1


def test_the_transition_table_refuses_impossible_moves(plan_setup, actor):
    plan = services.plan_transition(plan=plan_setup, to_status=PlanStatus.CANCELLED, reason="Client asked",
                                    actor=actor)
    for status in (PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.BROKEN):
        with pytest.raises(DomainError):
            services.plan_transition(plan=plan, to_status=status, reason="x", actor=actor)
    assert services.plan_transition(plan=plan, to_status=PlanStatus.CANCELLED, actor=actor).status == "cancelled"


# Pages ------------------------------------------------------------------------------------------

def test_an_officer_records_a_moratorium_from_the_notice(client_as, bs_rule):
    from casework.roles import Role

    person = ClientFactory()
    http = client_as(Role.INCOME_OFFICER)
    response = http.post(reverse("debt:moratorium_create", args=[person.pk]), {
        "kind": "standard", "register_entry_date_0": "14", "register_entry_date_1": "5",
        "register_entry_date_2": "2025", "insolvency_reference": "BS999", "adviser_name": "Sam",
        "adviser_organisation": "Citizens Advice"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert http.get(response["Location"]).status_code == 200
    assert http.get(reverse("debt:moratorium_list") + "?format=csv").status_code == 200


def test_plan_pages_show_the_schedule_and_the_affordabilitycheck(client_as, plan_setup):
    from casework.roles import Role

    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:plan_detail", args=[plan_setup.pk])).content.decode()
    assert "1 Feb 2027" in page
    officer = client_as(Role.INCOME_OFFICER)
    response = officer.post(reverse("debt:plan_create", args=[ClientFactory().pk]), {
        "household_type": "single", "instalment_amount": "10", "frequency": "monthly",
        "start_date_0": "1", "start_date_1": "12", "start_date_2": "2026", "method": "cash",
        "sfs_pensions": "500", "sfs_home": "100", "check": "1"})
    assert response.status_code == 200
    assert "£400.00" in response.content.decode()


def test_bs08_a_second_standard_breathing_space_within_12_months_is_recorded_with_a_warning(bs_rule, actor):
    client = ClientFactory()
    first = _record(client, actor)
    assert first.eligibility_warning == ""
    second = _record(client, actor, insolvency_reference="BS124", register_entry_date=date(2026, 5, 13))
    assert second.eligibility_warning.startswith("A standard breathing space already started on 15 May 2025")
    crisis = _record(client, actor, insolvency_reference="BS125", kind=MoratoriumKind.MENTAL_HEALTH,
                     register_entry_date=date(2026, 5, 20))
    assert crisis.eligibility_warning == ""  # no 12-month limit on the crisis kind
    later = _record(ClientFactory(), actor, register_entry_date=date(2024, 5, 14))
    assert later.eligibility_warning == ""


def test_bs08_the_period_is_data(bs_rule, actor):
    bs_rule.standard_repeat_months = 6
    bs_rule.save()
    client = ClientFactory()
    _record(client, actor)
    assert _record(client, actor, insolvency_reference="BS2", register_entry_date=date(2025, 11, 15)).eligibility_warning == ""


def test_bs10_a_limitation_period_ending_in_a_breathing_space_runs_to_8_weeks_after_it(bs_rule, actor):
    from debt import limitation

    client = ClientFactory()
    invoice = InvoiceFactory(client=client, due_date=date(2019, 6, 1), issue_date=date(2019, 5, 18))
    untouched = InvoiceFactory(due_date=date(2019, 6, 1), issue_date=date(2019, 5, 18))
    moratorium = _record(client, actor, register_entry_date=date(2025, 5, 14))  # 15 May to 14 July 2025
    services.moratorium_end(moratorium=moratorium, ended_on=date(2025, 7, 14), reason="ended", actor=actor)
    on = date(2025, 9, 7)  # past 1 June 2025 (six years), not past 8 September 2025 (14 July + 56 days)
    assert limitation.statute_barred(untouched, on)
    assert not limitation.statute_barred(invoice, on)
    assert limitation.statute_barred(invoice, date(2025, 9, 9))
    assert list(limitation.statute_barred_invoices(on)) == [untouched]
    assert invoice in list(limitation.approaching_limitation(on))
