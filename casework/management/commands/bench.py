"""Benchmarks that print their figures; docs/benchmarks.md records them with this command.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careledger_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \\
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
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from casework.constants import AccountKind, EntryKind
from casework.models import Account, Client, LedgerEntry, Run, RunStatus
from casework.runs.services import run_counts, run_start

BASE_DATE = date(2030, 1, 1)


class Command(BaseCommand):
    help = "Measure a job end to end. Kinds: letters."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["letters"])
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])

    def handle(self, *args, kind: str, count: int, workers: list[int], **options):
        if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
            raise CommandError("bench needs PostgreSQL (DATABASE_URL) and a broker (CELERY_BROKER_URL)")
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
        system = _system_user()
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


def _system_user():
    from django.contrib.auth import get_user_model

    user, made = get_user_model().objects.get_or_create(username="careledger-system", defaults={"is_active": False})
    if made:
        user.set_unusable_password()
        user.save()
    return user


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
