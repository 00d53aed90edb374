"""The committed-spend forecast benchmark; docs/benchmarks.md records its figures with this command.

    createdb -h 127.0.0.1 -U postgres careledger_fc_bench
    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_fc_bench \\
        python manage.py migrate --settings=config.settings.test
    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_fc_bench \\
        python manage.py bench forecast --settings=config.settings.test

Uses a database of its own (refused unless its name ends in "bench"). Adds once: 8 areas, 6 teams,
50,000 clients (1 in 10 with no area), a case for 3 in 4 of them (1 in 5 of those closed), 200
providers with a rate for every service type and band from 1 April of last year and an uplift of
4% from 1 October of this financial year, and 20,000 packages: 1 in 10 provisional, 1 in 4 ending
within the year, 1 in 20 at an agreed rate. Then times provider_payments.forecast.forecast for the
whole council and for one area (best of three each), with the number of SQL queries, and prints the
totals so a run can be compared with the next.
"""
import os
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.constants import CaseStatus, CaseType
from casework.models import Area, Case, Client, Team
from casework.money import to_pennies
from casework.services.system import system_user

CLIENTS, PACKAGES, PROVIDERS, AREAS, TEAMS = 50_000, 20_000, 200, 8, 6
REPEATS = 3


class Command(BaseCommand):
    help = "Benchmark the committed-spend forecast at county scale (50,000 clients, 20,000 packages)."

    def handle(self, *args, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("bench_forecast")
        if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].endswith("bench"):
            raise CommandError("Run this on a PostgreSQL database of its own whose name ends in 'bench'")
        today = timezone.localdate()
        if not Client.objects.filter(reference__startswith="FC").exists():
            started = time.perf_counter()
            self._seed(today)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.stdout.write(f"Seeded in {time.perf_counter() - started:.1f} s")
        self._time(today)

    def _seed(self, today: date) -> None:
        from provider_payments import forecast as fc
        from provider_payments.constants import PackageStatus
        from provider_payments.models import Band, CarePackage, PaymentSchedule, Provider, Rate, ServiceType

        actor = system_user()
        rnd = random.Random(17)
        year_start, year_end = fc.year_bounds(fc.financial_year_of(today))
        uplift_day = date(year_start.year, 10, 1)
        services, bands = list(ServiceType.objects.order_by("code")), list(Band.objects.order_by("code"))
        schedule = PaymentSchedule.objects.order_by("pk").first()
        with transaction.atomic():
            areas = [Area.objects.get_or_create(name=f"Bench area {i}")[0] for i in range(AREAS)]
            teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0] for i in range(TEAMS)]
            clients = Client.objects.bulk_create([Client(
                reference=f"FC{i:06d}", first_name="Bench", last_name=f"Client {i}", address_line_1="1 High Street",
                postcode="NM1 2AB", area=None if i % 10 == 0 else areas[i % AREAS]) for i in range(CLIENTS)],
                batch_size=5000)
            Case.objects.bulk_create([Case(
                client=c, case_type=CaseType.FINANCE_ONLY, title="Care finance", team=teams[i % TEAMS],
                status=CaseStatus.CLOSED if i % 5 == 0 else CaseStatus.OPEN)
                for i, c in enumerate(clients) if i % 4], batch_size=5000)
            providers = Provider.objects.bulk_create([Provider(
                name=f"Forecast Care {i:03d} Ltd", supplier_number=f"FCB{i:05d}", sort_code="200000",
                account_number=f"{70000000 + i:08d}", account_name=f"FORECAST CARE {i:03d}", payment_schedule=schedule)
                for i in range(PROVIDERS)])
            rates = []
            for p in providers:
                for s in services:
                    for b in bands:
                        pence = rnd.randint(70000, 120000) if s.unit == "week" else rnd.randint(2000, 3000)
                        base = Decimal(pence) / 100
                        rates.append(Rate(provider=p, service_type=s, band=b, rate=base,
                                          effective_from=date(year_start.year - 1, 4, 1), created_by=actor))
                        uplifted = to_pennies(base * Decimal("1.04"))
                        rates.append(Rate(provider=p, service_type=s, band=b, rate=uplifted, effective_from=uplift_day,
                                          created_by=actor, reason="Bench uplift"))
            Rate.objects.bulk_create(rates, batch_size=5000)
            packages = []
            for i in range(PACKAGES):
                service = services[i % len(services)]
                start = year_start - timedelta(days=rnd.randint(0, 700))
                end = year_start + timedelta(days=rnd.randint(30, 364)) if i % 4 == 0 else None
                agreed = i % 20 == 0
                packages.append(CarePackage(
                    client=clients[(i * 7) % CLIENTS], provider=providers[i % PROVIDERS], service_type=service,
                    band=bands[i % len(bands)], units_per_week=Decimal(1 if service.unit == "week" else rnd.randint(3, 40)),
                    agreed_rate=Decimal("31.50") if agreed else None,
                    agreed_rate_reason="Agreed by the commissioning panel" if agreed else "",
                    start_date=start, end_date=end, created_by=actor,
                    status=PackageStatus.PROVISIONAL if i % 10 == 0 else PackageStatus.APPROVED))
            CarePackage.objects.bulk_create(packages, batch_size=5000)

    def _time(self, today: date) -> None:
        from provider_payments import forecast as fc

        year = fc.financial_year_of(today)
        area = Area.objects.filter(name="Bench area 1").values_list("pk", flat=True).first()
        for label, filters in (("whole council", fc.Filters(year=year)), ("one area", fc.Filters(year=year, area=area))):
            timings, queries = [], 0
            for _ in range(REPEATS):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    report = fc.forecast(filters, today)
                    timings.append(time.perf_counter() - started)
                queries = len(captured.captured_queries)
            total = report.total
            self.stdout.write(
                f"forecast {fc.year_label(year)} from {report.forecast_from:%d %b %Y} ({label}): "
                f"{report.package_count:,} packages costed, best of {REPEATS} {min(timings):.2f} s "
                f"(all: {', '.join(f'{t:.2f}' for t in timings)} s), {queries} SQL queries; "
                f"committed £{total.committed:,}, provisional £{total.provisional:,}, paid £{total.actual:,}")
        self.stdout.write(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
