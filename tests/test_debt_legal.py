"""Investigations, s.70 liability (DR-08, WE-13) and legal referrals (DR-20 to DR-22, WE-10)."""
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from pypdf import PdfReader

from casework.constants import EntryKind
from casework.models import LedgerEntry
from casework.roles import Role
from casework.services import DomainError
from debt import legal
from debt.constants import HoldKind
from debt.models import ClaimInterestRule, CourtFeeBand, DebtHold, ReferralStatus
from debt.services import legal as services

from .factories import CaseFactory, UserFactory
from .factories_debt import InvoiceFactory
from .test_debt_court_rules import ensure_court_data, send_letter_before_claim

D = Decimal
FEES = [("0", "300", "35"), ("300.01", "500", "50"), ("500.01", "1000", "70"), ("1000.01", "1500", "80"),
        ("1500.01", "3000", "115"), ("3000.01", "5000", "205"), ("5000.01", "10000", "455"),
        ("10000.01", "200000", None), ("200000.01", None, "10000")]


@pytest.fixture
def fee_table(db):
    # The migration seeds the same table; the fixture pins its figures for the tests.
    for lower, upper, fee in FEES:
        CourtFeeBand.objects.update_or_create(lower=D(lower), effective_from=date(2020, 1, 1), defaults=dict(
            upper=D(upper) if upper else None, fixed_fee=D(fee) if fee else None,
            percentage=None if fee else D("5")))
    ClaimInterestRule.objects.update_or_create(effective_from=date(2000, 1, 1), defaults={"rate_percent": D("8")})


# WE-10, DR-20, DR-22 -------------------------------------------------------------------------

def test_we10_interest_from_the_unrounded_daily_rate():
    assert legal.pleaded_daily_rate(D("2300"), D("8")) == D("0.50")
    assert legal.interest_total([(D("2300"), 60)], D("8")) == D("30.25")
    assert legal.interest_total([(D("6000"), 30)], D("8")) == D("39.45")


@pytest.mark.parametrize("amount, fee", [("300.00", "35"), ("300.01", "50"), ("2330.25", "115"),
                                         ("10000.00", "455"), ("12345.67", "617.28"), ("200000.01", "10000")])
def test_we10_court_fee_from_the_fee_table(fee_table, amount, fee):
    assert legal.court_fee(D(amount), date(2026, 3, 1)) == D(fee)


def test_no_fee_band_before_the_table_starts(fee_table):
    with pytest.raises(legal.NoFeeBand):
        legal.court_fee(D("100"), date(2019, 12, 31))


# WE-13, DR-08 --------------------------------------------------------------------------------

def test_we13_section70_split_in_proportion_to_benefit():
    assert legal.section70_liabilities(D("45000"), D("10000"), [D("40000"), D("20000")]) == [D("23333.33"),
                                                                                             D("11666.67")]


@pytest.mark.parametrize("avoided, benefits", [("100", ["1", "1", "1"]), ("35000", ["40000", "20000"]),
                                               ("10", ["3", "3", "3"]), ("999.99", ["7", "11", "13"])])
def test_section70_parts_sum_to_the_whole_and_stay_within_each_benefit(avoided, benefits):
    benefits = [D(b) for b in benefits]
    parts = legal.section70_liabilities(D(avoided), D("0"), benefits)
    assert sum(parts) == min(D(avoided), sum(benefits))
    assert all(p <= b for p, b in zip(parts, benefits))


@pytest.mark.django_db
def test_we13_third_party_liabilities_post_to_each_transferees_own_account():
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    inv = services.investigation_open(case=CaseFactory(), kind="deprivation", actor=officer)
    a = services.transfer_add(investigation=inv, asset="House share", transferred_to="Anne Daughter",
                              transferred_on=date(2024, 5, 1), value=D("40000"), actor=officer)
    b = services.transfer_add(investigation=inv, asset="Savings", transferred_to="Bob Son",
                              transferred_on=date(2024, 5, 1), value=D("25000"), consideration=D("5000"), actor=officer)
    with pytest.raises(DomainError, match="deliberate"):
        services.third_party_liability_create(transfer=a, would_have_charged=D("45000"), actually_charged=D("10000"),
                                              address_line_1="1 High St", postcode="NM1 1AA", actor=officer)
    for t in (a, b):
        services.transfer_finding(transfer=t, deliberate=True, reasoning="Given away after the assessment",
                                  actor=officer)
    debts = [services.third_party_liability_create(transfer=t, would_have_charged=D("45000"),
                                                   actually_charged=D("10000"), address_line_1="1 High St",
                                                   postcode="NM1 1AA", actor=officer) for t in (a, b)]
    assert [d.amount for d in debts] == [D("23333.33"), D("11666.67")]
    assert debts[0].third_party.reference == f"TP{a.pk:06d}" and debts[0].third_party.last_name == "Daughter"
    entry = LedgerEntry.objects.get(account__client=debts[1].third_party)
    assert entry.kind == EntryKind.CHARGE and entry.amount == D("11666.67") and "s.70" in entry.description
    with pytest.raises(DomainError, match="already"):
        services.third_party_liability_create(transfer=a, would_have_charged=D("45000"), actually_charged=D("1"),
                                              address_line_1="1 High St", postcode="NM1 1AA", actor=officer)


@pytest.mark.django_db
def test_closing_an_investigation_needs_an_outcome_and_is_final():
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    inv = services.investigation_open(case=CaseFactory(), kind="non_payment", actor=officer)
    services.investigation_record(investigation=inv, actor=officer, findings="Lost job", contacts_made="Son, 1 May",
                                  benefits_check_suggested=True, benefits_check_note="Attendance Allowance")
    with pytest.raises(DomainError):
        services.investigation_transition(investigation=inv, to="closed", actor=officer)
    services.investigation_transition(investigation=inv, to="closed", actor=officer, outcome="Plan agreed")
    with pytest.raises(DomainError, match="closed"):
        services.investigation_record(investigation=inv, actor=officer, findings="x", contacts_made="",
                                      benefits_check_suggested=False)


# Referrals ---------------------------------------------------------------------------------

def _people():
    return (UserFactory(username="io", roles=[Role.INCOME_OFFICER]), UserFactory(username="tl1", roles=[Role.TEAM_LEADER]),
            UserFactory(username="tl2", roles=[Role.TEAM_LEADER]))


def _invoice(days_overdue: int = 60, total: str = "2300.00"):
    """An overdue invoice whose client was sent a letter before claim 45 days ago (its reply period over)."""
    ensure_court_data()
    due = timezone.localdate() - timedelta(days=days_overdue)
    invoice = InvoiceFactory(total=D(total), due_date=due, issue_date=due - timedelta(days=14),
                             period_start=due - timedelta(days=42), period_end=due - timedelta(days=15))
    send_letter_before_claim(invoice.client, timezone.localdate() - timedelta(days=45))
    return invoice


@pytest.mark.django_db
def test_approval_only_by_a_team_leader_other_than_the_requester():
    officer, leader, other = _people()
    invoice = _invoice()
    own = services.referral_request(client=invoice.client, invoices=[invoice], actor=leader)
    with pytest.raises(DomainError, match="another team leader"):
        services.referral_approve(referral=own, actor=leader)
    referral = own
    with pytest.raises(DomainError, match="Only a team leader"):
        services.referral_approve(referral=referral, actor=officer)
    approved = services.referral_approve(referral=referral, actor=other)
    assert approved.status == ReferralStatus.APPROVED and approved.decided_by == other


@pytest.mark.django_db
def test_statute_barred_debt_can_never_go_to_court():
    officer, *_ = _people()
    invoice = _invoice(days_overdue=7 * 365)
    with pytest.raises(DomainError, match="Statute barred"):
        services.referral_request(client=invoice.client, invoices=[invoice], actor=officer)


@pytest.mark.django_db
def test_held_debt_is_refused_at_request_and_at_approval():
    officer, leader, _ = _people()
    invoice = _invoice()
    hold = DebtHold(client=invoice.client, kind=HoldKind.DISPUTE, note="Disputes the charge", placed_by=officer,
                    placed_on=timezone.localdate(), review_date=timezone.localdate() + timedelta(days=28))
    hold.save()
    with pytest.raises(DomainError, match="hold"):
        services.referral_request(client=invoice.client, invoices=[invoice], actor=officer)
    DebtHold.objects.filter(pk=hold.pk).update(released_on=timezone.localdate() - timedelta(days=1),
                                               placed_on=timezone.localdate() - timedelta(days=2))
    referral = services.referral_request(client=invoice.client, invoices=[invoice], actor=officer)
    DebtHold.objects.create(client=invoice.client, kind=HoldKind.DISPUTE, note="Again", placed_by=officer,
                            placed_on=timezone.localdate(), review_date=timezone.localdate() + timedelta(days=28))
    with pytest.raises(DomainError, match="hold"):
        services.referral_approve(referral=referral, actor=leader)


@pytest.mark.django_db
def test_impossible_transitions_are_refused():
    officer, leader, _ = _people()
    invoice = _invoice()
    referral = services.referral_request(client=invoice.client, invoices=[invoice], actor=officer)
    with pytest.raises(DomainError, match="only once it is approved"):
        services.referral_issue_claim(referral=referral, issued_on=timezone.localdate(), actor=officer)
    with pytest.raises(DomainError, match="cannot become judgment"):
        services.referral_record_judgment(referral=referral, judgment_on=timezone.localdate(), amount=D("1"),
                                          court_name="Northmoor County Court", claim_number="K1", actor=officer)
    with pytest.raises(DomainError, match="follows a judgment"):
        services.referral_record_enforcement(referral=referral, kind="charging_order",
                                             applied_on=timezone.localdate(), actor=officer)
    rejected = services.referral_reject(referral=referral, actor=leader, note="Offer a plan first")
    with pytest.raises(DomainError, match="cannot become approved"):
        services.referral_approve(referral=rejected, actor=leader)


@pytest.mark.django_db
def test_claim_pack_is_a_pdf_with_the_particulars_and_the_whole_path_to_enforcement(fee_table, client_as):
    officer, leader, _ = _people()
    invoice = _invoice(days_overdue=60)
    referral = services.referral_request(client=invoice.client, invoices=[invoice], actor=officer,
                                         case=CaseFactory(client=invoice.client))
    services.referral_approve(referral=referral, actor=leader)
    issued = services.referral_issue_claim(referral=referral, issued_on=timezone.localdate(), actor=officer)
    assert (issued.amount, issued.interest, issued.court_fee, issued.daily_rate) == (
        D("2300.00"), D("30.25"), D("115.00"), D("0.50"))
    response = client_as(Role.AUDITOR).get(f"/income/legal/{issued.pk}/claim-pack/")
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF") and issued.claim_pack_sha256
    import hashlib
    assert hashlib.sha256(content).hexdigest() == issued.claim_pack_sha256
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(content)).pages)
    for expected in ["Particulars of claim", invoice.number, "£2,300.00", "£30.25", "£115.00", "£2,445.25",
                     "£0.50", "Statement of account", "Letters sent"]:
        assert expected in text, expected
    judged = services.referral_record_judgment(referral=issued, judgment_on=timezone.localdate(), amount=D("2445.25"),
                                               court_name="Northmoor County Court", claim_number="k12ab345",
                                               actor=officer)
    assert judged.status == ReferralStatus.JUDGMENT and judged.claim_number == "K12AB345"
    services.referral_record_enforcement(referral=judged, kind="attachment_of_earnings",
                                         applied_on=timezone.localdate(), actor=officer)
    judged.refresh_from_db()
    assert judged.status == ReferralStatus.ENFORCEMENT
    from casework.models import TimelineEntry
    assert TimelineEntry.objects.filter(case=judged.case, action="debt.legal.enforcement_recorded").exists()
    assert TimelineEntry.objects.filter(case=judged.case, action="debt.legal.judgment").exists()
