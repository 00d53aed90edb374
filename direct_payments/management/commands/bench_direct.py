"""`manage.py bench_direct dp-audit`: import, categorise and reconcile a statement of 10,000
transactions, timed in parts; the figures are recorded in docs/benchmarks.md.

    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_dp_bench \\
        python manage.py bench_direct dp-audit --lines 10000 --settings=config.settings.test

It builds, in its own transaction that it rolls back at the end (so it can be run again on any
database that has been migrated), a client with a four-weekly agreement paid for a year and an
audit of that year, and a bank CSV of `--lines` transactions across it: the council's thirteen
payments, weekly wages, HMRC, payroll, insurance, shopping, cash and bank charges, every balance
chained. It then times `statement_upload` (read and check the file, look for lines already
uploaded, categorise, write, reconcile, flag) as a whole, best of `--repeat`, with each part
timed on its own once more: reading, checking, categorising, and the analysis.
"""
import csv
import io
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from casework.models import Client, Team
from casework.services.system import system_user
from direct_payments import rules, statements
from direct_payments.models import CategoryRule, StatementLine

START = date(2025, 4, 7)
END = START + timedelta(days=363)
PAYEES = [("K BROWN PA WAGES", "-252.00"), ("HMRC CUMBERNAULD PAYE", "-48.20"), ("PAYROLL BUREAU LTD", "-15.00"),
          ("TESCO STORES 2231", "-23.45"), ("CASH ATM NORTHMOOR", "-40.00"), ("ACCOUNT FEE", "-5.00"),
          ("BRIGHTSTAR CARE AGENCY", "-96.00"), ("CAREMOBILITY LTD", "-12.99"), ("BETFRED 1123", "-10.00"),
          ("TRANSFER TO SAVINGS", "-20.00")]


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Direct payment benchmarks: dp-audit (import, categorise and reconcile a large statement)."

    def add_arguments(self, parser):
        parser.add_argument("bench", choices=["dp-audit"])
        parser.add_argument("--lines", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("bench_direct")
        if options["lines"] < 20:
            raise CommandError("Use at least 20 lines")
        try:
            with transaction.atomic():
                self._bench(options["lines"], options["repeat"])
                raise Rollback
        except Rollback:
            self.stdout.write("(everything the benchmark wrote was rolled back)")

    def _setup(self):
        from direct_payments.services import agreement_create, audit_request, payment_for_period

        actor = system_user()
        client = Client.objects.create(reference="BENCHDP1", first_name="Bench", last_name="Recipient",
                                       address_line_1="1 Test Street", postcode="NM1 2AB")
        team, _ = Team.objects.get_or_create(name="Direct payments monitoring")
        agreement = agreement_create(client=client, team=team, weekly_budget=Decimal("420.00"),
                                     weekly_contribution=Decimal("40.00"), start_date=START, actor=actor)
        payments = [payment_for_period(agreement=agreement, period_start=START + timedelta(days=28 * i),
                                       paid_on=START + timedelta(days=28 * i), actor=actor) for i in range(13)]
        audit = audit_request(agreement=agreement, period_start=START, period_end=END, actor=actor,
                              on=END + timedelta(days=1), send_letter=False)
        return audit, payments

    def _csv(self, lines: int, payments) -> bytes:
        rnd = random.Random(6)
        rows = [(p.paid_on, "NORTHMOOR COUNCIL DP", p.amount) for p in payments]
        for i in range(lines - len(rows)):
            text, amount = PAYEES[rnd.randrange(len(PAYEES))]
            rows.append((START + timedelta(days=rnd.randrange(364)), f"{text} {i:05d}", Decimal(amount)))
        rows.sort(key=lambda r: (r[0], -r[2]))
        buffer, balance = io.StringIO(), Decimal("600000.00")
        writer = csv.writer(buffer)
        writer.writerow(["Date", "Description", "Money In", "Money Out", "Balance"])
        for on, text, amount in rows:
            balance += amount
            writer.writerow([on.strftime("%d/%m/%Y"), text, f"{amount:.2f}" if amount > 0 else "",
                             f"{-amount:.2f}" if amount < 0 else "", f"{balance:.2f}"])
        return buffer.getvalue().encode()

    def _bench(self, lines: int, repeat: int) -> None:
        from direct_payments.services import audit_analyse, statement_upload

        audit, payments = self._setup()
        data = self._csv(lines, payments)
        bank = {"name": "Bench Bank", "date_column": "Date", "date_format": "%d/%m/%Y",
                "description_column": "Description", "paid_in_column": "Money In", "paid_out_column": "Money Out",
                "balance_column": "Balance"}
        totals = []
        for attempt in range(repeat):
            sid = transaction.savepoint()
            began = time.perf_counter()
            upload = statement_upload(audit=audit, kind="bank_csv", file=ContentFile(data, name="bench.csv"),
                                      actor=audit.officer, new_bank=bank)
            totals.append(time.perf_counter() - began)
            flags, matched = audit.flags.count(), audit.lines.filter(matched_payment__isnull=False).count()
            transaction.savepoint_rollback(sid)
            audit.refresh_from_db()
        self.stdout.write(f"dp-audit: {upload.rows:,} lines, {matched} of {len(payments)} council payments matched, "
                          f"{flags} flags")
        self.stdout.write(f"  statement_upload, best of {repeat}: {min(totals):.2f} s "
                          f"(all: {', '.join(f'{t:.2f}' for t in totals)})")
        mapping = statements.Mapping(date="Date", description="Description", balance="Balance", paid_in="Money In",
                                     paid_out="Money Out")
        began = time.perf_counter()
        parsed = statements.read_statement(data, mapping)
        read = time.perf_counter() - began
        began = time.perf_counter()
        statements.check_statement(parsed, period_start=audit.period_start, period_end=audit.period_end, existing={})
        check = time.perf_counter() - began
        rule_rows = list(CategoryRule.objects.filter(active=True).order_by("priority", "id"))
        began = time.perf_counter()
        for line in parsed:
            rules.categorise(line, rule_rows)
        categorise = time.perf_counter() - began
        upload = statement_upload(audit=audit, kind="bank_csv", file=ContentFile(data, name="bench.csv"),
                                  actor=audit.officer, new_bank=bank)
        began = time.perf_counter()
        audit_analyse(audit=audit)
        analyse = time.perf_counter() - began
        self.stdout.write(f"  parts: read {read:.2f} s, check {check:.2f} s, categorise {categorise:.2f} s, "
                          f"reconcile and flag {analyse:.2f} s; lines stored {StatementLine.objects.filter(upload=upload).count():,}")
