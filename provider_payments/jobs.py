"""The payment run, registered with the runs engine (see services/payment_run.py for its steps)."""
from casework.runs.registry import Job, register_job

from .services.payment_run import JOB_CODE, finish_payments, plan_payments, process_payment


def _prepare(run, subjects):
    from .services.rates import RateBook

    ids = [int(s.split(":", 1)[1]) for s in subjects]
    return {"book": RateBook.for_providers(ids)}


register_job(Job(
    code=JOB_CODE,
    name="Provider payment run",
    description="Pays providers due on their payment schedule: approved claims, scheduled residential care and "
                "upheld disputes, less offsets; writes the Bacs file, the journal and remittance advices for "
                "a team leader to release.",
    plan=plan_payments,
    prepare=_prepare,
    process=process_payment,
    finish=finish_payments,
    chunk_size=25,
    group_size=1,
    names_clients=False,  # its items are providers; outcomes are amounts paid
    working_days_only=True,  # the business date is the Bacs input day (a bank holiday Monday rolls on)
    # 06:00 London time every Monday: schedules decide which providers are due that day.
    schedule={"minute": "0", "hour": "6", "day_of_month": "*", "month_of_year": "*", "day_of_week": "1"},
))
