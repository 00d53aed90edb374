"""Demo: one death recorded with its consequences awaiting confirmation, so the "Deaths" page
shows work. The client is one with an issued invoice (so the income team's credit for the days
after the death is among the proposals). Idempotent: nothing is added if this demo death exists."""
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from casework.constants import DeathSource
from casework.models import Client
from casework.models.deaths import DeathRecord

DEMO_SOURCE = DeathSource.HOSPITAL


def seed_deaths(users, stdout) -> None:
    from casework.deaths.services import death_record

    if DeathRecord.objects.filter(source=DEMO_SOURCE, recorded_by=users.get("resource")).exists():
        return
    today = timezone.localdate()
    client = (Client.objects.filter(date_of_death__isnull=True, death_records__isnull=True,
                                    invoices__corrects__isnull=True, invoices__period_start__lte=today - timedelta(days=9))
              .order_by("-invoices__period_start", "pk").first())
    if client is None:
        stdout.write("No invoiced client for the demo death")
        return
    latest = client.invoices.filter(corrects__isnull=True).order_by("-period_start").first()
    died = min(latest.period_start + timedelta(days=9), today)
    with transaction.atomic():
        death = death_record(client=client, date_of_death=died, source=DEMO_SOURCE, verified=True,
                             actor=users["resource"])
    stdout.write(f"Death of {client.reference} recorded with {death.consequences.count()} consequences to confirm")


def register() -> None:
    from casework.demo import register_demo_seeder
    from casework.navigation import register_nav_item

    from .roles import DEATH_NAV

    register_nav_item(label="Deaths", url_name="casework:death_list", roles=DEATH_NAV, order=75)
    register_demo_seeder(seed_deaths, order=80)
