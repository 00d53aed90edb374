"""Demo financial affairs cases at different steps, made through the services (idempotent)."""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casework.constants import Capacity
from casework.demo_documents import COUNCIL_OFFICE, COURT, HOSPITAL, demo_document_upload
from casework.models import AffairsCase, AffairsKind, AffairsStatus, ChecklistStepDefinition, Client, FeeOutcome

from . import services

TEAM = "Resource management"


#: Who sends the document a step needs (anything else: the council's own Client Affairs team).
SENDERS = {"capacity_evidence": HOSPITAL, "capacity_assessment": HOSPITAL, "application_sent": COURT,
           "notifications": COURT, "order_made": COURT}


def _pdf(name: str, *, title: str, client, dated: date, sender=COUNCIL_OFFICE):
    """A real one-page PDF for a demo step or assessment (see casework.demo_documents)."""
    return demo_document_upload(name, title=title, client=client, sender=sender, dated=dated, paragraphs=[
        f"We write about {client.full_name}. This is our record of: {title.lower()}.",
        "We have kept a copy. Please keep this letter with the case papers and tell us if any of the "
        "details above are wrong.",
        f"If you have any questions, please call us on {sender.phone} and quote the social care "
        f"reference {client.reference}.",
    ])


def _steps(affairs: AffairsCase, actor, today: date, *codes_and_days: tuple[str, int]) -> None:
    for code, days_ago in codes_and_days:
        definition = ChecklistStepDefinition.objects.get(kind=affairs.kind, code=code)
        done_on = today - timedelta(days=days_ago)
        upload = _pdf(f"{code}.pdf", title=definition.label, client=affairs.case.client, dated=done_on,
                      sender=SENDERS.get(code, COUNCIL_OFFICE)) if definition.requires_document else None
        services.affairs_complete_step(affairs=affairs, code=code, actor=actor, upload=upload,
                                       done_on=done_on, note=f"{definition.label} (demo)")


def seed_financial_affairs(users: dict, stdout) -> None:
    officer = users["resource"]
    if AffairsCase.objects.filter(created_by=officer).exists():
        stdout.write("Demo financial affairs cases already present: not adding more.")
        return
    team = users["teams"][TEAM]
    today = timezone.localdate()
    living = Client.objects.filter(date_of_death__isnull=True).order_by("reference")
    lacking = list(living.filter(capacity=Capacity.LACKS)[:3])
    others = list(living.exclude(capacity=Capacity.LACKS)[:3])
    if len(lacking) < 3 or len(others) < 3:
        stdout.write("Not enough demo clients for financial affairs cases.")
        return
    with transaction.atomic():
        _seed(officer, team, today, lacking, others)
    stdout.write("Seeded 6 demo financial affairs cases.")


def _start(client, kind, title, officer, team, **extra) -> AffairsCase:
    return services.affairs_start(client=client, kind=kind, title=title, team=team, actor=officer,
                                  assigned_officer=officer, **extra)


def _seed(officer, team, today: date, lacking: list, others: list) -> None:
    services.capacity_assessment_record(
        client=lacking[0], assessed_on=today - timedelta(days=120), assessor="Dr S Morgan, consultant psychiatrist",
        decision="Whether she can manage her benefits and pay her bills", outcome=Capacity.LACKS, actor=officer,
        upload=_pdf("capacity-assessment.pdf", title="Mental capacity assessment", client=lacking[0],
                    dated=today - timedelta(days=120), sender=HOSPITAL))
    appointee = _start(lacking[0], AffairsKind.APPOINTEESHIP, "Appointeeship: benefits management", officer, team)
    _steps(appointee, officer, today, ("referral", 110), ("capacity_evidence", 100))

    deputyship = _start(lacking[1], AffairsKind.DEPUTYSHIP, "Court of Protection deputyship application",
                        officer, team)
    _steps(deputyship, officer, today, ("forms_prepared", 90), ("capacity_assessment", 85))
    services.affairs_record_fee(affairs=deputyship, outcome=FeeOutcome.EXEMPT, done_on=today - timedelta(days=80),
                                actor=officer,
                                note="Help with fees granted on COP44A: benefits and savings under £3,000")
    _steps(deputyship, officer, today, ("application_sent", 78))

    appointed = _start(lacking[2], AffairsKind.DEPUTYSHIP, "Court of Protection deputyship application",
                       officer, team)
    _steps(appointed, officer, today, ("forms_prepared", 220), ("capacity_assessment", 215))
    services.affairs_record_fee(affairs=appointed, outcome=FeeOutcome.PAID, done_on=today - timedelta(days=210),
                                actor=officer)
    _steps(appointed, officer, today, ("application_sent", 208), ("notifications", 190), ("order_made", 40))
    services.affairs_appoint_deputy(
        affairs=appointed, appointed_on=today - timedelta(days=40), name="Northmoor County Council (Client Affairs)",
        organisation="Northmoor County Council", address_line_1="County Hall", town="Northmoor", postcode="NM1 1AA",
        authority_reference=f"COP-{13000000 + appointed.pk}", actor=officer)
    services.affairs_transition(affairs=appointed, to_status=AffairsStatus.COMPLETED, actor=officer)

    property_case = _start(others[0], AffairsKind.PROTECTION_OF_PROPERTY, "Secure the home while in hospital",
                           officer, team)
    _steps(property_case, officer, today, ("inventory", 30), ("home_secured", 30), ("pets", 29))
    services.affairs_recover_costs(affairs=property_case, amount=Decimal("185.40"),
                                   effective_date=today - timedelta(days=20), actor=officer,
                                   reason="Locksmith £95.00 and kennel fees for the dog, 9 nights at £10.04")

    _start(others[1], AffairsKind.FINANCE_ONLY, "Finance only: self-funder arranging care through the council",
           officer, team, reason="Self-funder with capital above the upper limit who asked the council to arrange care",
           review_date=today + timedelta(days=90))
    withdrawn = _start(others[2], AffairsKind.APPOINTEESHIP, "Appointeeship: benefits management", officer, team)
    services.affairs_transition(affairs=withdrawn, to_status=AffairsStatus.WITHDRAWN, actor=officer,
                                reason="Her son has become appointee")
