"""The rules a county court claim must meet before the referral is made or the claim pack is
produced: invoices due, the Pre-Action Protocol reply period after deemed service, a litigation
friend for a defendant who lacks capacity, a statement that reconciles, nothing statute barred."""
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from pypdf import PdfReader

from casework.constants import Capacity, EntryKind, RepresentativeKind
from casework.letters.services import current_template
from casework.models import CapacityAssessment, Letter
from casework.roles import Role
from debt.constants import HoldKind
from debt.models import (
    ClaimInterestRule,
    CourtFeeBand,
    DebtHold,
    DebtRecovery,
    LegalReferral,
    PaymentAllocation,
    PreActionRule,
    RecoveryEvent,
    RecoveryStage,
    ReferralStatus,
)
from debt.services import legal as services
from debt.services.legal import CourtRulesNotMet, court_refusals

from .factories import (
    ClientFactory,
    LedgerEntryFactory,
    RepresentativeFactory,
    UserFactory,
)
from .factories_debt import InvoiceFactory, PaymentFactory

D = Decimal
ON = date(2026, 6, 1)  # a Monday; the letter before claim below is dated 60 days before


def ensure_court_data() -> None:
    """The rows the migrations seed, again (a browser test empties the tables)."""
    PreActionRule.objects.get_or_create(method="first_class_post", effective_from=date(2017, 10, 1), defaults={
        "reply_days": 30, "deemed_service_business_days": 2, "source": "Pre-Action Protocol for Debt Claims; CPR 6.26"})
    CourtFeeBand.objects.get_or_create(lower=D("0"), effective_from=date(2020, 1, 1),
                                       defaults={"upper": D("300"), "fixed_fee": D("35")})
    CourtFeeBand.objects.get_or_create(lower=D("300.01"), effective_from=date(2020, 1, 1),
                                       defaults={"upper": None, "fixed_fee": D("115")})
    ClaimInterestRule.objects.get_or_create(effective_from=date(2000, 1, 1), defaults={"rate_percent": D("8")})


@pytest.fixture(autouse=True)
def _court_data(db):
    ensure_court_data()


def send_letter_before_claim(client, dated: date, actor=None) -> Letter:
    """A letter before claim as the recovery ladder records one: the Letter and the recovery event
    whose business day is the date printed on it."""
    actor = actor or UserFactory()
    stage, _ = RecoveryStage.objects.get_or_create(code="letter_before_claim", defaults={
        "order": 40, "name": "Letter before claim", "delay_days": 14, "letter_type": services.LETTER_BEFORE_CLAIM,
        "response_days": 30, "effective_from": date(2020, 1, 1)})
    letter = Letter.objects.create(
        letter_type=services.LETTER_BEFORE_CLAIM, template=current_template(services.LETTER_BEFORE_CLAIM),
        client=client, recipient_name=client.full_name, recipient_address=[client.address_line_1, client.postcode],
        postcode=client.postcode, pages=5, file=f"letters/{dated:%Y/%m}/lbc-{client.reference}.pdf", sha256="0" * 64)
    recovery, _ = DebtRecovery.objects.get_or_create(client=client)
    RecoveryEvent.objects.create(recovery=recovery, client=client, kind="advanced", to_stage=stage,
                                 business_date=dated, anchor_date=dated, reason="Letter before claim sent",
                                 letter=letter, actor=actor)
    return letter


def _invoice(client=None, *, due: date, total: str = "400.00", **extra):
    client = client or ClientFactory()
    return InvoiceFactory(client=client, total=D(total), due_date=due, issue_date=due - timedelta(days=14),
                          period_start=due - timedelta(days=42), period_end=due - timedelta(days=15), **extra)


def _referral(*invoices, case=None) -> LegalReferral:
    client = invoices[0].client
    referral = LegalReferral.objects.create(client=client, case=case, amount=sum(i.total for i in invoices),
                                            requested_by=UserFactory())
    referral.invoices.set(invoices)
    return referral


def _ready(on: date = ON, *, due: date | None = None, total: str = "400.00"):
    """A referral meeting every rule on `on`: one invoice due 60 days before, a letter before claim
    dated 45 days before (deemed served and the reply period over)."""
    invoice = _invoice(due=due or on - timedelta(days=60), total=total)
    send_letter_before_claim(invoice.client, on - timedelta(days=45))
    return _referral(invoice)


# Each rule, at its edge --------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_referral_meeting_every_rule_is_not_refused():
    assert court_refusals(_ready(), ON) == []


@pytest.mark.django_db
def test_an_invoice_due_today_may_be_claimed_but_one_due_tomorrow_may_not():
    assert court_refusals(_ready(due=ON), ON) == []
    tomorrow = _ready(due=ON + timedelta(days=1))
    number = tomorrow.invoices.get().number
    assert court_refusals(tomorrow, ON) == [
        f"Invoice {number} is not due until 2 June 2026: it cannot be claimed on 1 June 2026."]


@pytest.mark.django_db
def test_reply_period_runs_from_deemed_service_over_the_christmas_bank_holidays():
    # Posted Thursday 24 December 2026. Friday 25 is Christmas Day, Monday 28 the Boxing Day
    # substitute: the first business day after posting is Tuesday 29, the second Wednesday 30,
    # and the 30 days to reply end on Friday 29 January 2027.
    invoice = _invoice(due=date(2026, 11, 16))
    letter = send_letter_before_claim(invoice.client, date(2026, 12, 24))
    times = services.pre_action_times(letter, date(2026, 12, 24), services.pre_action_rule_on(date(2026, 12, 24)))
    assert (times.served, times.reply_ends) == (date(2026, 12, 30), date(2027, 1, 29))
    referral = _referral(invoice)
    assert court_refusals(referral, date(2027, 1, 29)) == [
        "The reply period for the letter before claim has not passed: the letter dated 24 December 2026 is deemed "
        "served on 30 December 2026 (the second business day after posting) and the 30 days to reply end on "
        "29 January 2027, so a claim can be made from 30 January 2027."]
    assert court_refusals(referral, date(2027, 1, 30)) == []


@pytest.mark.django_db
def test_reply_period_ending_today_refuses_and_ended_yesterday_does_not():
    # Posted Monday 4 May 2026 (the early May bank holiday): served Wednesday 6 May, reply by 5 June.
    invoice = _invoice(due=date(2026, 4, 1))
    send_letter_before_claim(invoice.client, date(2026, 5, 4))
    referral = _referral(invoice)
    assert "end on 5 June 2026" in court_refusals(referral, date(2026, 6, 5))[0]
    assert court_refusals(referral, date(2026, 6, 6)) == []


@pytest.mark.django_db
def test_no_letter_before_claim_and_a_letter_dated_after_the_claim_date_are_refused():
    invoice = _invoice(due=ON - timedelta(days=60))
    referral = _referral(invoice)
    assert court_refusals(referral, ON) == [
        f"No letter before claim has been sent to {invoice.client.full_name}: send one under the Pre-Action "
        "Protocol for Debt Claims and allow 30 days to reply after it is deemed served."]
    send_letter_before_claim(invoice.client, ON + timedelta(days=1))
    assert court_refusals(referral, ON)[0].startswith("No letter before claim")


@pytest.mark.django_db
def test_the_reply_period_is_data():
    referral = _ready()
    PreActionRule.objects.create(method="first_class_post", effective_from=date(2026, 1, 1), reply_days=60,
                                 deemed_service_business_days=2, source="A longer period, for the test")
    assert "60 days to reply" in court_refusals(referral, ON)[0]
    PreActionRule.objects.all().delete()
    assert court_refusals(referral, ON) == [
        "No Pre-Action Protocol reply period is set for that date: ask an administrator to add one."]


@pytest.mark.django_db
def test_a_defendant_who_lacks_capacity_needs_a_litigation_friend():
    referral = _ready()
    client, officer = referral.client, UserFactory(roles=[Role.INCOME_OFFICER])
    CapacityAssessment.objects.create(client=client, assessed_on=date(2026, 3, 2), assessor="Dr A Jones, GP",
                                      decision="Managing money", outcome=Capacity.LACKS, recorded_by=officer)
    assert court_refusals(referral, ON) == [
        f"{client.full_name} was assessed on 2 March 2026 as lacking capacity to manage their finances: record "
        "their litigation friend, with the date of the certificate of suitability (N235), before going to court "
        "(CPR Part 21)."]
    services.referral_record_litigation_friend(referral=referral, name="Susan  Daughter",
                                               address="3 Low Road\nNorthmoor", relationship="Daughter",
                                               certificate_on=date(2026, 5, 20), actor=officer)
    referral.refresh_from_db()
    assert referral.litigation_friend_name == "Susan Daughter" and court_refusals(referral, ON) == []


@pytest.mark.django_db
def test_capacity_regained_needs_no_litigation_friend():
    referral = _ready()
    officer = UserFactory()
    CapacityAssessment.objects.create(client=referral.client, assessed_on=date(2025, 1, 2), assessor="Dr A Jones",
                                      decision="Managing money", outcome=Capacity.LACKS, recorded_by=officer)
    CapacityAssessment.objects.create(client=referral.client, assessed_on=date(2026, 1, 2), assessor="Dr A Jones",
                                      decision="Managing money", outcome=Capacity.HAS, recorded_by=officer)
    assert court_refusals(referral, ON) == []


@pytest.mark.django_db
def test_a_litigation_friend_needs_every_detail():
    referral = _ready()
    officer = UserFactory()
    with pytest.raises(services.DomainError, match="address"):
        services.referral_record_litigation_friend(referral=referral, name="Sue Smith", address=" ",
                                                   relationship="Daughter", certificate_on=ON, actor=officer)
    with pytest.raises(services.DomainError, match="future"):
        services.referral_record_litigation_friend(
            referral=referral, name="Sue Smith", address="1 Road", relationship="Daughter",
            certificate_on=timezone.localdate() + timedelta(days=1), actor=officer)


@pytest.mark.django_db
def test_statement_reconciles_through_its_lines():
    referral = _ready()
    client = referral.client
    other = _invoice(client, due=ON - timedelta(days=10), total="150.00")
    payment = PaymentFactory(client=client, amount=D("40.00"), received_on=ON - timedelta(days=5))
    LedgerEntryFactory(account=other.account, kind=EntryKind.FEE, amount=D("12.50"), effective_date=ON,
                       reference="FEE1", description="Court fee paid")
    assert court_refusals(referral, ON) == []
    rec = services.reconciliation(client, list(referral.invoices.all()), D("400.00"), ON)
    assert rec.lines == [(f"Invoices not in the claim still owing ({other.number})", D("150.00")),
                         ("Payments received by 1 June 2026 not yet set against an invoice", D("-40.00")),
                         ("Interest and fees charged on the account", D("12.50"))]
    assert rec.balance == D("522.50") and rec.reconciles
    # The payment set against the unclaimed invoice: still reconciles, through a smaller line.
    PaymentAllocation.objects.create(payment=payment, invoice=other, amount=D("40.00"), created_by=UserFactory())
    assert services.reconciliation(client, list(referral.invoices.all()), D("400.00"), ON).lines[:2] == [
        (f"Invoices not in the claim still owing ({other.number})", D("110.00")),
        ("Interest and fees charged on the account", D("12.50"))]


@pytest.mark.django_db
def test_statement_that_does_not_reconcile_is_refused():
    referral = _ready()
    LedgerEntryFactory(account=referral.invoices.get().account, kind=EntryKind.ADJUSTMENT, amount=D("10.00"),
                       effective_date=ON - timedelta(days=3), reference="ADJ1", description="Adjustment")
    assert court_refusals(referral, ON) == [
        "The statement of account does not reconcile with the amount claimed: the balance on 1 June 2026 is "
        "£410.00, the amount claimed and the reconciling lines come to £400.00, and £10.00 is not explained."]


@pytest.mark.django_db
def test_limitation_last_day_may_be_claimed_the_day_after_may_not():
    invoice = _invoice(due=date(2020, 6, 1))
    send_letter_before_claim(invoice.client, date(2026, 4, 1))
    referral = _referral(invoice)
    assert court_refusals(referral, date(2026, 6, 1)) == []
    assert court_refusals(referral, date(2026, 6, 2)) == [
        f"Statute barred, so it can never go to court: invoice {invoice.number} fell due on 1 June 2020 and the "
        "last day to claim it was 1 June 2026."]


@pytest.mark.django_db
def test_every_rule_not_met_is_listed_at_once():
    client = ClientFactory(capacity=Capacity.LACKS)
    barred = _invoice(client, due=date(2019, 1, 10))
    early = _invoice(client, due=ON + timedelta(days=14))
    LedgerEntryFactory(account=barred.account, kind=EntryKind.ADJUSTMENT, amount=D("5.00"), effective_date=ON,
                       reference="ADJ2", description="Adjustment")
    DebtHold.objects.create(client=client, kind=HoldKind.DISPUTE, note="Disputes the charge", placed_by=UserFactory(),
                            placed_on=ON - timedelta(days=1), review_date=ON + timedelta(days=27))
    refusals = court_refusals(_referral(barred, early), ON)
    starts = ["The client's debt is on hold", f"Invoice {early.number} is not due", "No letter before claim",
              f"{client.full_name} was assessed as lacking capacity", "The statement of account does not reconcile",
              f"Statute barred, so it can never go to court: invoice {barred.number}"]
    assert all(r.startswith(start) for r, start in zip(refusals, starts)), refusals
    assert len(refusals) == 6


# Through the services and the pages ----------------------------------------------------------------

def _people():
    return (UserFactory(username="io", roles=[Role.INCOME_OFFICER]),
            UserFactory(username="tl1", roles=[Role.TEAM_LEADER]))


@pytest.mark.django_db
def test_the_referral_request_and_approval_refuse_with_every_message():
    officer, leader = _people()
    today = timezone.localdate()
    client = ClientFactory()
    invoice = _invoice(client, due=today - timedelta(days=60))
    early = _invoice(client, due=today + timedelta(days=3))
    with pytest.raises(CourtRulesNotMet) as refused:
        services.referral_request(client=client, invoices=[invoice, early], actor=officer)
    assert len(refused.value.refusals) == 2 and "No letter before claim" in refused.value.refusals[1]
    send_letter_before_claim(client, today - timedelta(days=45))
    referral = services.referral_request(client=client, invoices=[invoice], actor=officer)
    CapacityAssessment.objects.create(client=client, assessed_on=today, assessor="Dr A Jones",
                                      decision="Managing money", outcome=Capacity.LACKS, recorded_by=officer)
    with pytest.raises(CourtRulesNotMet, match="litigation friend"):
        services.referral_approve(referral=referral, actor=leader)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REQUESTED


@pytest.mark.django_db
def test_claim_pack_refused_lists_each_rule_in_the_error_summary(client_as):
    officer, leader = _people()
    today = timezone.localdate()
    referral = _ready(today)
    services.referral_approve(referral=referral, actor=leader)
    client = referral.client
    CapacityAssessment.objects.create(client=client, assessed_on=today, assessor="Dr A Jones",
                                      decision="Managing money", outcome=Capacity.LACKS, recorded_by=officer)
    LedgerEntryFactory(account=referral.invoices.get().account, kind=EntryKind.ADJUSTMENT, amount=D("7.00"),
                       effective_date=today, reference="ADJ3", description="Adjustment")
    http = client_as(Role.INCOME_OFFICER)
    response = http.post(f"/income/legal/{referral.pk}/issue/", {
        "issued_on_0": today.day, "issued_on_1": today.month, "issued_on_2": today.year})
    page = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in page
    assert page.count("<li><a href=") >= 2
    assert "lacking capacity to manage their finances" in page and "does not reconcile" in page
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.APPROVED and not referral.claim_pack
    # Record the litigation friend through its page; the adjustment still stops the pack.
    response = http.post(f"/income/legal/{referral.pk}/litigation-friend/", {
        "name": "Susan Daughter", "address": "3 Low Road\r\nNorthmoor NM1 4AB", "relationship": "Daughter",
        "certificate_on_0": today.day, "certificate_on_1": today.month, "certificate_on_2": today.year})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.litigation_friend_address == "3 Low Road\nNorthmoor NM1 4AB"
    with pytest.raises(CourtRulesNotMet) as refused:
        services.referral_issue_claim(referral=referral, issued_on=today, actor=officer)
    assert len(refused.value.refusals) == 1 and "does not reconcile" in refused.value.refusals[0]


@pytest.mark.django_db
def test_the_claim_pack_lists_letters_by_their_dates_with_the_reconciliation_and_the_friend(client_as):
    officer, leader = _people()
    today = timezone.localdate()
    client = ClientFactory(capacity=Capacity.LACKS)
    RepresentativeFactory(client=client, kind=RepresentativeKind.DEPUTY, name="Susan Daughter")
    invoice = _invoice(client, due=today - timedelta(days=90))
    other = _invoice(client, due=today - timedelta(days=5), total="120.00")
    # Made in the opposite order to their dates: the pack lists them by the date on the letter.
    send_letter_before_claim(client, today - timedelta(days=40))
    send_letter_before_claim(client, today - timedelta(days=70))
    referral = services.referral_request(client=client, invoices=[invoice], actor=officer)
    services.referral_record_litigation_friend(referral=referral, name="Susan Daughter", address="3 Low Road",
                                               relationship="Daughter", certificate_on=today, actor=officer)
    services.referral_approve(referral=referral, actor=leader)
    issued = services.referral_issue_claim(referral=referral, issued_on=today, actor=officer)
    content = b"".join(client_as(Role.AUDITOR).get(f"/income/legal/{issued.pk}/claim-pack/").streaming_content)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(content)).pages)
    first, second = (f"{d:%-d %B %Y}" for d in (today - timedelta(days=70), today - timedelta(days=40)))
    letters = text[text.index("Letters sent"):text.index("Statement of account")]
    assert letters.index(first) < letters.index(second)
    for expected in ["Litigation friend", "Susan Daughter", "Certificate of suitability (N235) dated",
                     f"The letter before claim under the Pre-Action Protocol for Debt Claims is dated {second}",
                     "Reconciliation of the statement to the claim",
                     f"Invoices not in the claim still owing ({other.number})",
                     "£120.00", "£520.00"]:
        assert expected in text, expected
