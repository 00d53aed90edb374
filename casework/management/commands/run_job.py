"""Run a scheduled job for a business date, for cron and for back-filling missed nights.

    python manage.py run_job statements --date 2026-11-01 [--wait]

Starting a job for a date that already has a run resumes that run; finished items are never redone.
With a broker configured the chunks go to the Celery workers; --wait follows the run until it ends.
"""
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from casework.models import Run
from casework.runs.registry import JOBS, UnknownJob
from casework.runs.services import run_counts, run_start


class Command(BaseCommand):
    help = "Run (or resume) a scheduled job for a business date."

    def add_arguments(self, parser):
        parser.add_argument("job", help=f"One of: {', '.join(sorted(JOBS))}")
        parser.add_argument("--date", help="Business date, YYYY-MM-DD (default: today in Europe/London)")
        parser.add_argument("--wait", action="store_true", help="Follow the run until it ends")

    def handle(self, *args, job: str, date: str | None, wait: bool, **options):
        try:
            business_date = _parse(date) if date else timezone.localdate()
            run = run_start(job=job, business_date=business_date, trigger="command")
        except UnknownJob as exc:
            raise CommandError(exc.message) from exc
        self._report(run)
        while wait and Run.objects.get(pk=run.pk).is_active:
            time.sleep(2)
            self._report(Run.objects.get(pk=run.pk))
        run.refresh_from_db()
        if wait or not run.is_active:
            self._report(run)

    def _report(self, run: Run) -> None:
        c = run_counts(run)
        self.stdout.write(f"run {run.pk} {run.job} {run.business_date}: {run.get_status_display()} – "
                          f"{c['planned']} planned, {c['done']} done, {c['skipped']} skipped, {c['failed']} failed, "
                          f"{c['pending']} pending")


def _parse(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--date must be a date like 2026-11-01, not {text!r}") from exc
