"""Client financial affairs: checklists as data, steps, transitions, the deputy as a representative,
capacity assessments reaching the client, section 47 costs on the ledger (CP-01, AD-04, AD-05)."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework.affairs import selectors, services
from casework.affairs.demo import seed_financial_affairs
from casework.constants import Capacity, CaseStatus, CaseType, EntryKind, RepresentativeKind
from casework.models import (
    AffairsCase,
    AffairsKind,
    AffairsStatus,
    CapacityAssessment,
    ChecklistStepDefinition,
    CourtFee,
    FeeOutcome,
    LedgerEntry,
    Representative,
    TimelineEntry,
)
from casework.roles import Role
from casework.services import DomainError

from .factories import ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def pdf(name="evidence.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 test evidence", content_type="application/pdf")


@pytest.fixture
def officer():
    return UserFactory(username="rmo", roles=[Role.RESOURCE_MANAGEMENT_OFFICER])


@pytest.fixture
def team():
    return TeamFactory(name="Resource management")


def start(kind, officer, team, client=None, **extra):
    return services.affairs_start(client=client or ClientFactory(lacks_capacity=True), kind=kind, title="Affairs",
                                  team=team, actor=officer, assigned_officer=officer, **extra)


def do(affairs, officer, *codes, days_ago=5):
    for code in codes:
        definition = ChecklistStepDefinition.objects.get(kind=affairs.kind, code=code)
        services.affairs_complete_step(affairs=affairs, code=code, actor=officer, note="done",
                                       done_on=TODAY() - timedelta(days=days_ago),
                                       upload=pdf() if definition.requires_document else None)


# --- Checklists are data -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind, codes", [
    (AffairsKind.APPOINTEESHIP, ["referral", "capacity_evidence", "dwp_visit", "appointment", "benefits_managed",
                                 "client_account", "annual_review"]),
    (AffairsKind.DEPUTYSHIP, ["forms_prepared", "capacity_assessment", "fee", "application_sent", "notifications",
                              "order_made", "deputy_appointed"]),
    (AffairsKind.PROTECTION_OF_PROPERTY, ["inventory", "home_secured", "pets", "costs_recovered"]),
    (AffairsKind.FINANCE_ONLY, ["review"]),
])
def test_each_kind_has_its_checklist_from_the_reference_table(kind, codes, officer, team):
    extra = ({"reason": "Self-funder", "review_date": TODAY() + timedelta(days=30)}
             if kind == AffairsKind.FINANCE_ONLY else {})
    affairs = start(kind, officer, team, **extra)
    assert [row.definition.code for row in selectors.checklist(affairs)] == codes
    assert not any(row.done for row in selectors.checklist(affairs))


def test_a_step_added_to_the_table_appears_on_the_checklist_and_an_inactive_one_does_not(officer, team):
    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    ChecklistStepDefinition.objects.create(kind=AffairsKind.PROTECTION_OF_PROPERTY, code="keys", label="Keys logged",
                                           order=15)
    ChecklistStepDefinition.objects.filter(kind=AffairsKind.PROTECTION_OF_PROPERTY, code="pets").update(active=False)
    assert [r.definition.code for r in selectors.checklist(affairs)] == ["inventory", "keys", "home_secured",
                                                                         "costs_recovered"]


def test_starting_opens_a_shared_case_of_the_right_type_on_the_timeline(officer, team):
    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    assert affairs.case.case_type == CaseType.PROTECTION_OF_PROPERTY
    assert affairs.status == AffairsStatus.OPEN
    assert affairs.case.timeline.filter(action="affairs.started").exists()
    assert start(AffairsKind.DEPUTYSHIP, officer, team).case.case_type == CaseType.FINANCIAL_AFFAIRS


def test_a_client_has_one_active_case_of_a_kind(officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    with pytest.raises(DomainError, match="already has an active"):
        start(AffairsKind.APPOINTEESHIP, officer, team, client=affairs.case.client)
    start(AffairsKind.DEPUTYSHIP, officer, team, client=affairs.case.client)  # another kind is fine


def test_no_affairs_case_for_a_client_who_has_died(officer, team):
    with pytest.raises(DomainError, match="has died"):
        start(AffairsKind.APPOINTEESHIP, officer, team, client=ClientFactory(deceased=True))


# --- Steps -----------------------------------------------------------------------------------------


def test_completing_a_step_records_date_who_note_and_document_and_moves_the_case_on(officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    services.affairs_complete_step(affairs=affairs, code="capacity_evidence", actor=officer,
                                   done_on=TODAY() - timedelta(days=2), note="GP letter", upload=pdf("gp.pdf"))
    step = affairs.steps.get()
    assert (step.done_on, step.completed_by, step.note) == (TODAY() - timedelta(days=2), officer, "GP letter")
    assert step.document.original_name == "gp.pdf" and step.document.case == affairs.case
    affairs.refresh_from_db()
    assert affairs.status == AffairsStatus.IN_PROGRESS
    assert affairs.case.status == CaseStatus.IN_PROGRESS
    entry = affairs.case.timeline.get(action="affairs.step.completed")
    assert entry.document == step.document and entry.actor == officer


def test_a_step_needing_a_document_is_refused_without_one(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    with pytest.raises(DomainError, match="Attach the document") as exc:
        services.affairs_complete_step(affairs=affairs, code="capacity_assessment", actor=officer, done_on=TODAY())
    assert exc.value.field == "document"


@pytest.mark.parametrize("done_on, message", [(None, "Enter the date"), ("tomorrow", "cannot be in the future")])
def test_a_step_needs_a_date_that_has_happened(done_on, message, officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    day = TODAY() + timedelta(days=1) if done_on == "tomorrow" else None
    with pytest.raises(DomainError, match=message):
        services.affairs_complete_step(affairs=affairs, code="referral", actor=officer, done_on=day)


def test_a_step_is_recorded_once(officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    do(affairs, officer, "referral")
    with pytest.raises(DomainError, match="already recorded"):
        do(affairs, officer, "referral")


def test_steps_with_their_own_form_are_refused_as_plain_steps(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    with pytest.raises(DomainError, match="its own form"):
        services.affairs_complete_step(affairs=affairs, code="deputy_appointed", actor=officer, done_on=TODAY())


def test_the_application_fee_comes_from_the_fee_table_for_the_day(officer, team):
    CourtFee.objects.create(code="cop_application", label="Application fee",
                            effective_from=TODAY() - timedelta(days=10), amount=Decimal("400.00"))
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    services.affairs_record_fee(affairs=affairs, outcome=FeeOutcome.PAID, done_on=TODAY(), actor=officer)
    affairs.refresh_from_db()
    assert (affairs.fee_standard, affairs.fee_paid) == (Decimal("400.00"), Decimal("400.00"))
    older = start(AffairsKind.DEPUTYSHIP, officer, team)
    services.affairs_record_fee(affairs=older, outcome=FeeOutcome.EXEMPT, done_on=TODAY() - timedelta(days=30),
                                actor=officer)
    older.refresh_from_db()
    assert older.fee_standard == Decimal("365.00") and older.fee_paid == Decimal("0.00")


def test_a_part_remitted_fee_must_be_part_of_the_fee(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    with pytest.raises(DomainError, match="the part paid"):
        services.affairs_record_fee(affairs=affairs, outcome=FeeOutcome.PART_REMITTED, done_on=TODAY(), actor=officer,
                                    amount_paid=Decimal("365.00"))


# --- Transitions -----------------------------------------------------------------------------------


def test_completing_is_refused_until_every_required_step_is_done(officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    do(affairs, officer, "referral")
    with pytest.raises(DomainError, match="not yet done: Capacity evidence obtained"):
        services.affairs_transition(affairs=affairs, to_status=AffairsStatus.COMPLETED, actor=officer)
    do(affairs, officer, "capacity_evidence", "dwp_visit", "appointment", "benefits_managed", "client_account")
    affairs = services.affairs_transition(affairs=affairs, to_status=AffairsStatus.COMPLETED, actor=officer)
    assert affairs.status == AffairsStatus.COMPLETED  # the annual review is not required to complete
    assert affairs.case.status == CaseStatus.CLOSED


@pytest.mark.parametrize("start_status, to_status", [
    (AffairsStatus.OPEN, AffairsStatus.COMPLETED),
    (AffairsStatus.COMPLETED, AffairsStatus.IN_PROGRESS),
    (AffairsStatus.WITHDRAWN, AffairsStatus.OPEN),
    (AffairsStatus.WITHDRAWN, AffairsStatus.IN_PROGRESS),
])
def test_transitions_outside_the_table_are_refused(start_status, to_status, officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    AffairsCase.objects.filter(pk=affairs.pk).update(status=start_status)
    with pytest.raises(DomainError, match="cannot move from"):
        services.affairs_transition(affairs=affairs, to_status=to_status, actor=officer)


def test_withdrawing_needs_a_reason_closes_the_case_and_closes_the_checklist(officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    with pytest.raises(DomainError, match="reason"):
        services.affairs_transition(affairs=affairs, to_status=AffairsStatus.WITHDRAWN, actor=officer)
    services.affairs_transition(affairs=affairs, to_status=AffairsStatus.WITHDRAWN, actor=officer,
                                reason="Family member became appointee")
    affairs.refresh_from_db()
    assert affairs.case.status == CaseStatus.CLOSED
    entry = affairs.case.timeline.get(action="affairs.status.changed")
    assert entry.old_value == {"status": "open"} and entry.new_value == {"status": "withdrawn"}
    with pytest.raises(DomainError, match="checklist is closed"):
        do(affairs, officer, "referral")


# --- Deputyship ------------------------------------------------------------------------------------


def deputy_details(**overrides):
    return {"appointed_on": TODAY() - timedelta(days=3), "name": "Northmoor County Council",
            "address_line_1": "County Hall", "postcode": "nm1 1aa", "authority_reference": "COP-13512345", **overrides}


def test_appointing_the_deputy_records_a_representative_of_kind_deputy(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    do(affairs, officer, "order_made")
    services.affairs_appoint_deputy(affairs=affairs, actor=officer, **deputy_details())
    rep = Representative.objects.get(client=affairs.case.client)
    assert rep.kind == RepresentativeKind.DEPUTY
    assert (rep.start_date, rep.authority_reference, rep.postcode) == (TODAY() - timedelta(days=3), "COP-13512345",
                                                                       "NM1 1AA")
    affairs.refresh_from_db()
    assert affairs.deputy == rep and affairs.court_reference == "COP-13512345"
    assert affairs.steps.filter(definition__code="deputy_appointed", done_on=rep.start_date).exists()
    assert TimelineEntry.objects.filter(client=rep.client, action="client.representative.added").exists()
    # The correspondence rules now address the deputy for a client who lacks capacity (AD-04).
    from casework.correspondence import letter_recipient
    assert letter_recipient(affairs.case.client).name == rep.name


def test_the_deputy_cannot_be_recorded_before_the_order(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    with pytest.raises(DomainError, match="order"):
        services.affairs_appoint_deputy(affairs=affairs, actor=officer, **deputy_details())
    assert not Representative.objects.filter(client=affairs.case.client).exists()


def test_a_refused_deputy_leaves_no_representative(officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    do(affairs, officer, "order_made")
    with pytest.raises(DomainError):
        services.affairs_appoint_deputy(affairs=affairs, actor=officer, **deputy_details(postcode="not a postcode"))
    assert not Representative.objects.filter(client=affairs.case.client).exists()


# --- Capacity assessments --------------------------------------------------------------------------


def test_recording_an_assessment_updates_the_clients_capacity(officer):
    client = ClientFactory(capacity=Capacity.HAS)
    assessment = services.capacity_assessment_record(
        client=client, assessed_on=TODAY() - timedelta(days=1), assessor="Dr B Khan, GP", outcome=Capacity.LACKS,
        decision="Whether he can manage his property and financial affairs", actor=officer, upload=pdf())
    client.refresh_from_db()
    assert (client.capacity, client.capacity_assessed_on, client.capacity_assessor) == (
        Capacity.LACKS, TODAY() - timedelta(days=1), "Dr B Khan, GP")
    assert assessment.evidence.client == client and assessment.evidence.case is None
    change = TimelineEntry.objects.get(client=client, action="client.updated")
    assert change.old_value["capacity"] == "has" and change.new_value["capacity"] == "lacks"
    assert client.history.first().capacity == Capacity.LACKS


def test_an_older_assessment_is_kept_but_does_not_overwrite_a_newer_one(officer):
    client = ClientFactory(lacks_capacity=True)  # assessed 1 March 2024
    from datetime import date
    services.capacity_assessment_record(client=client, assessed_on=date(2023, 6, 1), assessor="Dr C",
                                        decision="Managing bills", outcome=Capacity.HAS, actor=officer)
    client.refresh_from_db()
    assert client.capacity == Capacity.LACKS
    assert CapacityAssessment.objects.filter(client=client).count() == 1
    assert TimelineEntry.objects.get(client=client, action="capacity.assessment.recorded").new_value["applied"] is False


def test_an_assessment_needs_an_outcome_an_assessor_and_a_past_date(officer):
    client = ClientFactory()
    base = {"client": client, "assessed_on": TODAY(), "assessor": "Dr D", "decision": "Bills", "actor": officer,
            "outcome": Capacity.UNKNOWN}
    with pytest.raises(DomainError, match="outcome"):
        services.capacity_assessment_record(**base)
    with pytest.raises(DomainError, match="future"):
        services.capacity_assessment_record(**{**base, "outcome": Capacity.HAS,
                                               "assessed_on": TODAY() + timedelta(days=1)})
    with pytest.raises(DomainError, match="who assessed"):
        services.capacity_assessment_record(**{**base, "outcome": Capacity.HAS, "assessor": " "})


# --- Section 47 costs ------------------------------------------------------------------------------


def test_section_47_costs_are_charged_to_the_clients_account_with_the_reason(officer, team):
    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    cost = services.affairs_recover_costs(affairs=affairs, amount=Decimal("185.40"), effective_date=TODAY(),
                                          reason="Locksmith and kennels", actor=officer)
    entry = LedgerEntry.objects.get(pk=cost.ledger_entry_id)
    assert (entry.kind, entry.amount, entry.account.client) == (EntryKind.CHARGE, Decimal("185.40"),
                                                                 affairs.case.client)
    assert "Locksmith and kennels" in entry.description and entry.reference == f"S47-{affairs.case.pk:06d}-1"
    assert cost.reason == "Locksmith and kennels"
    assert affairs.steps.filter(definition__code="costs_recovered").exists()
    assert affairs.case.timeline.filter(action="ledger.charge.posted").exists()
    further = services.affairs_recover_costs(affairs=affairs, amount=Decimal("20.00"), effective_date=TODAY(),
                                             reason="Kennels, two more nights", actor=officer)
    assert LedgerEntry.objects.get(pk=further.ledger_entry_id).reference.endswith("-2")
    assert affairs.steps.count() == 1


def test_no_costs_recovered_completes_the_step_without_a_charge(officer, team):
    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    assert services.affairs_recover_costs(affairs=affairs, effective_date=TODAY(), actor=officer,
                                          reason="Neighbour cared for the cat free of charge") is None
    assert not LedgerEntry.objects.filter(account__client=affairs.case.client).exists()
    assert affairs.steps.get().note.startswith("No costs recovered")
    with pytest.raises(DomainError, match="reason"):
        services.affairs_recover_costs(affairs=affairs, amount=Decimal("5"), effective_date=TODAY(), actor=officer,
                                       reason="")


# --- Finance only ----------------------------------------------------------------------------------


def test_a_finance_only_case_needs_a_reason_and_a_review_date(officer, team):
    with pytest.raises(DomainError, match="reason") as exc:
        start(AffairsKind.FINANCE_ONLY, officer, team, review_date=TODAY() + timedelta(days=90))
    assert exc.value.field == "reason"
    with pytest.raises(DomainError, match="review") as exc:
        start(AffairsKind.FINANCE_ONLY, officer, team, reason="Self-funder")
    assert exc.value.field == "review_date"
    affairs = start(AffairsKind.FINANCE_ONLY, officer, team, reason="Self-funder",
                    review_date=TODAY() + timedelta(days=90))
    assert affairs.case.case_type == CaseType.FINANCE_ONLY
    assert list(AffairsCase.objects.review_due(TODAY() + timedelta(days=90))) == [affairs]
    assert not AffairsCase.objects.review_due(TODAY()).exists()


# --- Pages -----------------------------------------------------------------------------------------


@pytest.fixture
def http(client_as):
    return client_as(Role.RESOURCE_MANAGEMENT_OFFICER)


def test_list_filters_and_exports_csv_and_xlsx(http, officer, team):
    appointee = start(AffairsKind.APPOINTEESHIP, officer, team)
    start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    url = reverse("casework:affairs_list")
    page = http.get(url, {"kind": "appointeeship"})
    assert page.status_code == 200 and page.context["total"] == 1
    assert http.get(url, {"status": "nonsense", "kind": "x", "officer": "y"}).context["total"] == 2
    response = http.get(url, {"kind": "appointeeship", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Case", "Kind", "Status"] and len(rows) == 2
    assert rows[1][0] == appointee.reference
    book = load_workbook(io.BytesIO(http.get(url, {"format": "xlsx"}).content))
    assert book.active.max_row == 3


def test_completing_a_step_through_the_page(http, officer, team):
    affairs = start(AffairsKind.APPOINTEESHIP, officer, team)
    url = reverse("casework:affairs_step", args=[affairs.pk, "capacity_evidence"])
    day = TODAY() - timedelta(days=1)
    missing = http.post(url, {"done_on_0": day.day, "done_on_1": day.month, "done_on_2": day.year})
    assert missing.status_code == 200 and "Attach the document" in missing.content.decode()
    done = http.post(url, {"done_on_0": day.day, "done_on_1": day.month, "done_on_2": day.year, "note": "GP",
                           "document": pdf()})
    assert done.status_code == 302
    assert affairs.steps.get().document is not None
    assert http.get(url).status_code == 404  # already recorded
    assert http.get(reverse("casework:affairs_detail", args=[affairs.pk])).status_code == 200


def test_starting_and_recording_capacity_from_the_client_pages(http, officer, team):
    client = ClientFactory()
    assert http.get(reverse("casework:client_detail", args=[client.pk])).content.decode().count(
        reverse("casework:affairs_client", args=[client.pk])) == 1
    response = http.post(reverse("casework:affairs_start", args=[client.pk]), {
        "kind": "finance_only", "title": "Finance only", "team": team.pk, "reason": "",
        "review_date_0": "", "review_date_1": "", "review_date_2": ""})
    assert response.status_code == 200 and "Give the reason" in response.content.decode()
    day = TODAY()
    response = http.post(reverse("casework:capacity_record", args=[client.pk]), {
        "assessed_on_0": day.day, "assessed_on_1": day.month, "assessed_on_2": day.year, "assessor": "Dr E",
        "decision": "Managing benefits", "outcome": "lacks"})
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.capacity == Capacity.LACKS
    assert "Dr E" in http.get(reverse("casework:affairs_client", args=[client.pk])).content.decode()


def test_the_navigation_shows_financial_affairs_to_resource_management_officers(http, client_as):
    assert "Financial affairs" in http.get(reverse("casework:my_work")).content.decode()
    assert "Financial affairs" not in client_as(Role.INCOME_OFFICER).get(reverse("casework:my_work")).content.decode()


def test_demo_seeder_makes_cases_at_different_steps_once(officer):
    from io import StringIO

    from casework.models import Team

    for n in range(6):
        ClientFactory(reference=f"SC2{n:05d}", lacks_capacity=n < 3)
    users = {"resource": officer, "teams": {"Resource management": Team.objects.create(name="Resource management")}}
    seed_financial_affairs(users, StringIO())
    seed_financial_affairs(users, StringIO())
    assert AffairsCase.objects.count() == 6
    assert set(AffairsCase.objects.values_list("status", flat=True)) == {
        AffairsStatus.OPEN, AffairsStatus.IN_PROGRESS, AffairsStatus.COMPLETED, AffairsStatus.WITHDRAWN}
    assert Representative.objects.filter(kind=RepresentativeKind.DEPUTY).count() == 1
    # Each demo document is a real one-page PDF about its client, tagged like every PDF made here.
    import io

    import pikepdf

    from casework.models import Document

    from .pdf_structure import problems

    documents = list(Document.objects.select_related("client"))
    assert len(documents) >= 5
    for document in documents:
        content = document.file.open("rb").read()
        assert problems(content) == [], document.original_name
        with pikepdf.open(io.BytesIO(content)) as pdf:
            assert len(pdf.pages) == 1
            assert str(pdf.open_metadata().get("dc:title")).endswith(document.client.full_name)


def test_subject_access_and_erasure_cover_the_affairs_records(officer, team):
    from casework.affairs import panels  # noqa: F401 - registers the source (CaseworkConfig.ready() once hooked)
    from casework.affairs.privacy import affairs_free_text
    from casework.privacy.sources import collect

    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    client = affairs.case.client
    services.capacity_assessment_record(client=client, assessed_on=TODAY(), assessor="Dr F", decision="Bills",
                                        outcome=Capacity.LACKS, actor=officer)
    services.affairs_recover_costs(affairs=affairs, amount=Decimal("10.00"), effective_date=TODAY(),
                                   reason="Kennels", actor=officer)
    sections = {s.code: s for s in collect(client)}
    assert sections["capacity_assessments"].rows[0]["assessor"] == "Dr F"
    assert sections["financial_affairs_costs"].rows[0]["reason"] == "Kennels"
    assert len(sections["financial_affairs_steps"].rows) == 1
    affairs_free_text(client, erasure=None)
    assert CapacityAssessment.objects.get(client=client).assessor == ""
    assert affairs.costs.get().reason == "" and affairs.steps.get().note == ""


def test_every_step_form_and_the_case_panel_render(http, officer, team):
    deputyship = start(AffairsKind.DEPUTYSHIP, officer, team)
    protection = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    for affairs in (deputyship, protection):
        for row in selectors.checklist(affairs):
            url = reverse("casework:affairs_step", args=[affairs.pk, row.definition.code])
            assert http.get(url).status_code == 200, row.definition.code
        assert http.get(reverse("casework:affairs_status", args=[affairs.pk])).status_code == 200
        case_page = http.get(reverse("casework:case_detail", args=[affairs.case.pk])).content.decode()
        assert reverse("casework:affairs_detail", args=[affairs.pk]) in case_page
    assert http.get(reverse("casework:affairs_step", args=[deputyship.pk, "no_such_step"])).status_code == 404


def test_the_fee_and_deputy_forms_post_through_the_pages(http, officer, team):
    affairs = start(AffairsKind.DEPUTYSHIP, officer, team)
    day = TODAY() - timedelta(days=1)
    when = lambda field: {f"{field}_0": day.day, f"{field}_1": day.month, f"{field}_2": day.year}  # noqa: E731
    fee = http.post(reverse("casework:affairs_step", args=[affairs.pk, "fee"]),
                    {"outcome": "paid", "amount_paid": "300", **when("done_on")})
    assert fee.status_code == 200 and "say in the note why" in fee.content.decode()
    fee = http.post(reverse("casework:affairs_step", args=[affairs.pk, "fee"]), {"outcome": "paid", **when("done_on")})
    assert fee.status_code == 302
    deputy_url = reverse("casework:affairs_step", args=[affairs.pk, "deputy_appointed"])
    details = {"name": "A Deputy", "address_line_1": "1 High Street", "postcode": "NM1 2AB", **when("appointed_on")}
    assert "Record the court" in http.post(deputy_url, details).content.decode()
    do(affairs, officer, "order_made")
    assert http.post(deputy_url, details).status_code == 302
    assert Representative.objects.get(client=affairs.case.client).kind == RepresentativeKind.DEPUTY
    page = http.get(reverse("casework:affairs_detail", args=[affairs.pk])).content.decode()
    assert "A Deputy" in page and "£365.00 paid of the £365.00 fee" in page


def test_costs_through_the_pages_show_on_the_case(http, officer, team):
    affairs = start(AffairsKind.PROTECTION_OF_PROPERTY, officer, team)
    day = TODAY()
    when = {"effective_date_0": day.day, "effective_date_1": day.month, "effective_date_2": day.year}
    url = reverse("casework:affairs_step", args=[affairs.pk, "costs_recovered"])
    assert http.post(url, {"amount": "£95.00", "reason": "Locksmith", **when}).status_code == 302
    further = reverse("casework:affairs_costs", args=[affairs.pk])
    refused = http.post(further, {"amount": "", "reason": "Kennels", **when})
    assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()
    assert http.post(further, {"amount": "12.50", "reason": "Kennels", **when}).status_code == 302
    page = http.get(reverse("casework:affairs_detail", args=[affairs.pk])).content.decode()
    assert "Locksmith" in page and "£12.50" in page
