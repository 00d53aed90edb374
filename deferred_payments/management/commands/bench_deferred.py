"""Benchmark of the deferred payment runs; docs/benchmarks.md records its figures.

    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_dpa_bench \\
        python manage.py bench_deferred --agreements 2000 --settings=config.settings.test

On a database of its own (migrated; the command refuses one that already has its agreements), it
adds `--agreements` active agreements (clients BD000000 upward) that started on 1 January 2024
with 25 weekly deferrals already posted (bulk inserts: the set-up is not timed), then times, in
this process with Celery eager (the database and Python work, no broker):
1. the nightly accrual for business date 1 July 2024, the heaviest night of a half-year: each
   agreement posts its 26th weekly deferral and its interest for January to June 2024, and its
   equity alert is checked;
2. the same job the next night (1 July 2024 was done: every agreement is checked and nothing is due);
3. the six-monthly statements run for 1 July 2024, with the PDF step replaced by a ready-made PDF
   (rendering is measured by `bench letters`); `--no-statements` leaves this out.
"""
import time
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from casework.constants import AccountKind, CaseType, EntryKind
from casework.models import Account, Case, Client, LedgerEntry, RunStatus, Team
from casework.runs.services import run_counts, run_start
from casework.services.system import system_user
from deferred_payments.models import (
    Agreement,
    DeferralPosting,
    InterestPosting,
    LegalCharge,
    Property,
    State,
    Statement,
    Valuation,
)

START = date(2024, 1, 1)
POSTED_WEEKS = 25
PREFIX = "BD"


class Command(BaseCommand):
    help = "Time the deferred payment nightly accrual and statements runs (see docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--agreements", type=int, default=2000)
        parser.add_argument("--no-statements", action="store_true", help="Time the accrual only")

    def handle(self, *args, agreements: int, no_statements: bool = False, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("bench_deferred")
        if connection.vendor != "postgresql":
            raise CommandError("bench_deferred needs PostgreSQL (CARELEDGER_TEST_DATABASE_URL on the test settings, DATABASE_URL otherwise)")
        if Client.objects.filter(reference__startswith=PREFIX).exists():
            raise CommandError("This database already has the benchmark's agreements: use a fresh database")
        started = time.perf_counter()
        self._reference_data()
        self._seed(agreements)
        self.stdout.write(f"Set up {agreements} active agreements with {POSTED_WEEKS} weekly deferrals each in "
                          f"{time.perf_counter() - started:.1f} s (not part of the figures)")
        on = date(2024, 7, 1)
        self._timed("nightly accrual, half-year end (deferral + interest each)", "dpa_accrual", on, agreements)
        posted = InterestPosting.objects.filter(agreement__client__reference__startswith=PREFIX).count()
        self.stdout.write(f"  interest postings: {posted}")
        self._timed("nightly accrual, next night (nothing due)", "dpa_accrual", on + timedelta(days=1), agreements)
        if no_statements:
            return
        from casework.letters import pdf as letter_pdf

        ready = letter_pdf.render_pdf("<html lang='en'><title>t</title><body><p>x</p></body></html>")
        with mock.patch("casework.letters.services.render_pdf", return_value=ready):
            self._timed("six-monthly statements, PDF step stubbed", "dpa_statements", on, agreements)
        sent = Statement.objects.filter(agreement__client__reference__startswith=PREFIX).count()
        self.stdout.write(f"  statements: {sent}")

    def _timed(self, title: str, job: str, on: date, count: int) -> None:
        with mock.patch("casework.runs.tasks.settings", CELERY_TASK_ALWAYS_EAGER=True, RUNS_IN_BACKGROUND_THREAD=False):
            start = time.perf_counter()
            run = run_start(job=job, business_date=on, trigger="command")
            elapsed = time.perf_counter() - start
        run.refresh_from_db()
        if run.status not in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_ERRORS):
            raise CommandError(f"run {run.pk} ended {run.status}: {run.error}")
        counts = run_counts(run)
        self.stdout.write(f"{title}: {elapsed:.2f} s for {count} agreements "
                          f"({elapsed / max(count, 1) * 1000:.1f} ms each); items {counts}")

    @staticmethod
    def _reference_data() -> None:
        """The rows the data migration loads, if a copied database lost them (get_or_create)."""
        import importlib
        from types import SimpleNamespace

        from django.apps import apps

        migration = importlib.import_module("deferred_payments.migrations.0002_reference_data_and_guards")
        migration.load(apps, SimpleNamespace(connection=SimpleNamespace(vendor="none")))

    @transaction.atomic
    def _seed(self, count: int) -> None:
        actor = system_user()
        team, _ = Team.objects.get_or_create(name="Deferred payments")
        clients = Client.objects.bulk_create([
            Client(reference=f"{PREFIX}{n:06d}", first_name="Bench", last_name=f"Person {n}",
                   address_line_1="Northmoor Lodge Care Home", town="Northmoor", postcode="NM1 8AA")
            for n in range(count)])
        cases = Case.objects.bulk_create([Case(client=c, case_type=CaseType.DEFERRED_PAYMENT, team=team,
                                               title="Deferred payment agreement") for c in clients])
        accounts = Account.objects.bulk_create([Account(client=c, kind=AccountKind.DEFERRED_PAYMENT,
                                                        number=f"D-{c.reference}") for c in clients])
        last = START + timedelta(days=7 * POSTED_WEEKS - 1)
        agreements = Agreement.objects.bulk_create([
            Agreement(client=c, case=case, account=account, state=State.ACTIVE, enquiry_on=date(2023, 9, 1),
                      applied_on=date(2023, 9, 5), offered_on=date(2023, 10, 1), signed_on=date(2023, 10, 15),
                      start_date=START, deferred_through=last, weekly_care_cost=Decimal("1000.00") + n % 200,
                      weekly_contribution=Decimal("300.00"), care_home="Northmoor Lodge Care Home", created_by=actor)
            for n, (c, case, account) in enumerate(zip(clients, cases, accounts))])
        properties = Property.objects.bulk_create([
            Property(agreement=a, address_line_1=f"{n} Bench Street", postcode="NM1 1AA", title_number=f"NM{n:06d}")
            for n, a in enumerate(agreements)])
        Valuation.objects.bulk_create([Valuation(property=p, valued_on=date(2023, 9, 20), recorded_by=actor,
                                                 value=Decimal("180000") + n * 50, valuer="Bench valuer")
                                       for n, p in enumerate(properties)])
        LegalCharge.objects.bulk_create([LegalCharge(agreement=a, sent_on=date(2023, 10, 20),
                                                     registered_on=date(2023, 12, 1), reference=f"LR-{a.pk}")
                                         for a in agreements])
        entries, postings = [], []
        for a in agreements:
            weekly = a.weekly_care_cost - a.weekly_contribution
            for week in range(POSTED_WEEKS):
                begin = START + timedelta(days=7 * week)
                end = begin + timedelta(days=6)
                entries.append(LedgerEntry(account_id=a.account_id, kind=EntryKind.CHARGE, amount=weekly,
                                           effective_date=end, reference=f"DPA-{a.pk:06d}-DEF-{begin:%Y%m%d}",
                                           description="Care costs deferred", posted_by=actor))
                postings.append((a, begin, end, weekly))
        entries = LedgerEntry.objects.bulk_create(entries, batch_size=5000)
        DeferralPosting.objects.bulk_create([
            DeferralPosting(agreement=a, period_start=begin, period_end=end, amount=amount, entry=entry)
            for (a, begin, end, amount), entry in zip(postings, entries)], batch_size=5000)
