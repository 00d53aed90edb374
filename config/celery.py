"""Celery wired to Django: workers and beat read the same settings as the web."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("careledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
