"""The agreement's life through its one transition service, and its money on the ledger: weekly
deferrals, fees, interest (idempotent, corrected after back-dated changes), the equity limit, death
(due 90 days after, WE-6), repayment and the removal of the legal charge."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from casework.constants import AccountKind, CaseType, DeathSource, EntryKind
from casework.models import Case, LedgerEntry, Letter, TimelineEntry
from casework.services import DomainError, client_record_death, ledger_post
from deferred_payments import services
from deferred_payments.models import (
    Agreement,
    Alert,
    AlertKind,
    Criterion,
    DeferralPosting,
    FeeKind,
    FeePosting,
    FeeTreatment,
    InterestPosting,
    NationalMaximumRate,
    State,
    TerminationReason,
)

from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement, dpa_officer, enquiry

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def later_rates(db):
    """Test figures for half-years the rules digest leaves UNCONFIRMED (not real published rates)."""
    for start in (date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1)):
        NationalMaximumRate.objects.create(period_start=start, rate=D("4.00"), source="test figure")


def balance(agreement, kind=None, through=None):
    entries = LedgerEntry.objects.filter(account_id=agreement.account_id)
    if kind:
        entries = entries.filter(kind=kind)
    if through:
        entries = entries.filter(effective_date__lte=through)
    return (entries.aggregate(t=Sum("amount"))["t"] or D(0)).quantize(D("0.01"))


# --- the state machine ---------------------------------------------------------------------------------


def test_an_enquiry_opens_a_deferred_payment_case_and_records_it():
    agreement = enquiry()
    assert agreement.state == State.ENQUIRY
    assert agreement.case.case_type == CaseType.DEFERRED_PAYMENT
    assert TimelineEntry.objects.filter(case=agreement.case, action="dpa.created").exists()


def test_impossible_jumps_are_refused():
    agreement = enquiry()
    for target in (State.ACTIVE, State.OFFERED, State.SIGNED, State.REPAID, "nonsense"):
        with pytest.raises(DomainError, match="cannot move from enquiry"):
            services.agreement_transition(agreement=agreement, to_state=target, actor=dpa_officer())
    agreement.refresh_from_db()
    assert agreement.state == State.ENQUIRY


def test_eligibility_needs_every_check_recorded_and_met():
    actor = dpa_officer()
    agreement = enquiry()
    services.agreement_transition(agreement=agreement, to_state=State.APPLICATION, actor=actor, on=date(2023, 9, 2))
    services.eligibility_record(agreement=agreement, criterion=Criterion.CARE_HOME, met=True, evidence="Care plan",
                                checked_on=date(2023, 9, 3), actor=actor)
    with pytest.raises(DomainError, match="Record every eligibility check first"):
        services.agreement_transition(agreement=agreement, to_state=State.ELIGIBILITY_CHECKED, actor=actor)


def test_capital_above_the_upper_limit_cannot_be_recorded_as_met():
    actor = dpa_officer()
    agreement = enquiry()
    with pytest.raises(DomainError, match="above the upper capital limit of £23,250.00"):
        services.eligibility_record(agreement=agreement, criterion=Criterion.CAPITAL, met=True, evidence="Statements",
                                    checked_on=date(2023, 9, 3), actor=actor, capital_amount=D("23250.01"))
    check = services.eligibility_record(agreement=agreement, criterion=Criterion.CAPITAL, met=True, evidence="Statements",
                                        checked_on=date(2023, 9, 3), actor=actor, capital_amount=D("23250.00"))
    assert check.met


def test_a_failed_check_gives_a_refusal_letter_with_the_reason():
    actor = dpa_officer()
    agreement = enquiry()
    services.agreement_transition(agreement=agreement, to_state=State.APPLICATION, actor=actor, on=date(2023, 9, 2))
    services.eligibility_record(agreement=agreement, criterion=Criterion.NOT_DISREGARDED, met=False,
                                evidence="Her husband lives in the home", checked_on=date(2023, 9, 3), actor=actor)
    with pytest.raises(DomainError, match="refuse the application"):
        for criterion in Criterion.values:
            if criterion != Criterion.NOT_DISREGARDED:
                services.eligibility_record(agreement=agreement, criterion=criterion, met=True, evidence="Seen",
                                            checked_on=date(2023, 9, 3), actor=actor, capital_amount=D("1000"))
        services.agreement_transition(agreement=agreement, to_state=State.ELIGIBILITY_CHECKED, actor=actor)
    letter = services.eligibility_refuse(agreement=agreement, actor=actor, on=date(2023, 9, 4))
    agreement.refresh_from_db()
    assert agreement.state == State.TERMINATED
    assert agreement.termination_reason == TerminationReason.REFUSED
    assert letter.letter_type == "dpa_refusal"
    assert Letter.objects.filter(client=agreement.client, letter_type="dpa_refusal").count() == 1


def test_activation_needs_a_registered_charge_and_opens_the_account():
    agreement = active_agreement()
    assert agreement.state == State.ACTIVE
    assert agreement.account.kind == AccountKind.DEFERRED_PAYMENT
    assert agreement.start_date == date(2024, 1, 1)
    # The set-up fee in force (£176.10, data) is added to the deferred amount on the start date.
    assert balance(agreement, EntryKind.FEE) == D("176.10")
    states = list(TimelineEntry.objects.filter(case=agreement.case, action="dpa.state.changed")
                  .order_by("occurred_at", "id").values_list("new_value__state", flat=True))
    assert states == ["application", "eligibility_checked", "offered", "signed", "legal_charge_pending", "active"]


def test_the_charge_must_be_registered_before_activation():
    actor = dpa_officer()
    agreement = active_agreement()
    other = enquiry(on=date(2023, 1, 1))
    Agreement.objects.filter(pk=other.pk).update(state=State.LEGAL_CHARGE_PENDING)
    with pytest.raises(DomainError, match="legal charge must be registered"):
        services.agreement_transition(agreement=other, to_state=State.ACTIVE, actor=actor)
    assert agreement.state == State.ACTIVE


def test_an_active_agreement_cannot_be_withdrawn_and_a_repaid_one_goes_nowhere():
    agreement = active_agreement()
    with pytest.raises(DomainError, match="ends by sale, death"):
        services.agreement_transition(agreement=agreement, to_state=State.TERMINATED, actor=dpa_officer(),
                                      termination_reason=TerminationReason.WITHDRAWN)
    with pytest.raises(DomainError, match="Record the death"):
        services.agreement_terminate(agreement=agreement, reason=TerminationReason.DEATH, on=date(2024, 3, 1),
                                     actor=dpa_officer())


# --- money ------------------------------------------------------------------------------------------


def test_weekly_deferrals_are_posted_once_in_arrears():
    agreement = active_agreement(weekly_care_cost=D("1000.00"), weekly_contribution=D("300.00"))
    services.deferrals_post(agreement=agreement, through=date(2024, 1, 20), actor=dpa_officer())
    services.deferrals_post(agreement=agreement, through=date(2024, 1, 20), actor=dpa_officer())
    assert list(DeferralPosting.objects.filter(agreement=agreement).values_list("period_start", "period_end", "amount")) == [
        (date(2024, 1, 1), date(2024, 1, 7), D("700.00")), (date(2024, 1, 8), date(2024, 1, 14), D("700.00"))]
    assert balance(agreement, EntryKind.CHARGE) == D("1400.00")


def test_nightly_accrual_is_idempotent_and_matches_we5():
    """£40,000 deferred on 1 January 2024 (by an adjustment, to keep WE-5's figures): the nightly
    run posts £938.23 and £844.36 and a second run posts nothing."""
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    # Remove the set-up fee with a reversal so only the £40,000 bears interest.
    fee_entry = LedgerEntry.objects.get(account_id=agreement.account_id, kind=EntryKind.FEE)
    from casework.services import ledger_reverse

    ledger_reverse(entry=fee_entry, reason="Fee waived", actor=actor)
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("40000.00"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=actor)
    agreement.refresh_from_db()
    first = services.nightly(agreement=agreement, business_date=date(2025, 1, 1), actor=actor)
    assert "interest: 2 posted" in first
    assert list(InterestPosting.objects.filter(agreement=agreement).values_list("amount", flat=True)) == [
        D("938.23"), D("844.36")]
    assert balance(agreement) == D("41782.59")
    assert services.nightly(agreement=agreement, business_date=date(2025, 1, 1), actor=actor) == "Nothing due"
    assert InterestPosting.objects.filter(agreement=agreement).count() == 2


def test_a_back_dated_rate_change_is_corrected_with_reversing_entries():
    """DP-07: a change to the national maximum applies to existing agreements."""
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=actor)  # with the £176.10 fee: £40,000
    services.nightly(agreement=agreement, business_date=date(2025, 1, 1), actor=actor)
    assert balance(agreement) == D("41782.59")
    NationalMaximumRate.objects.filter(period_start=date(2024, 7, 1)).update(rate=D("3.00"))
    services.nightly(agreement=agreement, business_date=date(2025, 1, 2), actor=actor)
    corrected = (D("40938.23") * (1 + D("0.03") / 365) ** 184).quantize(D("0.01"))
    assert balance(agreement, through=date(2024, 12, 31)) == corrected  # the annual fee follows on 1 January
    reversed_posting = InterestPosting.objects.get(agreement=agreement, reversal__isnull=False)
    assert reversed_posting.amount == D("844.36")
    assert reversed_posting.reversal.amount == D("-844.36")
    assert InterestPosting.objects.filter(agreement=agreement, reversal__isnull=True).count() == 2


def test_a_back_dated_deferral_reposts_the_interest_of_its_period():
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    services.nightly(agreement=agreement, business_date=date(2024, 7, 1), actor=actor)
    before = InterestPosting.objects.get(agreement=agreement).amount
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("1000.00"), effective_date=date(2024, 3, 1),
                reference="LATE", description="Care costs deferred late", actor=actor)
    services.nightly(agreement=agreement, business_date=date(2024, 7, 2), actor=actor)
    after = InterestPosting.objects.get(agreement=agreement, reversal__isnull=True).amount
    assert after > before
    assert InterestPosting.objects.filter(agreement=agreement, reversal__isnull=False).count() == 1


def test_fees_added_bear_interest_and_invoiced_fees_go_to_the_care_charges_account():
    agreement = active_agreement()
    actor = dpa_officer()
    added = services.fee_charge(agreement=agreement, kind=FeeKind.VALUATION, on=date(2024, 2, 1), actor=actor)
    assert (added.amount, added.treatment) == (D("326.00"), FeeTreatment.ADDED)
    invoiced = services.fee_charge(agreement=agreement, kind=FeeKind.LAND_REGISTRY, on=date(2024, 2, 1), actor=actor,
                                   amount=D("45.00"), treatment=FeeTreatment.INVOICED)
    assert invoiced.entry.account.kind == AccountKind.CLIENT_CHARGES
    assert balance(agreement, EntryKind.FEE) == D("502.10")  # set-up 176.10 + valuation 326.00
    with pytest.raises(DomainError, match="charged at cost"):
        services.fee_charge(agreement=agreement, kind=FeeKind.LAND_REGISTRY, on=date(2024, 2, 1), actor=actor)


def test_the_annual_fee_is_charged_once_on_each_anniversary(later_rates):
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    services.nightly(agreement=agreement, business_date=date(2026, 1, 3), actor=actor)
    services.nightly(agreement=agreement, business_date=date(2026, 1, 3), actor=actor)
    fees = FeePosting.objects.filter(agreement=agreement, kind=FeeKind.ANNUAL)
    assert list(fees.values_list("year", "charged_on", "amount")) == [
        (1, date(2025, 1, 1), D("281.90")), (2, date(2026, 1, 1), D("281.90"))]


def test_deferral_stops_at_the_equity_limit_and_the_agreement_is_suspended():
    # £100,000 × 90% − £14,250 = £75,750 limit; £176.10 set-up fee; £5,000 a week.
    agreement = active_agreement(value=D("100000"), weekly_care_cost=D("5300.00"), weekly_contribution=D("300.00"))
    services.nightly(agreement=agreement, business_date=date(2024, 6, 1), actor=dpa_officer())
    agreement.refresh_from_db()
    assert agreement.state == State.SUSPENDED
    assert "Equity limit of £75,750.00 reached" in agreement.suspended_reason
    capped = DeferralPosting.objects.get(agreement=agreement, capped=True)
    assert services.owed_on(agreement, capped.period_end + timedelta(days=1)) == D("75750.00")
    assert Alert.objects.filter(agreement=agreement, kind=AlertKind.LIMIT_REACHED).exists()
    with pytest.raises(DomainError, match="No headroom"):
        services.agreement_transition(agreement=agreement, to_state=State.ACTIVE, actor=dpa_officer())


def test_nearing_the_limit_raises_one_alert_per_valuation():
    agreement = active_agreement(value=D("100000"), weekly_care_cost=D("1300.00"), weekly_contribution=D("300.00"))
    services.nightly(agreement=agreement, business_date=date(2025, 2, 1), actor=dpa_officer())
    services.nightly(agreement=agreement, business_date=date(2025, 2, 2), actor=dpa_officer())
    alerts = Alert.objects.filter(agreement=agreement, kind=AlertKind.NEARING_LIMIT)
    assert alerts.count() == 1
    assert "equity limit of £75,750.00" in alerts.get().message


def test_the_equity_position_projects_the_date_the_limit_is_reached():
    agreement = active_agreement(value=D("250000"), mortgage=D("20000"), weekly_care_cost=D("1000"),
                                 weekly_contribution=D("300"))
    position = services.equity_position(agreement, date(2024, 1, 1), total_owed=D("176.10"))
    assert position.limit == D("190750.00")  # WE-4
    assert position.headroom == D("190573.90")
    # 190,573.90 / 700 = 272.2 weeks: reached in the 273rd week from the start.
    assert position.projected_date == date(2024, 1, 1) + timedelta(days=7 * 273)


def test_a_new_valuation_recomputes_the_limit():
    agreement = active_agreement(value=D("250000"))
    services.valuation_add(agreement=agreement, valued_on=date(2025, 1, 10), value=D("200000"), valuer="Desktop",
                           actor=dpa_officer())
    assert services.equity_position(agreement, date(2025, 2, 1), total_owed=D(0)).limit == D("165750.00")
    assert services.equity_position(agreement, date(2024, 6, 1), total_owed=D(0)).limit == D("210750.00")


# --- termination, death and repayment -------------------------------------------------------------------


def test_we6_on_death_the_debt_is_due_90_days_later_and_the_executor_is_written_to(later_rates):
    agreement = active_agreement(start=date(2024, 1, 1))
    actor = dpa_officer()
    client_record_death(client=agreement.client, date_of_death=date(2025, 3, 10), source=DeathSource.FAMILY,
                        verified=True, actor=actor)
    result = services.nightly(agreement=Agreement.objects.get(pk=agreement.pk), business_date=date(2025, 3, 12),
                              actor=actor)
    assert "ended on death" in result
    agreement.refresh_from_db()
    assert agreement.state == State.TERMINATED
    assert agreement.termination_reason == TerminationReason.DEATH
    assert agreement.due_date == date(2025, 6, 8)
    # Care costs run up to and including the date of death: weeks run from 1 January 2024, so 10
    # March 2025 is the first day of week 63 and is deferred as one day: £700 × 1 ÷ 7.
    last = DeferralPosting.objects.filter(agreement=agreement).last()
    assert (last.period_start, last.period_end, last.amount) == (date(2025, 3, 10), date(2025, 3, 10), D("100.00"))
    assert DeferralPosting.objects.filter(agreement=agreement).count() == 63
    assert Letter.objects.filter(client=agreement.client, letter_type="dpa_death").count() == 1
    # Interest continues after the due date; unpaid after it, the debt goes to recovery once.
    before = balance(agreement)
    services.nightly(agreement=agreement, business_date=date(2025, 7, 2), actor=actor)
    agreement.refresh_from_db()
    assert balance(agreement) > before
    recovery = agreement.recovery_case
    assert recovery.case_type == CaseType.DEBT_RECOVERY
    assert recovery.timeline.filter(action="dpa.recovery.opened").exists()
    services.nightly(agreement=agreement, business_date=date(2025, 7, 3), actor=actor)
    assert Case.objects.filter(client=agreement.client, case_type=CaseType.DEBT_RECOVERY).count() == 1


def test_no_recovery_before_the_due_date(later_rates):
    agreement = active_agreement()
    client_record_death(client=agreement.client, date_of_death=date(2025, 3, 10), source=DeathSource.FAMILY,
                        verified=True, actor=dpa_officer())
    services.nightly(agreement=Agreement.objects.get(pk=agreement.pk), business_date=date(2025, 6, 8),
                     actor=dpa_officer())
    agreement.refresh_from_db()
    assert agreement.recovery_case is None


def test_repayment_of_the_redemption_figure_clears_the_debt_and_starts_charge_removal():
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=actor)
    figures = services.redemption_figures(agreement, date(2024, 7, 1))
    assert figures["total"] == D("40938.23")  # WE-5 period 1
    services.agreement_terminate(agreement=agreement, reason=TerminationReason.SALE, on=date(2024, 6, 20), actor=actor)
    with pytest.raises(DomainError, match="more than the £40,938.23 owed"):
        services.repayment_record(agreement=agreement, amount=D("40938.24"), on=date(2024, 7, 1), actor=actor)
    services.repayment_record(agreement=agreement, amount=D("40938.23"), on=date(2024, 7, 1), actor=actor)
    agreement.refresh_from_db()
    assert balance(agreement) == D("0.00")
    assert agreement.repaid_on == date(2024, 7, 1)
    assert agreement.legal_charge.removal_requested_on == date(2024, 7, 1)
    assert services.nightly(agreement=agreement, business_date=date(2025, 1, 1), actor=actor) == "Nothing due"
    with pytest.raises(DomainError, match="removal of the legal charge"):
        services.agreement_transition(agreement=agreement, to_state=State.REPAID, actor=actor)
    services.legal_charge_record(agreement=agreement, step="removed", on=date(2024, 8, 1), actor=actor)
    agreement.refresh_from_db()
    assert agreement.state == State.REPAID


def test_a_part_repayment_closes_the_interest_period_the_day_before():
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=actor)
    services.repayment_record(agreement=agreement, amount=D("10000.00"), on=date(2024, 3, 1), actor=actor)
    posting = InterestPosting.objects.get(agreement=agreement)
    assert (posting.period_start, posting.period_end, posting.amount) == (date(2024, 1, 1), date(2024, 2, 29), D("306.91"))
    agreement.refresh_from_db()
    assert agreement.state == State.ACTIVE


def test_a_missing_rate_stops_interest_with_an_alert_until_it_is_entered():
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    actor = dpa_officer()
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=actor)
    services.nightly(agreement=agreement, business_date=date(2026, 1, 1), actor=actor)
    # Interest is posted to 30 June 2025 (the last half-year with a national maximum), not beyond.
    assert list(InterestPosting.objects.filter(agreement=agreement).values_list("period_end", flat=True)) == [
        date(2024, 6, 30), date(2024, 12, 31), date(2025, 6, 30)]
    alert = Alert.objects.get(agreement=agreement, kind=AlertKind.RATE_MISSING)
    assert "1 July 2025 to 31 December 2025" in alert.message and alert.cleared_on is None
    NationalMaximumRate.objects.create(period_start=date(2025, 7, 1), rate=D("4.00"), source="test figure")
    services.nightly(agreement=agreement, business_date=date(2026, 1, 2), actor=actor)
    assert InterestPosting.objects.filter(agreement=agreement, period_end=date(2025, 12, 31)).exists()
    alert.refresh_from_db()
    assert alert.cleared_on is not None
