"""The batch engine: one run per job and date, each item once, failures recorded, resumable."""
import threading
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from casework import services
from casework.constants import EntryKind
from casework.models import ItemStatus, LedgerEntry, Run, RunEvent, RunItem, RunStatus
from casework.roles import Role
from casework.runs import services as runs
from casework.runs.registry import JOBS, Job, Skip, register_job

from .factories import ClientFactory, UserFactory

BUSINESS_DATE = date(2026, 11, 2)


@pytest.fixture
def poster(db):
    return UserFactory(username="nightly", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def charge_job(poster):
    """A job that posts one £1 charge per client: an effect we can count."""
    calls = {"finish": 0, "fail_on": set(), "skip_on": set()}
    clients = [ClientFactory() for _ in range(7)]

    def process(run, item, prepared):
        client_id = int(item.subject.split(":")[1])
        if client_id in calls["skip_on"]:
            raise Skip("Client asked us not to write")
        if client_id in calls["fail_on"]:
            raise RuntimeError("Address cannot be read")
        client = prepared[item.subject]
        services.ledger_post(account=services.account_for_client(client), kind=EntryKind.CHARGE, amount=Decimal("1"),
                             effective_date=run.business_date, reference=f"RUN{run.pk}-{item.subject}",
                             description="Nightly test charge", actor=poster)
        return "charged"

    def prepare(run, subjects):
        from casework.models import Client

        return {f"client:{c.pk}": c for c in Client.objects.filter(pk__in=[int(s.split(':')[1]) for s in subjects])}

    def finish(run):
        calls["finish"] += 1

    register_job(Job(code="test_charges", name="Test charges", description="test",
                     plan=lambda d: [f"client:{c.pk}" for c in clients], prepare=prepare, process=process,
                     finish=finish, chunk_size=3))
    calls["clients"] = clients
    yield calls
    JOBS.pop("test_charges", None)


def start(django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        return runs.run_start(job="test_charges", business_date=BUSINESS_DATE, trigger="test", **kw)


@pytest.mark.django_db
def test_a_run_does_each_item_once_in_chunks_and_finishes_once(charge_job, django_capture_on_commit_callbacks):
    run = start(django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.chunks == 3
    assert LedgerEntry.objects.filter(reference__startswith=f"RUN{run.pk}-").count() == 7
    assert runs.run_counts(run) | {} == runs.run_counts(run) and runs.run_counts(run)["done"] == 7
    assert charge_job["finish"] == 1


@pytest.mark.django_db
def test_starting_the_same_job_for_the_same_date_again_redoes_nothing(charge_job, django_capture_on_commit_callbacks):
    first = start(django_capture_on_commit_callbacks)
    second = start(django_capture_on_commit_callbacks)
    assert first.pk == second.pk and Run.objects.count() == 1
    assert LedgerEntry.objects.count() == 7 and charge_job["finish"] == 1


@pytest.mark.django_db
def test_a_bad_item_is_recorded_and_the_rest_complete_then_a_retry_finishes_it(charge_job, team_leader,
                                                                               django_capture_on_commit_callbacks):
    bad = charge_job["clients"][4]
    charge_job["fail_on"].add(bad.pk)
    run = start(django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED_WITH_ERRORS
    failed = RunItem.objects.get(run=run, status=ItemStatus.FAILED)
    assert failed.subject == f"client:{bad.pk}" and "Address cannot be read" in failed.outcome
    assert "RuntimeError" in failed.error and LedgerEntry.objects.count() == 6
    charge_job["fail_on"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_retry_failed(run=run, actor=team_leader)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and LedgerEntry.objects.count() == 7
    assert RunItem.objects.get(pk=failed.pk).attempts == 2
    assert RunEvent.objects.filter(run=run, action="run.retry", actor=team_leader).exists()


@pytest.mark.django_db
def test_a_skipped_item_keeps_its_reason(charge_job, django_capture_on_commit_callbacks):
    charge_job["skip_on"].add(charge_job["clients"][0].pk)
    run = start(django_capture_on_commit_callbacks)
    item = RunItem.objects.get(run=run, status=ItemStatus.SKIPPED)
    assert item.outcome == "Client asked us not to write"
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED


@pytest.mark.django_db
def test_a_run_whose_chunks_were_lost_resumes_and_finishes(charge_job, team_leader, django_capture_on_commit_callbacks):
    run = runs.run_start(job="test_charges", business_date=BUSINESS_DATE, trigger="test")  # callbacks never ran
    assert runs.run_counts(run)["pending"] == 7
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_resume(run=run, actor=team_leader)
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED and LedgerEntry.objects.count() == 7


@pytest.mark.django_db
def test_the_watchdog_resumes_a_run_that_stopped_moving_and_leaves_a_moving_one_alone(
        charge_job, settings, django_capture_on_commit_callbacks):
    """Redis restarted empty: the run's queued chunks are gone. Beat's watchdog queues them again,
    once per stall period, and the run finishes by itself with every item done once."""
    from datetime import timedelta

    from django.utils import timezone

    from casework.runs.tasks import watchdog

    settings.RUN_STALL_SECONDS = 300
    run = runs.run_start(job="test_charges", business_date=BUSINESS_DATE, trigger="test")  # chunks lost
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog() == []  # it has only just started: not stalled
    now = timezone.now() + timedelta(seconds=299)
    assert runs.run_watchdog(now=now) == []
    assert runs.run_counts(run)["pending"] == 7

    now = timezone.now() + timedelta(seconds=301)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.run_watchdog(now=now) == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and LedgerEntry.objects.count() == 7
    event = RunEvent.objects.get(run=run, action="run.resumed")
    assert event.actor is None and event.reason == "Resumed automatically: nothing done for 5 minute(s)"
    # A finished run is never touched again.
    assert runs.run_watchdog(now=now + timedelta(hours=1)) == []


@pytest.mark.django_db
def test_the_watchdog_counts_an_item_finishing_and_its_own_resume_as_progress(charge_job, settings):
    import time

    from django.utils import timezone

    settings.RUN_STALL_SECONDS = 2
    run = runs.run_start(job="test_charges", business_date=BUSINESS_DATE, trigger="test")  # chunks lost
    time.sleep(2.1)
    RunItem.objects.filter(pk=RunItem.objects.filter(run=run).first().pk).update(
        status=ItemStatus.DONE, finished_at=timezone.now())
    assert runs.run_watchdog() == []  # an item has just finished
    time.sleep(2.1)
    assert runs.run_watchdog() == [run.pk]
    assert runs.run_watchdog() == []  # resumed once per stall period: the resume itself is progress
    assert RunEvent.objects.filter(run=run, action="run.resumed").count() == 1


def test_beat_runs_the_watchdog_every_minute():
    from django.conf import settings as conf

    from config.celery import app

    entry = conf.CELERY_BEAT_SCHEDULE["runs-watchdog"]
    assert entry["task"] == "casework.runs.watchdog" and entry["task"] in app.tasks
    assert entry["schedule"] == conf.RUN_WATCHDOG_SECONDS == 60


@pytest.mark.django_db
def test_impossible_run_status_changes_are_refused(charge_job, django_capture_on_commit_callbacks):
    run = start(django_capture_on_commit_callbacks)
    with pytest.raises(services.DomainError):
        runs.run_transition(run=run, to_status=RunStatus.QUEUED)
    with pytest.raises(services.DomainError):
        runs.run_retry_failed(run=run, actor=None)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_chunk_do_each_item_once(charge_job):
    """Real concurrent connections on PostgreSQL: row locks with SKIP LOCKED share the items."""
    assert connection.vendor == "postgresql"
    run = runs.run_start(job="test_charges", business_date=BUSINESS_DATE, trigger="test")
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            for chunk in range(run.chunks):
                runs.run_chunk(run_id=run.pk, chunk=chunk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert LedgerEntry.objects.filter(reference__startswith=f"RUN{run.pk}-").count() == 7
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED and charge_job["finish"] == 1


@pytest.mark.django_db(transaction=True)
def test_run_job_command_runs_and_reports(charge_job, capsys):
    call_command("run_job", "test_charges", "--date", "2026-11-02")
    assert "7 done" in capsys.readouterr().out
    with pytest.raises(CommandError, match="There is no job called"):
        call_command("run_job", "nonsense", "--date", "2026-11-02")
    with pytest.raises(CommandError, match="must be a date"):
        call_command("run_job", "test_charges", "--date", "2026-13-40")


@pytest.mark.django_db
def test_default_schedules_are_made_once_in_london_time_and_keep_administrators_changes():
    from django_celery_beat.models import PeriodicTask

    from casework.runs.schedule import ensure_default_schedules

    ensure_default_schedules()
    task = PeriodicTask.objects.get(name="Statements of account")
    assert task.crontab.timezone.key == "Europe/London" and task.args == '["statements"]'
    task.crontab.hour = "4"
    task.crontab.save()
    assert ensure_default_schedules() == 0
    assert PeriodicTask.objects.get(name="Statements of account").crontab.hour == "4"


@pytest.mark.django_db
@pytest.mark.parametrize("label, last_run_utc, now_utc, due", [
    # Clocks go forward at 01:00 UTC on 29 March 2026: 02:30 London is then 01:30 UTC.
    ("spring: not due before 02:30 BST", datetime(2026, 3, 28, 2, 30), datetime(2026, 3, 29, 1, 29), False),
    ("spring: due at 02:30 BST", datetime(2026, 3, 28, 2, 30), datetime(2026, 3, 29, 1, 31), True),
    # Clocks go back at 01:00 UTC on 25 October 2026: 02:30 London is then 02:30 UTC.
    ("autumn: not due at 01:31 UTC (02:31 BST is before the change)", datetime(2026, 10, 24, 1, 30), datetime(2026, 10, 25, 1, 29), False),
    ("autumn: due at 02:30 GMT", datetime(2026, 10, 24, 1, 30), datetime(2026, 10, 25, 2, 31), True),
])
def test_nightly_schedules_follow_london_time_across_clock_changes(label, last_run_utc, now_utc, due):
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule.objects.create(minute="30", hour="2", day_of_week="*", day_of_month="*",
                                             month_of_year="*", timezone=ZoneInfo("Europe/London"))
    schedule = crontab.schedule
    schedule.nowfun = lambda: now_utc.replace(tzinfo=dt_timezone.utc)
    is_due, _ = schedule.is_due(last_run_utc.replace(tzinfo=dt_timezone.utc))
    assert is_due is due, label


def test_each_business_date_has_one_run_even_if_beat_fires_twice():
    """The run's unique key is (job, business date): a second firing on the same night resumes."""
    constraint = {c.name: c for c in Run._meta.constraints}["run_unique_job_date"]
    assert tuple(constraint.fields) == ("job", "business_date")
    assert {c.name for c in RunItem._meta.constraints} == {"runitem_unique_subject"}




@pytest.mark.django_db
def test_the_statements_run_started_twice_produces_each_letter_once_with_a_batch_in_postcode_order(
        django_capture_on_commit_callbacks):
    import csv
    import io

    from casework.models import Letter

    from .factories import LedgerEntryFactory

    for postcode in ["NM9 1AA", "B33 8TH", "M1 1AE"]:
        LedgerEntryFactory(account__client=ClientFactory(postcode=postcode), amount=Decimal("10.00"))
    settled = ClientFactory()
    LedgerEntryFactory(account__client=settled, amount=Decimal("10.00"))
    LedgerEntryFactory(account__client=settled, amount=Decimal("-10.00"), kind=EntryKind.PAYMENT)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert Letter.objects.count() == 3 and not Letter.objects.filter(client=settled).exists()
    batch = run.print_batch
    assert (batch.letter_count, batch.page_count) == (3, sum(Letter.objects.values_list("pages", flat=True)))
    rows = list(csv.DictReader(io.StringIO(batch.manifest.open("rb").read().decode())))
    assert [r["postcode"] for r in rows] == ["B33 8TH", "M1 1AE", "NM9 1AA"]
    assert batch.pdf.open("rb").read(5) == b"%PDF-"


@pytest.mark.django_db
def test_a_client_with_a_case_on_hold_is_skipped_with_the_reason(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from .factories import CaseFactory, LedgerEntryFactory

    case = CaseFactory(hold_reason="Disputes the charge", hold_review_date=timezone.localdate() + timedelta(days=9))
    LedgerEntryFactory(account__client=case.client, amount=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    item = RunItem.objects.get(run=run)
    assert item.status == ItemStatus.SKIPPED and "Disputes the charge" in item.outcome
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED


@pytest.mark.django_db
def test_a_held_print_batch_cannot_be_released_until_the_hold_is_lifted(team_leader, django_capture_on_commit_callbacks):
    from casework.models import PrintBatchStatus
    from casework.runs.print_batch import print_batch_transition

    from .factories import LedgerEntryFactory

    LedgerEntryFactory(amount=Decimal("5.00"))
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    batch = Run.objects.get(pk=run.pk).print_batch
    with pytest.raises(services.DomainError):
        print_batch_transition(batch=batch, to_status=PrintBatchStatus.HELD, actor=team_leader, reason="")
    print_batch_transition(batch=batch, to_status=PrintBatchStatus.HELD, actor=team_leader, reason="Wording check")
    with pytest.raises(services.DomainError):
        print_batch_transition(batch=batch, to_status=PrintBatchStatus.RELEASED, actor=team_leader)
    print_batch_transition(batch=batch, to_status=PrintBatchStatus.READY, actor=team_leader)
    batch = print_batch_transition(batch=batch, to_status=PrintBatchStatus.RELEASED, actor=team_leader)
    assert batch.status == PrintBatchStatus.RELEASED and batch.changed_by == team_leader
    assert list(RunEvent.objects.filter(run=run, action="batch.status").values_list("new_value", flat=True)) == [
        "released", "ready", "held"]


@pytest.fixture
def group_job(charge_job, poster):
    """The charge job with a set-based step: one bulk insert for the group, falling back to the
    per-item step when a client in the group cannot be charged."""
    calls = {"groups": 0}

    def process_group(run, items, prepared):
        client_ids = [int(item.subject.split(":")[1]) for item in items]
        if set(client_ids) & charge_job["fail_on"]:
            raise RuntimeError("A client in this group cannot be charged")
        calls["groups"] += 1
        answers = {}
        for item, client_id in zip(items, client_ids):
            if client_id in charge_job["skip_on"]:
                answers[item.pk] = Skip("Client asked us not to write")
                continue
            services.ledger_post(account=services.account_for_client(prepared[item.subject]), kind=EntryKind.CHARGE,
                                 amount=Decimal("1"), effective_date=run.business_date,
                                 reference=f"RUN{run.pk}-{item.subject}", description="Nightly test charge",
                                 actor=poster)
            answers[item.pk] = "charged in a group"
        return answers

    job = JOBS["test_charges"]
    from dataclasses import replace

    register_job(replace(job, process_group=process_group, group_size=3))
    return calls


@pytest.mark.django_db
def test_a_set_based_group_step_does_each_item_once_and_records_skips(charge_job, group_job,
                                                                      django_capture_on_commit_callbacks):
    charge_job["skip_on"].add(charge_job["clients"][0].pk)
    run = start(django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and group_job["groups"] == 3
    assert LedgerEntry.objects.filter(reference__startswith=f"RUN{run.pk}-").count() == 6
    assert RunItem.objects.get(run=run, status=ItemStatus.SKIPPED).outcome == "Client asked us not to write"
    assert set(RunItem.objects.filter(run=run, status=ItemStatus.DONE).values_list("outcome", flat=True)) == {
        "charged in a group"}


@pytest.mark.django_db
def test_a_failing_group_rolls_back_and_is_done_item_by_item_so_only_the_bad_item_fails(
        charge_job, group_job, django_capture_on_commit_callbacks):
    bad = charge_job["clients"][4]
    charge_job["fail_on"].add(bad.pk)
    run = start(django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED_WITH_ERRORS and group_job["groups"] == 2
    assert RunItem.objects.get(run=run, status=ItemStatus.FAILED).subject == f"client:{bad.pk}"
    # Nothing from the failed group's set-based attempt survived: each other client is charged once.
    assert LedgerEntry.objects.count() == 6
    assert set(RunItem.objects.filter(run=run, status=ItemStatus.DONE).values_list("outcome", flat=True)) == {
        "charged in a group", "charged"}


@pytest.fixture
def statements_run(db, django_capture_on_commit_callbacks):
    """A statements run with a print batch of two letters, one to a client whose name and address
    start like spreadsheet formulas."""
    from .factories import LedgerEntryFactory

    hostile = ClientFactory(title="", first_name="=cmd|' /C calc'!A0", last_name="Hopper",
                            address_line_1="+SUM(A1:A9)", town="@Northmoor")
    plain = ClientFactory(last_name="Turing")
    for client in (hostile, plain):
        LedgerEntryFactory(account__client=client, amount=Decimal("10.00"))
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    run.refresh_from_db()
    assert run.print_batch.letter_count == 2
    return {"run": run, "clients": [hostile, plain]}


def _signed_in(role):
    from django.test import Client as HttpClient

    from .conftest import sign_in

    return sign_in(HttpClient(), UserFactory(username=f"runs-{role.name}", roles=[role]))


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_the_print_manifest_neutralises_names_and_addresses_that_start_like_formulas(statements_run):
    import csv
    import io

    batch = statements_run["run"].print_batch
    rows = list(csv.DictReader(io.StringIO(batch.manifest.open("rb").read().decode())))
    hostile = next(r for r in rows if "Hopper" in r["recipient"])
    assert hostile["recipient"] == "'=cmd|' /C calc'!A0 Hopper"
    lines = [hostile[f"address_line_{n}"] for n in range(1, 6)]
    assert "'+SUM(A1:A9)" in lines and "'@Northmoor" in lines
    for row in rows:
        for header, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (header, cell)
            assert not (cell.startswith("-") and not cell[1:].replace(".", "").isdigit()), (header, cell)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["batch_pdf", "batch_manifest", "items_csv", "items_xlsx", "detail"])
def test_a_finance_administrator_cannot_open_a_run_that_names_clients(statements_run, url):
    from django.urls import reverse

    from casework.models import RecordAccess

    pk = statements_run["run"].pk
    urls = {"batch_pdf": reverse("casework:batch_file", args=[pk, "pdf"]),
            "batch_manifest": reverse("casework:batch_file", args=[pk, "manifest"]),
            "items_csv": reverse("casework:run_detail", args=[pk]) + "?format=csv",
            "items_xlsx": reverse("casework:run_detail", args=[pk]) + "?format=xlsx",
            "detail": reverse("casework:run_detail", args=[pk])}
    http = _signed_in(Role.FINANCE_ADMINISTRATOR)
    assert http.get(urls[url]).status_code == 403
    assert not RecordAccess.objects.exists()
    assert http.get(reverse("casework:run_list")).status_code == 200
    assert http.get(reverse("casework:run_progress", args=[pk])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["pdf", "manifest"])
def test_a_client_reader_downloads_the_print_batch_and_each_client_in_it_is_logged_as_viewed(statements_run, kind):
    from django.urls import reverse

    from casework.models import RecordAccess

    http = _signed_in(Role.AUDITOR)
    response = http.get(reverse("casework:batch_file", args=[statements_run["run"].pk, kind]))
    assert response.status_code == 200
    body = _body(response)
    assert body.startswith(b"%PDF-") if kind == "pdf" else b"Hopper" in body and b"Turing" in body
    views = RecordAccess.objects.filter(user__username="runs-AUDITOR")
    assert sorted(views.values_list("client_id", flat=True)) == sorted(c.pk for c in statements_run["clients"])
    assert all(v.path.endswith(f"/batch/{kind}/") for v in views)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_run_item_export_logs_each_client_named_and_neutralises_its_cells(statements_run, fmt):
    from django.urls import reverse

    from casework.models import RecordAccess

    http = _signed_in(Role.TEAM_LEADER)
    response = http.get(reverse("casework:run_detail", args=[statements_run["run"].pk]) + f"?format={fmt}")
    assert response.status_code == 200
    body = _body(response)
    if fmt == "csv":
        import csv
        import io

        cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io_bytes(body)).active
        formula_like = [c for row in sheet.iter_rows() for c in row
                        if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))]
        assert all(c.data_type == "s" and c.quotePrefix for c in formula_like)  # text, shown as text
        cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("Hopper" in c for c in cells)  # the outcome names the letter's recipient
    if fmt == "csv":
        assert not any(c.startswith(("=", "+", "@")) for c in cells)
    views = RecordAccess.objects.filter(user__username="runs-TEAM_LEADER")
    assert sorted(views.values_list("client_id", flat=True)) == sorted(c.pk for c in statements_run["clients"])


def io_bytes(body: bytes):
    import io

    return io.BytesIO(body)


@pytest.mark.django_db
def test_an_item_starting_like_a_formula_is_exported_as_text(charge_job, django_capture_on_commit_callbacks):
    from django.urls import reverse

    charge_job["skip_on"].add(charge_job["clients"][0].pk)
    run = start(django_capture_on_commit_callbacks)
    RunItem.objects.filter(run=run, status=ItemStatus.SKIPPED).update(outcome="=HYPERLINK(\"http://x\")")
    http = _signed_in(Role.AUDITOR)
    text = _body(http.get(reverse("casework:run_detail", args=[run.pk]) + "?format=csv")).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@pytest.mark.django_db
def test_a_finance_administrator_opens_a_run_that_names_no_client(django_capture_on_commit_callbacks, db):
    from dataclasses import replace

    from django.urls import reverse

    providers_job = Job(code="test_providers", name="Test providers", description="test",
                        plan=lambda d: ["provider:1", "provider:2"], process=lambda run, item, prepared: "Paid £1.00",
                        names_clients=False)
    register_job(providers_job)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = runs.run_start(job="test_providers", business_date=BUSINESS_DATE, trigger="test")
        http = _signed_in(Role.FINANCE_ADMINISTRATOR)
        assert http.get(reverse("casework:run_detail", args=[run.pk])).status_code == 200
        assert b"Paid" in _body(http.get(reverse("casework:run_detail", args=[run.pk]) + "?format=csv"))
        register_job(replace(providers_job, names_clients=True))  # the same run, were its job to name clients
        assert http.get(reverse("casework:run_detail", args=[run.pk])).status_code == 403
    finally:
        JOBS.pop("test_providers", None)


def test_the_provider_payment_run_is_the_only_job_that_names_no_client():
    assert sorted(code for code, job in JOBS.items() if not job.names_clients) == ["provider_payments"]


@pytest.mark.django_db
def test_the_run_list_links_a_finance_administrator_only_to_runs_naming_no_client(client,
                                                                                 django_capture_on_commit_callbacks):
    """A run the role may not open is listed without a link, so nobody is sent to a refusal."""
    from django.urls import reverse

    from tests.conftest import sign_in
    from tests.factories import LedgerEntryFactory

    entry = LedgerEntryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.run_start(job="statements", business_date=entry.effective_date, trigger="test")
    admin = sign_in(client, UserFactory(username="runs-financeadmin", roles=[Role.FINANCE_ADMINISTRATOR]))
    page = admin.get(reverse("casework:run_list")).content.decode()
    assert f'href="{reverse("casework:run_detail", args=[run.pk])}"' not in page
    assert "only roles that read client records open it" in page
    reader = sign_in(client, UserFactory(username="runs-auditor", roles=[Role.AUDITOR]))
    assert f'href="{reverse("casework:run_detail", args=[run.pk])}"' in reader.get(reverse("casework:run_list")).content.decode()
