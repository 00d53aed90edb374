"""Provider payments benchmarks; docs/benchmarks.md records their figures with these commands.

    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_pp_bench \\
        python manage.py bench_provider validation --settings=config.settings.test

Uses a database of its own. `validation` adds (once) 500 providers with 3 home care rates each
(1,500 rates), 20,000 clients each with an approved 14-hour package, then times:
1. validating 100,000 invoice lines (200 per provider, 1 in 20 at a wrong rate, 1 in 100 for an
   unknown client) with the engine alone (parsing and validate_rows, no writes);
2. importing them as 500 claims through claim_import (validation plus every write);
3. the payment run for the 500 providers (claims approved first), in this process: payments,
   ledger entries, remittance advice PDFs, the Bacs file and the journal.
"""
import random
import time
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from casework.models import Client
from casework.runs import services as run_services
from casework.services.system import system_user

PROVIDERS, RATES_PER_PROVIDER, CLIENTS, LINES_PER_PACKAGE = 500, 3, 20_000, 5
WEEK = date(2026, 3, 23)
PAY_DAY = date(2026, 4, 20)


class Command(BaseCommand):
    help = "Benchmark provider claim validation and the payment run at county scale."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["validation"])
        parser.add_argument("--skip-run", action="store_true", help="Leave out the payment run")

    def handle(self, *args, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("bench_provider")
        if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("bench"):
            raise CommandError("Run this on a PostgreSQL database of its own whose name ends in 'bench'")
        from provider_payments.models import Provider

        if not Provider.objects.filter(supplier_number__startswith="BENCH").exists():
            started = time.perf_counter()
            self._seed()
            self.stdout.write(f"Seeded in {time.perf_counter() - started:.1f} s")
        files = self._files()
        self._validate(files)
        self._import(files)
        if not options["skip_run"]:
            self._run()

    def _seed(self) -> None:
        from provider_payments.constants import PackageStatus
        from provider_payments.models import Band, CarePackage, PaymentSchedule, Provider, Rate, ServiceType

        actor = system_user()
        schedule = PaymentSchedule.objects.get(name="Four-weekly in arrears")
        homecare = ServiceType.objects.get(code="homecare")
        bands = list(Band.objects.order_by("code"))
        rnd = random.Random(7)
        with transaction.atomic():
            providers = Provider.objects.bulk_create([Provider(
                name=f"Bench Care {i:03d} Ltd", supplier_number=f"BENCH{i:05d}", sort_code="200000",
                account_number=f"{60000000 + i:08d}", account_name=f"BENCH CARE {i:03d}", payment_schedule=schedule)
                for i in range(PROVIDERS)])
            Rate.objects.bulk_create([Rate(provider=p, service_type=homecare, band=b, rate=Decimal(rnd.randint(2200, 2800)) / 100,
                                           effective_from=date(2025, 4, 1), created_by=actor)
                                      for p in providers for b in bands[:RATES_PER_PROVIDER]])
            clients = Client.objects.bulk_create([Client(
                reference=f"BP{i:06d}", first_name="Bench", last_name=f"Client {i}", address_line_1="1 High Street",
                postcode="NM1 2AB") for i in range(CLIENTS)], batch_size=5000)
            CarePackage.objects.bulk_create([CarePackage(
                client=c, provider=providers[i % PROVIDERS], service_type=homecare, band=bands[i % RATES_PER_PROVIDER],
                units_per_week=Decimal("14"), start_date=date(2026, 1, 5), status=PackageStatus.APPROVED,
                created_by=actor) for i, c in enumerate(clients)], batch_size=5000)

    def _files(self) -> dict:
        """One invoice-lines file per provider: five 2-hour days for each of its 40 packages."""
        from provider_payments.models import CarePackage, Provider
        from provider_payments.services.rates import RateBook

        book = RateBook.for_providers()
        files = {}
        rnd = random.Random(11)
        for provider in Provider.objects.filter(supplier_number__startswith="BENCH").order_by("pk"):
            rows = ["client_reference,service_code,service_date,units,unit_rate,amount"]
            for package in CarePackage.objects.filter(provider=provider).select_related("client").order_by("pk"):
                rate = book.rate_on((provider.pk, package.service_type_id, package.band_id), WEEK).rate
                for day in range(LINES_PER_PACKAGE):
                    ref = package.client.reference if rnd.random() > 0.01 else "BP999999"
                    claimed = rate + Decimal("1.00") if rnd.random() < 0.05 else rate
                    rows.append(f"{ref},homecare,{WEEK + timedelta(days=day)},2,{claimed},{claimed * 2}")
            files[provider] = ("\n".join(rows) + "\n").encode()
        self.stdout.write(f"{sum(len(f.splitlines()) - 1 for f in files.values()):,} lines for {len(files)} providers")
        return files

    def _validate(self, files: dict) -> None:
        from provider_payments.claim_files import parse_claim_file
        from provider_payments.services.validation import validate_rows

        started = time.perf_counter()
        lines = 0
        for provider, data in files.items():
            rows = parse_claim_file(data, "invoice")
            lines += len(validate_rows(provider_id=provider.pk, period_start=WEEK, period_end=WEEK + timedelta(days=27),
                                       rows=rows, ecm=False))
        elapsed = time.perf_counter() - started
        self.stdout.write(f"validation (engine only): {lines:,} lines in {elapsed:.1f} s ({lines / elapsed:,.0f} lines/s)")

    def _import(self, files: dict) -> None:
        from provider_payments.models import Claim
        from provider_payments.services.claims import claim_import

        if Claim.objects.filter(reference="BENCH-2026-03").exists():
            self.stdout.write("claims already imported: import not timed again")
            return
        actor = system_user()
        started = time.perf_counter()
        for provider, data in files.items():
            claim_import(provider=provider, source="invoice", reference="BENCH-2026-03", period_start=WEEK,
                         period_end=WEEK + timedelta(days=27), data=data, filename="bench.csv", actor=actor)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"import (validation and writes): {len(files)} claims in {elapsed:.1f} s")

    def _run(self) -> None:
        from django.contrib.auth.models import Group

        from casework.models import Run
        from provider_payments.constants import ClaimStatus
        from provider_payments.models import Claim, PaymentRun
        from provider_payments.services.claims import claim_transition

        if Run.objects.filter(job="provider_payments", business_date=PAY_DAY).exists():
            self.stdout.write("payment run already done for the bench date: not timed again")
            return
        # The claims were imported by the system user: someone else approves them (the two-person rule).
        from django.contrib.auth import get_user_model

        actor, _ = get_user_model().objects.get_or_create(username="bench-approver",
                                                          defaults={"first_name": "Bench", "last_name": "Approver"})
        actor.groups.add(Group.objects.get_or_create(name="Team leader")[0])
        actor._careledger_roles = None
        started = time.perf_counter()
        for claim in Claim.objects.filter(reference="BENCH-2026-03", status=ClaimStatus.VALIDATED):
            claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=actor)
        self.stdout.write(f"approving 500 claims: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with mock.patch("casework.runs.tasks.dispatch_chunk",
                        lambda run_id, chunk: run_services.run_chunk(run_id=run_id, chunk=chunk)):
            run = run_services.run_start(job="provider_payments", business_date=PAY_DAY, trigger="command")
        elapsed = time.perf_counter() - started
        run.refresh_from_db()
        payment_run = PaymentRun.objects.get(run=run)
        self.stdout.write(f"payment run: {payment_run.payment_count} providers paid £{payment_run.total:,} in "
                          f"{elapsed:.1f} s ({run.get_status_display()})")
