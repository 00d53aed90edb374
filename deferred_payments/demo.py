"""Demo deferred payment agreements, so a new officer sees one in each part of its life: an
enquiry, an application part-checked, a refusal with its letter, an active agreement with
statements, one suspended at the equity limit and one ended on death and referred to recovery.

Idempotent: clients are found by reference, and an agreement is made only for a client without one.
Everything goes through the services, as an officer's actions would.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casework.constants import DeathSource, RepresentativeKind
from casework.models import Client, Representative, Team
from casework.services import client_create, client_record_death
from casework.services.system import system_user

from . import services, statements
from .models import Agreement, Criterion, State, TerminationReason

TEAM = "Deferred payments"


def activate(agreement: Agreement, *, actor, start: date, weekly_care_cost: Decimal, weekly_contribution: Decimal,
             value: Decimal, address: tuple[str, str, str], title: str, mortgage: Decimal = Decimal(0),
             share: Decimal = Decimal(100), weekly_top_up: Decimal = Decimal(0)) -> Agreement:
    """Take an enquiry through every step to an active agreement starting on `start`."""
    day = start - timedelta(days=70)
    services.agreement_transition(agreement=agreement, to_state=State.APPLICATION, actor=actor, on=day)
    for criterion, evidence in EVIDENCE.items():
        services.eligibility_record(agreement=agreement, criterion=criterion, met=True, evidence=evidence,
                                    checked_on=day + timedelta(days=7), actor=actor,
                                    capital_amount=Decimal("8400.00") if criterion == Criterion.CAPITAL else None)
    services.agreement_transition(agreement=agreement, to_state=State.ELIGIBILITY_CHECKED, actor=actor,
                                  on=day + timedelta(days=7))
    services.agreement_update_terms(agreement=agreement, actor=actor, weekly_care_cost=weekly_care_cost,
                                    weekly_contribution=weekly_contribution, weekly_top_up=weekly_top_up)
    services.property_save(agreement=agreement, actor=actor, address_line_1=address[0], town=address[1],
                           postcode=address[2], title_number=title, share_percent=share)
    services.valuation_add(agreement=agreement, valued_on=day + timedelta(days=14), value=value,
                           valuer="Northmoor Valuation Services (RICS)", actor=actor)
    if mortgage:
        services.existing_charge_add(agreement=agreement, lender="Northern Building Society", amount=mortgage,
                                     as_at=day + timedelta(days=14), actor=actor)
    services.agreement_transition(agreement=agreement, to_state=State.OFFERED, actor=actor, on=day + timedelta(days=21))
    services.agreement_transition(agreement=agreement, to_state=State.SIGNED, actor=actor, on=day + timedelta(days=35))
    services.legal_charge_record(agreement=agreement, step="sent", on=day + timedelta(days=40), actor=actor)
    services.legal_charge_record(agreement=agreement, step="registered", on=day + timedelta(days=63), actor=actor,
                                 reference=f"LR-{title}-1")
    return services.agreement_transition(agreement=agreement, to_state=State.ACTIVE, actor=actor,
                                         on=day + timedelta(days=63), start_date=start)


EVIDENCE = {
    Criterion.CARE_HOME: "Placement confirmed by the social worker's care and support plan",
    Criterion.CAPITAL: "Bank and building society statements for the last three months",
    Criterion.NOT_DISREGARDED: "Home visit: the property is empty; no spouse or qualifying relative lives there",
    Criterion.CONSENT: "Sole owner on the Land Registry title; no one else has an interest",
    Criterion.SECURITY: "Title is registered and insured; the council's charge will be a first charge",
}

CLIENTS = [
    # reference, title, first, last, born, address, postcode
    ("DP900001", "Mrs", "Edith", "Marsh", date(1938, 2, 11), "4 Orchard Close", "NM2 4HJ"),
    ("DP900002", "Mr", "Arthur", "Pennington", date(1935, 9, 3), "17 Mill Lane", "NM3 1QP"),
    ("DP900003", "Mrs", "Margaret", "Cole", date(1941, 6, 22), "9 Church Row", "NM1 5DE"),
    ("DP900004", "Mrs", "Joan", "Whitfield", date(1936, 12, 1), "23 Beech Avenue", "NM4 2LS"),
    ("DP900005", "Mr", "George", "Ashworth", date(1933, 4, 17), "2 Station Cottages", "NM5 7RT"),
    ("DP900006", "Mr", "Dennis", "Hall", date(1940, 8, 30), "61 Quarry Road", "NM2 9BX"),
]


def _client(row, actor) -> Client:
    reference, title, first, last, born, street, postcode = row
    existing = Client.objects.filter(reference=reference).first()
    if existing:
        return existing
    return client_create(actor=actor, reference=reference, title=title, first_name=first, last_name=last,
                         date_of_birth=born, address_line_1="Northmoor Lodge Care Home, Hill Road", town="Northmoor",
                         postcode="NM1 8AA", capacity="has")


def seed_demo(users: dict, stdout) -> None:
    officer = users.get("deferred") or system_user()
    team = (users.get("teams") or {}).get(TEAM) or Team.objects.get_or_create(name=TEAM)[0]
    today = timezone.localdate()
    made = 0
    for row in CLIENTS:
        client = _client(row, officer)
        if Agreement.objects.filter(client=client).exists():
            continue
        with transaction.atomic():
            _seed_one(row, client, officer, team, today)
        made += 1
    if made:
        stdout.write(f"Seeded {made} deferred payment agreements.")


def _seed_one(row, client: Client, officer, team: Team, today: date) -> None:
    reference, _, _, _, _, street, postcode = row
    address = (street, "Northmoor", postcode)
    agreement = services.agreement_create(client=client, team=team, actor=officer, enquiry_on=today - timedelta(days=9),
                                          care_home="Northmoor Lodge Care Home")
    if reference == "DP900001":
        return  # an enquiry, nothing more yet
    if reference == "DP900002":
        services.agreement_transition(agreement=agreement, to_state=State.APPLICATION, actor=officer,
                                      on=today - timedelta(days=5))
        services.eligibility_record(agreement=agreement, criterion=Criterion.CARE_HOME, met=True, actor=officer,
                                    evidence=EVIDENCE[Criterion.CARE_HOME], checked_on=today - timedelta(days=3))
        services.eligibility_record(agreement=agreement, criterion=Criterion.CAPITAL, met=True, actor=officer,
                                    evidence=EVIDENCE[Criterion.CAPITAL], checked_on=today - timedelta(days=3),
                                    capital_amount=Decimal("12650.00"))
        return
    if reference == "DP900003":
        services.agreement_transition(agreement=agreement, to_state=State.APPLICATION, actor=officer,
                                      on=today - timedelta(days=8))
        services.eligibility_record(agreement=agreement, criterion=Criterion.NOT_DISREGARDED, met=False, actor=officer,
                                    evidence="Her husband, aged 84, still lives in the home: it is disregarded",
                                    checked_on=today - timedelta(days=6))
        services.eligibility_refuse(agreement=agreement, actor=officer, on=today - timedelta(days=6))
        return
    if reference == "DP900004":
        agreement = activate(agreement, actor=officer, start=date(2024, 1, 1), weekly_care_cost=Decimal("1150.00"),
                 weekly_contribution=Decimal("310.40"), value=Decimal("250000.00"), mortgage=Decimal("20000.00"),
                 address=address, title="NM482113")
        services.nightly(agreement=agreement, business_date=today, actor=officer)
        for end in (date(2024, 6, 30), date(2024, 12, 31), date(2025, 6, 30)):
            statements.six_monthly_produce(agreement=Agreement.objects.get(pk=agreement.pk),
                                           business_date=end + timedelta(days=1), actor=officer)
        return
    if reference == "DP900005":
        agreement = activate(agreement, actor=officer, start=date(2023, 7, 3), weekly_care_cost=Decimal("1080.00"),
                 weekly_contribution=Decimal("295.10"), value=Decimal("185000.00"), address=address,
                 title="NM330975")
        services.nightly(agreement=agreement, business_date=date(2025, 3, 10), actor=officer)
        Representative.objects.create(client=client, kind=RepresentativeKind.EXECUTOR, name="Susan Ashworth",
                                      relationship="Daughter", address_line_1="14 Fern Street", town="Leeds",
                                      postcode="LS1 4AP", start_date=date(2025, 3, 20),
                                      authority_reference="Grant of probate 2025-0412")
        client_record_death(client=client, date_of_death=date(2025, 3, 10), source=DeathSource.CARE_HOME,
                            verified=True, actor=officer)
        agreement = Agreement.objects.get(pk=agreement.pk)
        services.agreement_terminate(agreement=agreement, reason=TerminationReason.DEATH, on=date(2025, 3, 10),
                                     actor=officer)
        services.nightly(agreement=Agreement.objects.get(pk=agreement.pk), business_date=today, actor=officer)
        return
    if reference == "DP900006":
        agreement = activate(agreement, actor=officer, start=date(2024, 1, 1), weekly_care_cost=Decimal("1095.00"),
                 weekly_contribution=Decimal("240.00"), value=Decimal("98000.00"), address=address,
                 title="NM517740")
        services.nightly(agreement=agreement, business_date=today, actor=officer)
