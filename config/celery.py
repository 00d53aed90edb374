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
    remittance advices); ImproperlyConfigured names what is missing."""
    from casework.checks import require_council_details

    require_council_details()
