"""The county-scale generator, `manage.py seed`: what it makes, that it tops up, and that it is repeatable."""
import hashlib
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from stdnum.gb import nhs

from casework.constants import AccountKind, Capacity, CaseType, EntryKind, RepresentativeKind
from casework.models import Account, Case, Client, LedgerEntry, Representative, Team, TimelineEntry
from casework.models.clients import normalise_postcode

from .factories import UserFactory

pytestmark = pytest.mark.django_db

SEEDED = r"^SC[0-9]{7}$"
TEAMS = ["Income and debt recovery", "Deferred payments", "Direct payments monitoring", "Provider payments",
         "Resource management"]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed", stdout=out, **options)
    return out.getvalue()


def digest() -> str:
    """A fingerprint of the generated data, without database ids or wall-clock timestamps."""
    rows = []
    for c in Client.objects.filter(reference__regex=SEEDED).order_by("reference"):
        rows.append((c.reference, c.title, c.first_name, c.middle_names, c.last_name, c.date_of_birth, c.nhs_number,
                     c.address_line_1, c.address_line_2, c.town, c.postcode, c.phone, c.capacity,
                     tuple(c.communication_needs), c.date_of_death, c.death_source))
    rows += sorted(Representative.objects.values_list("client__reference", "kind", "name", "organisation",
                                                      "authority_reference", "start_date", "postcode"))
    rows += list(LedgerEntry.objects.order_by("account__number", "effective_date", "reference").values_list(
        "account__number", "kind", "amount", "effective_date", "reference", "description"))
    rows += sorted(Case.objects.values_list("client__reference", "case_type", "title", "status", "priority",
                                            "due_date", "hold_reason"))
    rows += sorted(TimelineEntry.objects.values_list("client__reference", "kind", "action", "summary", "body"))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_seed_makes_a_plausible_county_of_clients():
    out = seed(clients=300, batch=120)
    assert "SC1000000-SC1000119" in out and "Done in" in out

    clients = Client.objects.filter(reference__regex=SEEDED)
    assert clients.count() == 300
    assert sorted(clients.values_list("reference", flat=True)) == [f"SC{1000000 + i}" for i in range(300)]
    assert Client.history.filter(reference__regex=SEEDED).count() == 300

    # The population: mostly older people, some who lack capacity, some who have died.
    today = timezone.localdate()
    ages = [c.age_on(today) for c in clients]
    assert min(ages) >= 18 and max(ages) <= 101
    assert sum(a >= 65 for a in ages) / 300 > 0.55
    assert 0.07 < clients.filter(capacity=Capacity.LACKS).count() / 300 < 0.25
    dead = clients.filter(date_of_death__isnull=False)
    assert 1 <= dead.count() <= 25
    assert not dead.filter(death_source="").exists()
    assert 3 <= sum("large_print" in c.communication_needs for c in clients) <= 35

    # Identifiers: valid NHS numbers for most, all distinct; county postcodes in their standard form.
    numbers = [n for n in clients.values_list("nhs_number", flat=True) if n]
    assert 0.8 < len(numbers) / 300 < 0.97
    assert all(nhs.is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    for postcode in clients.values_list("postcode", flat=True):
        assert re.fullmatch(r"NM\d{1,2} \d[A-Z]{2}", postcode) and normalise_postcode(postcode) == postcode
    for postcode in Representative.objects.values_list("postcode", flat=True):
        assert normalise_postcode(postcode) == postcode

    # One care charges account each, numbered from the reference.
    accounts = Account.objects.filter(client__in=clients)
    assert accounts.count() == 300
    assert not accounts.exclude(kind=AccountKind.CLIENT_CHARGES).exists()
    assert all(a.number == f"C-{a.client.reference}" for a in accounts.select_related("client"))

    # Invoices: four-weekly charges over the last year, unique INV references, paid by later payments.
    charges = LedgerEntry.objects.filter(kind=EntryKind.CHARGE)
    payments = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
    assert charges.count() > 300 * 6 and payments.count() > 300 * 5
    references = list(charges.values_list("reference", flat=True))
    assert all(re.fullmatch(r"INV\d{8}", r) for r in references)
    assert len(set(references)) == len(references)
    assert not charges.filter(amount__lte=0).exists() and not payments.filter(amount__gte=0).exists()
    assert not LedgerEntry.objects.filter(effective_date__gt=today).exists()
    assert not charges.filter(effective_date__lt=today - timedelta(days=370)).exists()
    assert not LedgerEntry.objects.exclude(posted_by__username="careledger-system").exists()
    assert charges.filter(amount__gt=Decimal("800")).exists()  # residential placements
    for account in accounts.annotate(n=Count("entries")).filter(n__gt=0)[:60]:
        dates = sorted(account.entries.filter(kind=EntryKind.CHARGE).values_list("effective_date", flat=True))
        assert all((b - a).days == 28 for a, b in zip(dates, dates[1:]))
        assert all(p.effective_date > dates[0] for p in account.entries.filter(kind=EntryKind.PAYMENT))

    # Balances: never in credit, never more than was charged; about one in seven owes overdue charges.
    overdue_clients = set()
    cutoff = today - timedelta(days=35)
    for account in accounts.annotate(balance=Sum("entries__amount")):
        balance = account.balance or Decimal("0")
        billed = account.entries.filter(kind=EntryKind.CHARGE).aggregate(s=Sum("amount"))["s"] or Decimal("0")
        assert Decimal("0") <= balance <= billed
        due = account.entries.filter(kind=EntryKind.CHARGE, effective_date__lte=cutoff).aggregate(s=Sum("amount"))["s"]
        paid = -(account.entries.filter(kind=EntryKind.PAYMENT).aggregate(s=Sum("amount"))["s"] or 0)
        if due and due - paid > Decimal("1.00"):
            overdue_clients.add(account.client_id)
    assert 0.07 < len(overdue_clients) / 300 < 0.3

    # Cases: debt recovery for living clients in arrears, other kinds spread over the teams.
    assert sorted(Team.objects.filter(name__in=TEAMS).values_list("name", flat=True)) == sorted(TEAMS)
    debt = Case.objects.filter(case_type=CaseType.DEBT_RECOVERY)
    assert debt.count() >= 0.6 * len(overdue_clients - set(dead.values_list("id", flat=True)))
    assert set(debt.values_list("client_id", flat=True)) <= overdue_clients
    assert debt.filter(team__name="Income and debt recovery").count() == debt.count()
    assert Case.objects.exclude(case_type=CaseType.DEBT_RECOVERY).values("team").distinct().count() >= 3
    assert not Case.objects.filter(assigned_officer__isnull=False).exists()  # no officers in the teams here
    for case in Case.objects.annotate(notes=Count("timeline")):
        assert case.notes >= 2
        assert case.timeline.filter(action="case.opened").count() == 1
    assert Case.history.count() == Case.objects.count()

    # Representatives: someone acting for most who lack capacity; executors only for the dead.
    lacking = clients.filter(capacity=Capacity.LACKS)
    acting = lacking.filter(representatives__kind__in=[RepresentativeKind.DEPUTY, RepresentativeKind.ATTORNEY,
                                                       RepresentativeKind.APPOINTEE]).distinct()
    assert acting.count() >= 0.65 * lacking.count()
    assert Representative.objects.filter(kind=RepresentativeKind.FAMILY, is_named_contact=True).exists()
    for rep in Representative.objects.filter(kind=RepresentativeKind.EXECUTOR).select_related("client"):
        assert rep.client.date_of_death and rep.start_date > rep.client.date_of_death
    assert Representative.history.count() == Representative.objects.count()

    system = get_user_model().objects.get(username="careledger-system")
    assert not system.has_usable_password() and not system.is_active


def test_running_again_tops_up_and_never_duplicates():
    seed(clients=300)
    counts = {m: m.objects.count() for m in (Client, Account, LedgerEntry, Representative, Case, TimelineEntry)}
    out = seed(clients=300)
    assert "nothing to add" in out
    assert counts == {m: m.objects.count() for m in counts}

    seed(clients=320)
    refs = sorted(Client.objects.filter(reference__regex=SEEDED).values_list("reference", flat=True))
    assert len(refs) == 320 and refs[-1] == "SC1000319"
    assert Account.objects.count() == 320
    invoices = list(LedgerEntry.objects.filter(kind=EntryKind.CHARGE).values_list("reference", flat=True))
    assert len(set(invoices)) == len(invoices)


def test_demo_clients_are_not_counted_or_collided_with():
    seed(clients=5)
    call_command("seed_demo", stdout=io.StringIO())
    assert seed(clients=5).count("nothing to add") == 1
    seed(clients=10)
    assert Client.objects.filter(reference__regex=SEEDED).count() == 10
    invoices = list(LedgerEntry.objects.filter(kind=EntryKind.CHARGE).values_list("reference", flat=True))
    assert len(set(invoices)) == len(invoices)


def test_officers_in_the_teams_get_cases_and_tasks():
    officer = UserFactory(username="debt-officer")
    team, _ = Team.objects.get_or_create(name="Income and debt recovery")
    team.members.add(officer)
    seed(clients=300)
    held = Case.objects.filter(assigned_officer=officer)
    assert held.exists() and set(held.values_list("team__name", flat=True)) == {"Income and debt recovery"}
    assert Case.objects.filter(team=team, assigned_officer__isnull=True).exists()
    assert officer.tasks.exists()
    assert TimelineEntry.objects.filter(case__in=held, actor=officer).exists()


def test_the_same_seed_gives_the_same_data_however_it_is_split():
    with transaction.atomic():
        seed(clients=300)
        whole = digest()
        transaction.set_rollback(True)
    assert not Client.objects.exists()

    with transaction.atomic():
        seed(clients=120, batch=50)
        seed(clients=300, batch=97)
        assert digest() == whole
        transaction.set_rollback(True)

    seed(clients=300, seed=7)
    assert digest() != whole


@pytest.mark.parametrize("command, args", [
    ("seed_demo", []), ("seed", ["--clients", "1"]), ("bench", ["letters", "--count", "1"]),
    ("benchmark_search", ["--clients", "1"]), ("bench_deferred", ["--agreements", "1"]),
    ("bench_direct", ["dp-audit"]), ("bench_forecast", []), ("bench_provider", ["validation"]),
])
def test_demo_and_benchmark_data_commands_refuse_settings_that_do_not_allow_demo_data(settings, command, args):
    from django.core.management import CommandError

    settings.DEMO_DATA_ALLOWED = False
    users = get_user_model().objects.count()
    with pytest.raises(CommandError, match=f"^{command} writes demo data and is refused with these settings"):
        call_command(command, *args, stdout=io.StringIO())
    assert get_user_model().objects.count() == users and not Client.objects.exists()


def test_demo_data_is_allowed_by_the_local_and_test_settings_only():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    values = {}
    for module in ["config.settings.base", "config.settings.local", "config.settings.test",
                   "config.settings.production"]:
        env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "s" * 60, "DJANGO_SETTINGS_MODULE": module,
               "DATABASE_URL": "sqlite:///:memory:"}
        done = subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.DEMO_DATA_ALLOWED)"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        values[module] = done.stdout.strip()
    assert values == {"config.settings.base": "False", "config.settings.local": "True",
                      "config.settings.test": "True", "config.settings.production": "False"}


def test_seed_demo_with_the_production_settings_is_refused_before_it_opens_the_database():
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings as live

    root = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "s" * 60, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused"}
    done = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "seed_demo writes demo data and is refused with these settings (config.settings.production)" in done.stderr
    assert live.DEMO_DATA_ALLOWED  # this suite's own settings allow it
