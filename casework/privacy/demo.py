"""Demo: a former client whose records are past every retention period, and the retention run
that marks them for review, so that "Data protection" shows a review to decide and the erasure
journey can be tried. Idempotent: nothing is added if the former client exists.

The client stopped receiving chargeable care in 2018: four-weekly charges and payments to a nil
balance, and a closed finance case. Their records came from the system Careledger replaced, so the
case's opening and closing dates are those of that system (set on the row: no service changes a
closed case's dates, and none should).
"""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from casework.constants import CaseStatus, CaseType, EntryKind
from casework.models import Case, Client, Team

DEMO_REFERENCE = "SC100417"
#: The last charge of the former client's care (its payment followed 14 days later).
LAST_CHARGE = date(2018, 3, 26)


def seed_retention(users, stdout) -> None:
    from casework import services
    from casework.runs.services import run_counts, run_start

    if Client.objects.filter(reference=DEMO_REFERENCE).exists():
        return
    income = users["income"]
    with transaction.atomic():
        client = services.client_create(
            actor=income, reference=DEMO_REFERENCE, title="Mr", first_name="Harold", last_name="Penrose",
            date_of_birth=date(1931, 9, 14), address_line_1="4 Mill Lane", town="Northmoor", county="Northmoorshire",
            postcode="NM5 2QT")
        account = services.account_for_client(client)
        for weeks_back in range(12, -1, -4):
            end = LAST_CHARGE - timedelta(weeks=weeks_back)
            services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=Decimal("154.80"), effective_date=end,
                                 reference=f"LEG{DEMO_REFERENCE[2:]}{end:%y%m%d}",
                                 description=f"Assessed contribution, 4 weeks to {end:%d %B %Y} (previous system)",
                                 actor=income)
            services.ledger_post(account=account, kind=EntryKind.PAYMENT, amount=Decimal("154.80"),
                                 effective_date=end + timedelta(days=14), reference=f"SO{end:%y%m%d}",
                                 description="Standing order", actor=income)
        case = services.case_create(client=client, case_type=CaseType.FINANCE_ONLY,
                                    title="Finance only: charges ended when home care stopped",
                                    team=Team.objects.get(name="Income and debt recovery"), actor=income)
        services.case_transition(case=case, to_status=CaseStatus.CLOSED, actor=income,
                                 reason="Care ended; account settled to a nil balance")
        closed = timezone.make_aware(datetime.combine(LAST_CHARGE + timedelta(days=30), time(10)))
        Case.objects.filter(pk=case.pk).update(opened_at=closed - timedelta(days=400), closed_at=closed)
    with override_settings(RUNS_IN_BACKGROUND_THREAD=False):  # finish before the command ends
        run = run_start(job="retention_review", business_date=timezone.localdate(), trigger="command")
    run.refresh_from_db()
    stdout.write(f"Retention review run {run.pk}: {run_counts(run)['done']} client(s) marked for review")


def register() -> None:
    from casework.demo import register_demo_seeder

    register_demo_seeder(seed_retention, order=90)
