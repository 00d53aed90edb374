"""Celery wired to Django: workers and beat read the same settings as the web."""
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("careledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_without_council_details(**kwargs) -> None:
    """A production worker does not start without the council's details (it prints letters and
    remittance advices). Celery logs and carries on past an Exception raised in a signal handler,
    so the ImproperlyConfigured naming what is missing ends the worker as a SystemExit."""
    from django.core.exceptions import ImproperlyConfigured

    from casework.checks import require_council_details

    try:
        require_council_details()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"ImproperlyConfigured: {exc}") from exc
