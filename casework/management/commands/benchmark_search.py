"""Measure client search at county scale.

    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_bench \
        python manage.py benchmark_search --clients 100000

Run it against a database of its own: it adds the clients it needs (references BM000000 upward)
until there are --clients of them, then times each kind of search a number of times and prints
the median and 95th percentile, with whether PostgreSQL used an index.
"""
import random
import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from simple_history.utils import bulk_create_with_history

from casework.models import Client
from casework.models.clients import nhs_check_digit
from casework.selectors import search_clients

SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
            "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
            "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes"]
FIRST = ["Margaret", "John", "Patricia", "David", "Mary", "Peter", "Jean", "Michael", "Susan", "Robert", "Joan", "Brian"]


class Command(BaseCommand):
    help = "Time client search over a county-sized client list."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=30)

    def handle(self, *args, clients: int, repeat: int, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("benchmark_search")
        self._ensure(clients)
        total = Client.objects.count()
        rnd = random.Random(7)
        sample = list(Client.objects.filter(reference__startswith="BM").order_by("?")[:repeat])
        kinds = {
            "surname part": lambda c: c.last_name[:5].lower() + rnd.choice(["", "s"])[:0],
            "full name": lambda c: f"{c.first_name} {c.last_name}",
            "reference": lambda c: c.reference,
            "NHS number": lambda c: c.nhs_number,
            "postcode": lambda c: c.postcode,
            "unusual surname": lambda c: "Zzyzx",
        }
        self.stdout.write(f"database: {connection.vendor}, clients: {total}, repeats per kind: {len(sample)}")
        self.stdout.write(f"{'search':<18}{'median ms':>10}{'p95 ms':>10}{'rows (first page)':>20}")
        for label, term_for in kinds.items():
            timings, rows = [], 0
            for client in sample:
                term = term_for(client)
                start = time.perf_counter()
                rows = len(list(search_clients(term)[:50]))
                timings.append((time.perf_counter() - start) * 1000)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            self.stdout.write(f"{label:<18}{statistics.median(timings):>10.1f}{p95:>10.1f}{rows:>20}")
        if connection.vendor == "postgresql":
            plan = self._plan(search_clients(sample[0].last_name[:5])[:50])
            self.stdout.write("plan uses trigram index: " + str("client_last_name_trgm" in plan))

    def _plan(self, queryset) -> str:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())

    def _ensure(self, wanted: int) -> None:
        have = Client.objects.filter(reference__startswith="BM").count()
        rnd = random.Random(have)
        batch = []
        for n in range(have, wanted):
            prefix = f"{50000000 + n:08d}"
            nhs = next(prefix + d + nhs_check_digit(prefix + d) for d in "0123456789" if nhs_check_digit(prefix + d))
            batch.append(Client(
                reference=f"BM{n:06d}", nhs_number=nhs, first_name=rnd.choice(FIRST),
                last_name=rnd.choice(SURNAMES) + (rnd.choice(["", "", "-" + rnd.choice(SURNAMES)])),
                address_line_1=f"{rnd.randint(1, 300)} {rnd.choice(SURNAMES)} Road", town="Northmoor",
                postcode=f"NM{rnd.randint(1, 99)} {rnd.randint(1, 9)}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            ))
            if len(batch) == 5000:
                bulk_create_with_history(batch, Client, batch_size=5000)
                batch = []
                self.stdout.write(f"  created up to BM{n:06d}")
        if batch:
            bulk_create_with_history(batch, Client, batch_size=5000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE casework_client")
