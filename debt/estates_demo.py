"""Demo estate cases, so a resource management officer sees one at each stage: one opened and
overdue for follow-up (executor known, probate search made), one with the claim sent, a grant
issued and part of the debt paid, and one closed as "no estate" with its write-off waiting for
approval.

Each demo client is billed for two four-weekly periods of home care up to their death, then their
death is recorded, all through the services as an officer's actions would be. Idempotent: nothing
is added when the first demo client already exists.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casework.constants import DeathSource, RepresentativeKind
from casework.models import Client
from casework.services import client_create, client_record_death, representative_add

from .constants import PaymentMethod
from .models import ChargeableService, EstateOutcome, ProbateStatus

CLIENTS = [
    # reference, title, first, last, born, address, postcode, weekly charge, executor
    ("ES900001", "Mrs", "Ivy", "Thornton", date(1934, 3, 14), "8 Linden Grove", "NM3 2QR", "112.60",
     ("Paul Thornton", "Son", "41 Moor View", "NM3 7LT")),
    ("ES900002", "Mr", "Walter", "Briggs", date(1931, 11, 2), "15 Canal Street", "NM1 4EW", "187.25",
     ("Susan Kerr, Kerr & Lowe Solicitors", "Solicitor", "2 Market Place", "NM1 1AA")),
    ("ES900003", "Miss", "Doris", "Fenwick", date(1937, 7, 28), "Flat 3, Abbey Court", "NM6 5JD", "75.40", None),
]


def _bill_and_die(row, actor, died: date) -> Client:
    """Create the client, charge home care for the two periods up to `died`, invoice them, and
    record the death."""
    from .services.billing import charge_create, draft_for, invoice_issue, load_billing_data, period_ending_on_or_before

    reference, title, first, last, born, street, postcode, weekly, _ = row
    client = client_create(actor=actor, reference=reference, title=title, first_name=first, last_name=last,
                           date_of_birth=born, address_line_1=street, town="Northmoor", postcode=postcode)
    last_period = period_ending_on_or_before(died + timedelta(days=27))
    first_period = period_ending_on_or_before(last_period.start - timedelta(days=1))
    charge_create(client=client, service=ChargeableService.objects.get(code="home_care"), weekly_amount=Decimal(weekly),
                  effective_from=first_period.start, effective_to=died, assessment_reference=f"FA-{reference[2:]}",
                  actor=actor)
    client_record_death(client=client, date_of_death=died, source=DeathSource.REGISTRAR, verified=True, actor=actor)
    client.refresh_from_db()
    for period in (first_period, last_period):
        draft = draft_for(client, period, load_billing_data([client.pk])[client.pk])
        issued = min(period.end + timedelta(days=1), died + timedelta(days=3))
        invoice_issue(client=client, draft=draft, issue_date=issued, actor=actor)
    return client


def _executor(client: Client, details, died: date, actor):
    name, relationship, street, postcode = details
    return representative_add(client=client, actor=actor, kind=RepresentativeKind.EXECUTOR, name=name,
                              relationship=relationship, address_line_1=street, town="Northmoor", postcode=postcode,
                              start_date=died, authority_reference="")


@transaction.atomic
def seed_estates(users: dict, stdout) -> None:
    from .services import estates as services
    from .services.payments import payment_record

    if Client.objects.filter(reference=CLIENTS[0][0]).exists():
        return
    officer = users["resource"]
    today = timezone.localdate()
    cases = []
    for index, row in enumerate(CLIENTS):
        died = today - timedelta(days=75 + 20 * index)
        client = _bill_and_die(row, officer, died)
        representative = _executor(client, row[-1], died, officer) if row[-1] else None
        estate = services.estate_open(client=client, actor=officer, on=died + timedelta(days=12),
                                      representative=representative)
        cases.append((estate, died))
    # 1. Opened, the executor known, a probate search made; the follow-up is overdue.
    estate, died = cases[0]
    services.estate_record_probate(estate=estate, status=ProbateStatus.SEARCH_MADE, actor=officer,
                                   search_on=died + timedelta(days=14))
    # 2. Claim sent, grant issued, part of the debt paid by the solicitors from the estate.
    estate, died = cases[1]
    services.estate_update_details(estate=estate, actor=officer, representative=estate.representative,
                                   estimated_value=Decimal("4800.00"))
    services.estate_record_probate(estate=estate, status=ProbateStatus.GRANT_ISSUED, actor=officer,
                                   grant_on=died + timedelta(days=40), grant_reference="PA-2026-118204")
    services.estate_send_claim(estate=estate, actor=officer)
    payment_record(client=estate.case.client, amount=Decimal("300.00"), method=PaymentMethod.BANK_TRANSFER,
                   received_on=today - timedelta(days=2), reference="KERR LOWE ESTATE BRIGGS", actor=officer)
    services.estate_record_follow_up(estate=estate, note="Solicitor paid £300 on account; the house sale completes "
                                     "next month and the balance will follow.", contact_made=True, actor=officer)
    # 3. No estate: nothing to pay from, so the debt goes for write-off approval.
    estate, died = cases[2]
    services.estate_record_probate(estate=estate, status=ProbateStatus.NO_GRANT_EXPECTED, actor=officer)
    services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer,
                          note="The care home confirms Miss Fenwick had no savings or property; her pension "
                               "stopped on her death and no one is applying for a grant.")
    stdout.write(f"Seeded {len(cases)} demo estate cases.")
