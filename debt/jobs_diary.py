"""The nightly regulation diary (debt/services/diary.py): Breathing Space dates and limitation
warnings diarised as tasks for the case officer. Each item is one moratorium or one invoice; a
task's key makes the run idempotent, and the engine resumes a run that stopped."""
from datetime import date

from casework.models import Run, RunItem
from casework.runs.registry import Job, Skip, register_job

from .models import Invoice, Moratorium
from .services import diary


def _actor(run: Run):
    from casework.services.system import system_user

    return run.started_by or system_user()


def plan_diary(business_date: date) -> list[str]:
    moratoria = Moratorium.objects.filter(ended_on__isnull=True, start_date__lte=business_date).order_by("pk")
    invoices = sorted(i.pk for i in diary.limitation_last_days(business_date))
    return ([f"moratorium:{pk}" for pk in moratoria.values_list("pk", flat=True)]
            + [f"invoice:{pk}" for pk in invoices])


def process_diary(run: Run, item: RunItem, prepared: dict) -> str:
    kind, pk = item.subject.split(":", 1)
    on = run.business_date
    if kind == "moratorium":
        moratorium = Moratorium.objects.select_related("client").filter(pk=int(pk)).first()
        if moratorium is None or moratorium.ended_on is not None:
            raise Skip("The Breathing Space has ended")
        rows = diary.breathing_space_diary(moratorium)
        if not rows:
            raise Skip("No Breathing Space rule is in force on its start")
        client = moratorium.client
    else:
        invoice = Invoice.objects.select_related("client").filter(pk=int(pk)).first()
        last = diary.limitation_last_day(invoice, on) if invoice else None
        if last is None:
            raise Skip("Paid: nothing to claim")
        rows = diary.limitation_diary(invoice, last, on, diary.warning_levels(on))
        if not rows:
            raise Skip("No limitation warning level is reached yet")
        client = invoice.client
    added = diary.diarise(client, rows, _actor(run))
    return f"{added} task{'s' if added != 1 else ''} diarised" if added else "Already diarised"


REGULATION_DIARY = register_job(Job(
    code="regulation_diary",
    name="Regulation diary",
    description="Diarises Breathing Space dates (review request deadline, midway review, provisional end) and "
                "limitation warnings as tasks for the case officer; a re-run adds none twice.",
    plan=plan_diary,
    process=process_diary,
    chunk_size=100,
    schedule={"minute": "15", "hour": "2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
