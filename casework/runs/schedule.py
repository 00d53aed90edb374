"""The default schedule, declared once: each registered job with a `schedule` gets a periodic task in
django-celery-beat's tables (Europe/London), created if missing and never overwriting a change a
finance administrator made."""
import json

from django.conf import settings

from .registry import JOBS

TASK = "casework.runs.start_scheduled_run"


def ensure_default_schedules(**kwargs) -> int:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    made = 0
    for job in JOBS.values():
        if not job.schedule or PeriodicTask.objects.filter(name=job.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **job.schedule)
        PeriodicTask.objects.create(name=job.name, task=TASK, crontab=crontab, args=json.dumps([job.code]),
                                    description=job.description)
        made += 1
    return made
