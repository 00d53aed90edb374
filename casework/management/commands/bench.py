"""Benchmarks that print their figures; docs/benchmarks.md records them with these commands.

    CARELEDGER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_bench \\
    CARELEDGER_TEST_CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \\
        python manage.py bench letters --count 1000 --workers 1 2 --settings=config.settings.test

`bench letters` uses a database of its own (it adds `count` clients with a balance, references
BL000000 upward, and runs the statements job over them), and measures:
1. bare rendering: the same letters' HTML through the PDF helper (WeasyPrint with its cached
   stylesheet), one after another in this process;
2. the whole pipeline on 1 and on 2 real Celery workers (separate processes, concurrency 1 each):
   from starting the run to its print batch being built, each on a fresh business date;
3. everything in a run except rendering: the same run in this process with the PDF step replaced
   by a ready-made PDF, per item (best of three runs, so that one-off start-up costs are not
   charged to the items), less the time to build each letter's HTML.

`bench billing --clients 50000` and `bench recovery --clients 50000` (PostgreSQL; no broker
needed: the runs go in this process, eagerly, so the figures are the database and Python work) use
the seeded county (`manage.py seed`, called here if fewer seeded clients exist) and give every
seeded client without an assessed charge a home care charge (weekly amounts drawn like the seed's
home care charges, effective from the billing cycle's start).

`bench billing` times the billing run for one period not yet invoiced (the latest whose invoices
fall due for a first reminder before today), in parts (plan, prepare, process, finish), with the PDF
step replaced by a ready-made PDF; then the run with real letters for `--sample` clients (the plan
cut to them) on the period before, extrapolated and said to be. `bench recovery` bills that period
first if it has not been billed, times the recovery run on the first business date when its invoices
are due a first reminder (or the next date with no recovery run), PDF step stubbed the same way,
then the next stage 14 days on with real letters for `--sample` debtors. Both then time the recovery
queue and aged debt pages (Django's test client, a signed-in team leader, server time in this
process). `--profile` runs the main run under cProfile as well and prints its top costs.
"""
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count

import cProfile
import io
import pstats
import random
import statistics

from casework.constants import AccountKind, EntryKind
from casework.services.system import system_user
from casework.models import Account, Client, LedgerEntry, Run, RunItem, RunStatus
from casework.runs.services import run_counts, run_start

BASE_DATE = date(2030, 1, 1)


#: Benchmarks that live with their app: bench kind -> (command, its leading arguments).
APP_BENCHES = {
    "dpa": ("bench_deferred",),
    "dp-audit": ("bench_direct", "dp-audit"),
    "provider-validation": ("bench_provider", "validation"),
    "forecast": ("bench_forecast",),
}


class Command(BaseCommand):
    help = ("Measure a job end to end. Kinds: letters, billing, recovery; dpa, dp-audit and provider-validation "
            "hand over to each app's own bench command (extra options after --: bench dpa -- --agreements 500).")

    def run_from_argv(self, argv):
        # Everything after "--" belongs to the app's own bench command (argparse would otherwise
        # refuse options it does not know, such as `bench dpa -- --agreements 2000`).
        self.app_argv = []
        if "--" in argv:
            cut = argv.index("--")
            argv, self.app_argv = argv[:cut], argv[cut + 1:]
        return super().run_from_argv(argv)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["letters", "billing", "recovery", *APP_BENCHES])
        parser.add_argument("app_options", nargs="*", help="dpa, dp-audit, provider-validation: their own options")
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
        parser.add_argument("--clients", type=int, default=50000, help="billing, recovery: seeded clients")
        parser.add_argument("--sample", type=int, default=500, help="billing, recovery: clients with real letters")
        parser.add_argument("--profile", action="store_true", help="billing, recovery: cProfile the main run")
        parser.add_argument("--items", type=int, default=None,
                            help="billing, recovery: time the main run over the first N seeded clients only")

    def handle(self, *args, kind: str, count: int, workers: list[int], **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("bench")
        if kind in APP_BENCHES:
            command, *leading = APP_BENCHES[kind]
            call_command(command, *leading, *options["app_options"], *getattr(self, "app_argv", []),
                         stdout=self.stdout)
            return
        if kind in ("billing", "recovery"):
            if connection.vendor != "postgresql":
                raise CommandError("bench needs PostgreSQL (CARELEDGER_TEST_DATABASE_URL on the test settings, DATABASE_URL otherwise)")
            IncomeBench(self.stdout, options["clients"], options["sample"], options["profile"],
                        options["items"]).handle(kind)
            return
        if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
            raise CommandError("bench needs PostgreSQL and a broker (on the test settings CARELEDGER_TEST_DATABASE_URL and "
                               "CARELEDGER_TEST_CELERY_BROKER_URL, otherwise DATABASE_URL and CELERY_BROKER_URL)")
        self._ensure_clients(count)
        trial = Run.objects.filter(job="statements").count()
        bare, html_ms = self._bare(count)
        self.stdout.write(f"bare rendering: {count} letters in {bare:.1f} s = {count / bare:.1f} letters/s "
                          f"(building their HTML first took {html_ms:.2f} ms per letter)")
        rates = {}
        for n in workers:
            trial += 1
            elapsed, done = self._pipeline(n, BASE_DATE + timedelta(days=trial))
            rates[n] = done / elapsed
            self.stdout.write(f"pipeline, {n} worker(s): {done} letters in {elapsed:.1f} s = {rates[n]:.1f} letters/s "
                              f"({100 * rates[n] / (count / bare):.0f}% of bare rendering)")
        if 1 in rates and 2 in rates:
            self.stdout.write(f"two workers / one worker: {rates[2] / rates[1]:.2f}x")
        trials = [self._overhead(BASE_DATE + timedelta(days=trial + n), count) for n in (1, 2, 3)]
        per_item, parts = min(trials, key=lambda t: t[0])
        self.stdout.write(f"run with the PDF step replaced by a ready PDF: {per_item:.2f} ms per item, of which "
                          f"building the letter's HTML {html_ms:.2f} ms; everything but rendering: "
                          f"{per_item - html_ms:.2f} ms per item")
        for name, ms in parts.items():
            self.stdout.write(f"  {name}: {ms:.2f} ms per item")

    def _ensure_clients(self, count: int) -> None:
        have = Client.objects.filter(reference__startswith="BL").count()
        if have >= count:
            return
        system = system_user()
        clients = Client.objects.bulk_create([
            Client(reference=f"BL{n:06d}", first_name="Bench", last_name=f"Client{n}", address_line_1=f"{n} Test Road",
                   town="Northmoor", postcode=f"NM{1 + n % 20} {1 + n % 9}AB")
            for n in range(have, count)
        ])
        accounts = Account.objects.bulk_create([
            Account(client=c, kind=AccountKind.CLIENT_CHARGES, number=f"C-{c.reference}") for c in clients])
        LedgerEntry.objects.bulk_create([
            LedgerEntry(account=a, kind=EntryKind.CHARGE, amount=Decimal("187.40"), effective_date=BASE_DATE,
                        posted_by=system, reference=f"INVB{a.pk:07d}", description="Assessed contribution, 4 weeks")
            for a in accounts
        ])

    def _bare(self, count: int) -> tuple[float, float]:
        from casework.letters.pdf import render_pdf
        from casework.letters.services import render_letter_html

        from casework.letters.services import current_template
        from casework.letters.types import get_letter_type
        from casework.selectors import statements_for

        clients = list(Client.objects.filter(reference__startswith="BL").order_by("reference")[:count])
        accounts = {a.client_id: a for a in Account.objects.filter(client__in=clients, kind=AccountKind.CLIENT_CHARGES)}
        statements = statements_for(list(accounts.values()), start=None, end=BASE_DATE)
        template, letter_type = current_template("account_statement"), get_letter_type("account_statement")
        start = time.perf_counter()
        html = []
        for c in clients:
            context = letter_type.build_context(c, BASE_DATE, representatives=[], statement=statements[accounts[c.pk].pk])
            html.append(render_letter_html(client=c, letter_type=letter_type, on=BASE_DATE, template=template,
                                           context=context, representatives=[]).html)
        html_ms = 1000 * (time.perf_counter() - start) / len(clients)
        render_pdf(html[0])  # the first render loads fonts: a warm worker has done so already
        start = time.perf_counter()
        for text in html:
            render_pdf(text)
        return time.perf_counter() - start, html_ms

    def _pipeline(self, workers: int, business_date: date) -> tuple[float, int]:
        procs = [_start_worker(f"bench{i}") for i in range(workers)]
        try:
            _wait_ready(workers)
            start = time.perf_counter()
            run = run_start(job="statements", business_date=business_date, trigger="command")
            while Run.objects.get(pk=run.pk).status == RunStatus.RUNNING:
                time.sleep(0.25)
            elapsed = time.perf_counter() - start
            run.refresh_from_db()
            if run.status != RunStatus.COMPLETED:
                raise CommandError(f"run {run.pk} ended {run.status}")
            return elapsed, run_counts(run)["done"]
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                proc.wait(30)

    def _overhead(self, business_date: date, count: int) -> tuple[float, dict[str, float]]:
        """The statements run in this process with the PDF step replaced by a ready PDF; returns ms
        per item in all, and the ms per item of its main parts."""
        from dataclasses import replace

        from casework.letters import pdf as letter_pdf
        from casework.letters import services as letter_services
        from casework.runs import registry

        ready = letter_pdf.render_pdf("<html lang='en'><title>t</title><body><p>x</p></body></html>")
        spent: dict[str, float] = {}
        spec = registry.get_job("statements")
        timed_spec = replace(
            spec,
            plan=_timer(spec.plan, "planning the run", spent),
            prepare=_timer(spec.prepare, "loading each chunk's data", spent),
            finish=_timer(spec.finish, "building the print batch", spent),
        )
        storage = letter_services.default_storage
        with mock.patch("casework.letters.services.render_pdf", return_value=ready), \
                mock.patch("casework.runs.tasks.settings", CELERY_TASK_ALWAYS_EAGER=True,
                           RUNS_IN_BACKGROUND_THREAD=False), \
                mock.patch.dict(registry.JOBS, {"statements": timed_spec}), \
                mock.patch.object(storage, "save", _timer(storage.save, "storing the PDF file", spent)):
            start = time.perf_counter()
            run = run_start(job="statements", business_date=business_date, trigger="command")
            elapsed = time.perf_counter() - start
        run.refresh_from_db()
        if run.status != RunStatus.COMPLETED:
            raise CommandError(f"run {run.pk} ended {run.status}")
        return 1000 * elapsed / count, {k: 1000 * v / count for k, v in spent.items()}


def _timer(function, label: str, spent: dict):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

    return timed


def _start_worker(name: str) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    env = {**os.environ}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [celery, "-A", "config", "worker", "--concurrency=1", "--prefetch-multiplier=1", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h", "--loglevel=WARNING"],
        cwd=settings.BASE_DIR, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_ready(workers: int) -> None:
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1) or []) >= workers:
            return
    raise CommandError("the workers did not start")


# ---- billing and recovery at county scale (issue 4) ------------------------------------------------

PROFILE_ITEMS = 1000


class IncomeBench:
    """`bench billing` and `bench recovery`: see the module's docstring."""

    def __init__(self, stdout, clients: int, sample: int, profile: bool, items: int | None = None):
        self.stdout, self.clients, self.sample, self.profile = stdout, clients, sample, profile
        self.items = items

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def handle(self, kind: str) -> None:
        from debt.services import billing as billing_services

        self._ensure_county()
        self._ensure_charges()
        if kind == "billing":
            self._bench_billing(*self._free_period())
        else:
            from debt.models import Invoice

            latest = Invoice.objects.filter(corrects__isnull=True).order_by("-period_start").first()
            if latest is None:
                period, business_date = self._free_period()
                self.say(f"billing {period} first (not timed)")
                self._run("billing", business_date)
                latest = Invoice.objects.filter(corrects__isnull=True).order_by("-period_start").first()
            terms = billing_services.cycle_on(latest.period_start).payment_terms_days
            self._bench_recovery(latest.issue_date + timedelta(days=terms + 15))
        self._pages()

    # -- data ------------------------------------------------------------------------------------

    def _seeded(self):
        from .seed import SEEDED_REFERENCE

        return Client.objects.filter(reference__regex=SEEDED_REFERENCE)

    def _ensure_county(self) -> None:
        from django.core.management import call_command

        have = self._seeded().count()
        if have < self.clients:
            self.say(f"{have} seeded clients: seeding to {self.clients}")
            call_command("seed", clients=self.clients, stdout=self.stdout)

    def _ensure_charges(self) -> None:
        from simple_history.utils import bulk_create_with_history

        from casework.money import to_pennies
        from debt.models import AssessedCharge, BillingCycle, ChargeableService

        from .seed import REFERENCE_BASE

        cycle = BillingCycle.objects.order_by("effective_from").first()
        service = ChargeableService.objects.get(code="home_care")
        system = system_user()
        rows = self._seeded().order_by("reference").filter(assessed_charges__isnull=True).values_list("pk", "reference")
        charges = []
        for pk, reference in rows[: self.clients]:
            index = int(reference[2:]) - REFERENCE_BASE
            rnd = random.Random((2026 << 32) | index)  # the seed's home care pattern: triangular(3, 300, 55)
            weekly = to_pennies(Decimal(int(rnd.triangular(3, 300, 55) * 100)) / 100)
            charges.append(AssessedCharge(client_id=pk, service=service, version=1, weekly_amount=weekly,
                                          effective_from=cycle.anchor_date, created_by=system,
                                          assessment_reference=f"FA{index:07d}", reason="Benchmark charge"))
        if charges:
            start = time.perf_counter()
            bulk_create_with_history(charges, AssessedCharge, batch_size=5000, default_user=system)
            self.say(f"gave {len(charges)} seeded clients a home care charge ({time.perf_counter() - start:.1f} s)")

    @staticmethod
    def _invoiced(period) -> bool:
        from debt.models import Invoice

        return Invoice.objects.filter(period_start=period.start).exists()

    def _free_period(self):
        """The latest period, with its business date, whose invoices are due a first reminder before
        today and which has no invoice yet."""
        from django.utils import timezone

        from debt.services import billing as billing_services

        today = timezone.localdate()
        day = today - timedelta(days=45)
        while True:
            period = billing_services.period_ending_on_or_before(day)
            business_date = period.end + timedelta(days=billing_services.cycle_on(period.start).bill_days_after_period)
            if billing_services.due_period(business_date) != period:
                raise CommandError(f"the billing cycle does not bill {period} on {business_date}")
            if not self._invoiced(period) and not Run.objects.filter(job="billing", business_date=business_date).exists():
                return period, business_date
            day = period.start - timedelta(days=1)

    # -- runs ------------------------------------------------------------------------------------

    def _run(self, job: str, business_date: date, *, limit: list[str] | None = None, letters: bool = False,
             profile: bool = False):
        """The job in this process, eagerly; returns (seconds, run, {part: seconds}, profile text)."""
        from dataclasses import replace

        from casework.letters import pdf as letter_pdf
        from casework.runs import registry

        spent: dict[str, float] = {}
        spec = registry.get_job(job)
        plan = spec.plan
        if limit is not None:
            wanted = set(limit)
            plan = lambda on: [s for s in spec.plan(on) if s in wanted]  # noqa: E731
        from casework.letters import services as letter_services

        timed_spec = replace(spec, plan=_timer(plan, "plan", spent), prepare=_timer(spec.prepare, "prepare", spent),
                             process=_timer(spec.process, "process", spent), finish=_timer(spec.finish, "finish", spent),
                             process_group=spec.process_group and _timer(spec.process_group, "process_group", spent))
        patches = [mock.patch("casework.runs.tasks.settings", CELERY_TASK_ALWAYS_EAGER=True,
                              RUNS_IN_BACKGROUND_THREAD=False),
                   mock.patch.dict(registry.JOBS, {job: timed_spec}),
                   # letter_prepare: each letter's HTML, PDF and stored file (timed apart from the database work)
                   mock.patch.object(letter_services, "letter_prepare",
                                     _timer(letter_services.letter_prepare, "letters", spent))]
        if job == "billing":  # the cap by actual cost: provider payments' lookup, per charge line
            from debt import billing as debt_billing

            patches.append(mock.patch.object(debt_billing, "actual_weekly_cost",
                                             _timer(debt_billing.actual_weekly_cost, "cap", spent)))
        if not letters:
            ready = letter_pdf.render_pdf("<html lang='en'><title>t</title><body><p>x</p></body></html>")
            patches.append(mock.patch("casework.letters.services.render_pdf", return_value=ready))
        from contextlib import ExitStack

        profiler = cProfile.Profile() if profile else None
        with ExitStack() as stack:
            for p in patches:
                stack.enter_context(p)
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            run = run_start(job=job, business_date=business_date, trigger="command")
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - start
        run.refresh_from_db()
        if run.status not in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_ERRORS):
            raise CommandError(f"run {run.pk} ended {run.status}")
        text = ""
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            out.write("\n--- by cumulative time ---\n")
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            text = out.getvalue()
        return elapsed, run, spent, text

    def _report(self, title: str, elapsed: float, run, spent: dict, extrapolate_to: int | None = None) -> None:
        counts = run_counts(run)
        items = counts["planned"] or 1
        outcome = ", ".join(f"{counts[k]} {k}" for k in ("done", "skipped", "failed") if counts[k])
        self.say(f"{title}: {counts['planned']} items ({outcome}) in {elapsed:.1f} s = "
                 f"{1000 * elapsed / items:.2f} ms per item (run {run.pk}, {run.business_date})")
        for name in ("plan", "prepare", "process", "finish"):
            if name in spent:
                self.say(f"  {name}: {spent[name]:.2f} s ({1000 * spent[name] / items:.2f} ms per item)")
        if extrapolate_to:
            self.say(f"  extrapolated to {extrapolate_to} items: {elapsed * extrapolate_to / items:.0f} s "
                     f"(an extrapolation from the sample, not a measurement)")
        failed = RunItem.objects.filter(run=run, status="failed").values_list("outcome", flat=True)[:3]
        for outcome in failed:
            self.say(f"  a failed item: {outcome}")
        skipped = (RunItem.objects.filter(run=run, status="skipped").values("outcome").order_by()
                   .annotate(n=Count("id")).order_by("-n")[:5])
        for row in skipped:
            self.say(f"  skipped {row['n']}: {row['outcome'][:110]}")

    def _subjects(self, offset: int, count: int) -> list[str]:
        pks = self._seeded().order_by("reference").values_list("pk", flat=True)[offset:offset + count]
        return [f"client:{pk}" for pk in pks]

    def _profile(self, job: str, business_date: date, subjects: list[str]) -> None:
        elapsed, run, spent, text = self._run(job, business_date, limit=subjects, profile=True)
        self._report(f"profiled {job} run (under cProfile, slower than the figures above)", elapsed, run, spent)
        self.say(text)

    def _bench_billing(self, period, business_date: date) -> None:
        from debt.services import billing as billing_services

        self.say(f"billing {period} on {business_date}, {self.clients} seeded clients")
        limit = self._subjects(0, self.items) if self.items else None
        elapsed, run, spent, _ = self._run("billing", business_date, limit=limit)
        self._report("billing run, PDF step replaced by a ready PDF", elapsed, run, spent,
                     extrapolate_to=self.clients if self.items else None)
        items = run_counts(run)["planned"] or 1
        database = elapsed - spent.get("letters", 0.0) - spent.get("finish", 0.0)
        for label, seconds in (("  process_group (set-based groups, with their letters)", spent.get("process_group", 0.0)),
                               ("  letters (each letter's HTML, the ready PDF, the stored file)", spent.get("letters", 0.0)),
                               ("  cap by actual cost (provider payments' lookup per charge line)", spent.get("cap", 0.0)),
                               ("  database work (the run less letters and the print batch)", database)):
            self.say(f"{label}: {seconds:.2f} s ({1000 * seconds / items:.2f} ms per item)")
        earlier = billing_services.period_ending_on_or_before(period.start - timedelta(days=1))
        earlier_date = earlier.end + timedelta(days=billing_services.cycle_on(earlier.start).bill_days_after_period)
        if not self._invoiced(earlier):
            elapsed, run, spent, _ = self._run("billing", earlier_date, limit=self._subjects(0, self.sample),
                                               letters=True)
            self._report(f"billing run with real letters, {self.sample} clients ({earlier})", elapsed, run, spent,
                         extrapolate_to=self.clients)
        if self.profile:
            third = billing_services.period_ending_on_or_before(earlier.start - timedelta(days=1))
            third_date = third.end + timedelta(days=billing_services.cycle_on(third.start).bill_days_after_period)
            self._profile("billing", third_date, self._subjects(self.sample, PROFILE_ITEMS))

    def _bench_recovery(self, on: date) -> None:
        while Run.objects.filter(job="recovery", business_date=on).exists():
            on += timedelta(days=1)
        self.say(f"recovery run on {on}")
        limit = self._subjects(0, self.items) if self.items else None
        cpu = _RunCpu()
        elapsed, run, spent, _ = self._run("recovery", on, limit=limit)
        self._report("recovery run, PDF step replaced by a ready PDF", elapsed, run, spent,
                     extrapolate_to=self.clients if self.items else None)
        items = run_counts(run)["planned"] or 1
        decisions = elapsed - spent.get("letters", 0.0) - spent.get("finish", 0.0)
        for label, seconds in (("  process_group (set-based groups, with their letters)", spent.get("process_group", 0.0)),
                               ("  letters (each letter's HTML, the ready PDF, the stored file)", spent.get("letters", 0.0)),
                               ("  decisions (the run less letters and the print batch)", decisions)):
            self.say(f"{label}: {seconds:.2f} s ({1000 * seconds / items:.2f} ms per item)")
        self.say(f"  CPU used by the whole run: {cpu.text()}")
        later = on + timedelta(days=14)
        if not Run.objects.filter(job="recovery", business_date=later).exists():
            elapsed, run, spent, _ = self._run("recovery", later, limit=self._subjects(0, self.sample), letters=True)
            self._report(f"recovery run with real letters (next stage), {self.sample} debtors", elapsed, run, spent,
                         extrapolate_to=self.clients)
        if self.profile and not Run.objects.filter(job="recovery", business_date=later + timedelta(days=1)).exists():
            self._profile("recovery", later + timedelta(days=1), self._subjects(self.sample, PROFILE_ITEMS))

    # -- pages -----------------------------------------------------------------------------------

    def _pages(self) -> None:
        from django.contrib.auth.models import Group
        from django.test import Client as HttpClient
        from django.urls import reverse
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from casework.roles import Role
        from django.contrib.auth import get_user_model

        leader, made = get_user_model().objects.get_or_create(username="bench-leader",
                                                               defaults={"first_name": "Bench", "last_name": "Leader"})
        if made:
            leader.set_unusable_password()
            leader.save()
        leader.groups.add(Group.objects.get_or_create(name=Role.TEAM_LEADER.value)[0])
        device, _ = TOTPDevice.objects.get_or_create(user=leader, name="Authenticator app", defaults={"confirmed": True})
        from django.test.utils import override_settings

        stack = override_settings(ALLOWED_HOSTS=["testserver"])
        stack.enable()
        http = HttpClient()
        http.force_login(leader)
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from debt.models import DebtRecovery, Invoice, PaymentAllocation

        self.say(f"pages at this scale ({Invoice.objects.count()} invoices, {PaymentAllocation.objects.count()} "
                 f"payment allocations, {DebtRecovery.objects.in_recovery().count()} debtors on the ladder), "
                 "server time in this process:")
        for name in ("debt:recovery_list", "debt:aged_debt"):
            url = reverse(name)
            times = []
            for _ in range(6):
                start = time.perf_counter()
                response = http.get(url)
                times.append(1000 * (time.perf_counter() - start))
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
            with CaptureQueriesContext(connection) as queries:
                http.get(url)
            self.say(f"  {url}: first {times[0]:.0f} ms, median of the next five {statistics.median(times[1:]):.0f} ms, "
                     f"worst {max(times[1:]):.0f} ms, {len(queries)} SQL queries; CPU per request "
                     f"{self._page_cpu(http, url)}")

    @staticmethod
    def _page_cpu(http, url: str, repeat: int = 10) -> str:
        """CPU time per request, this process's plus its PostgreSQL backend's (read from /proc), over
        `repeat` requests on one kept connection: on a shared machine the wall time above includes
        waiting for a core, this does not."""
        import os
        from pathlib import Path

        from django.core import signals
        from django.db import close_old_connections, connection

        def backend_ticks(pid: int) -> int | None:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            return int(fields[11]) + int(fields[12])  # utime + stime

        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            http.get(url)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
                pid = cursor.fetchone()[0]
            before, python = backend_ticks(pid), time.process_time()
            for _ in range(repeat):
                http.get(url)
            python = 1000 * (time.process_time() - python) / repeat
            after = backend_ticks(pid)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        if before is None or after is None:
            return f"{python:.0f} ms in Python (the database's share cannot be read here)"
        database = 1000 * (after - before) / os.sysconf("SC_CLK_TCK") / repeat
        return f"{python + database:.0f} ms ({python:.0f} ms Python, {database:.0f} ms PostgreSQL)"


class _RunCpu:
    """CPU seconds used since creation by this process and by its PostgreSQL backend (from /proc):
    on a shared machine the wall time includes waiting for a core, this does not."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]
        self.python, self.backend = time.process_time(), self._ticks()

    def _ticks(self) -> int | None:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[11]) + int(fields[12])  # utime + stime

    def text(self) -> str:
        python = time.process_time() - self.python
        after = self._ticks()
        if self.backend is None or after is None:
            return f"{python:.1f} s in Python (the database's share cannot be read here)"
        database = (after - self.backend) / os.sysconf("SC_CLK_TCK")
        return f"{python + database:.1f} s ({python:.1f} s Python, {database:.1f} s PostgreSQL)"
