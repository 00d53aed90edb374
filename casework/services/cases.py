import mimetypes
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from casework.constants import MANUAL_TIMELINE_KINDS, CaseStatus, Priority, TimelineKind
from casework.models import Case, Client, Document, Task, Team, TimelineEntry
from casework.roles import CASEWORKERS, has_any_role, roles_of

from .errors import DomainError

#: Document types officers may upload: extension -> the content type it must sniff as.
ALLOWED_DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MAGIC = {
    "application/pdf": [b"%PDF-"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "image/jpeg": [b"\xff\xd8\xff"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [b"PK\x03\x04"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [b"PK\x03\x04"],
}


def _entry(*, case: Case, kind: str, action: str, summary: str, actor, body: str = "", old=None, new=None,
           occurred_at: datetime | None = None, document: Document | None = None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        client_id=case.client_id, case=case, kind=kind, action=action, summary=summary[:300], body=body,
        old_value=old, new_value=new, actor=actor, occurred_at=occurred_at or timezone.now(), document=document,
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


#: Who may be given a case or a task to work: the roles that work cases (officers and team leaders).
#: Not the auditor (reads only), the administrators (no client records) or system accounts.
ASSIGNABLE_ROLES = CASEWORKERS


def assignable_users():
    """Every user a case or a task may be assigned to: active, holding a role that works cases. The
    web forms offer these; `assignee_check` refuses anyone else, whatever the caller."""
    return (get_user_model().objects.filter(is_active=True, groups__name__in=[r.value for r in ASSIGNABLE_ROLES])
            .distinct())


def is_assignable(user) -> bool:
    """Whether a case or a task may be given to the user."""
    return user.is_active and has_any_role(user, ASSIGNABLE_ROLES)


def assignee_check(user, *, field: str, work: str = "a case") -> None:
    """Refuse to give `work` to a user who may not work it (None, "no one", is always allowed): the
    one rule for assignment, called by every service that assigns, so the web and the API alike."""
    if user is None:
        return
    name = user.get_full_name() or user.get_username()
    if not user.is_active:
        raise DomainError(f"{name} is not an active user: choose someone else", field=field)
    if not is_assignable(user):
        held = ", ".join(sorted(role.value.lower() for role in roles_of(user))) or "no role"
        raise DomainError(f"{name} cannot be given {work}: their role ({held}) does not work cases. "
                          "Choose an officer or a team leader", field=field)


@transaction.atomic
def case_create(*, client: Client, case_type: str, title: str, team: Team, actor, assigned_officer=None,
                priority: int = Priority.NORMAL, due_date: date | None = None) -> Case:
    if not title.strip():
        raise DomainError("Enter a title for the case", field="title")
    assignee_check(assigned_officer, field="assigned_officer")
    case = Case(client=client, case_type=case_type, title=title.strip(), team=team,
                assigned_officer=assigned_officer, priority=priority, due_date=due_date)
    case._history_user = actor
    case.save()
    _entry(case=case, kind=TimelineKind.STATUS, action="case.opened", actor=actor,
           summary=f"{case.get_case_type_display()} case opened", new={"status": case.status})
    return case


@transaction.atomic
def case_transition(*, case: Case, to_status: str, actor, reason: str = "") -> Case:
    """The one way a case changes status: checks the move is allowed and records it."""
    case = _locked(case)
    if case.status == to_status:
        return case
    if to_status not in CaseStatus.values or not case.can_transition_to(to_status):
        raise DomainError(
            f"{case.reference} cannot move from {case.get_status_display().lower()} to "
            f"{CaseStatus(to_status).label.lower() if to_status in CaseStatus.values else to_status}",
            field="status",
        )
    if to_status in (CaseStatus.ESCALATED, CaseStatus.CLOSED) and not reason.strip():
        raise DomainError("Give a reason", field="reason")
    old = case.status
    case.status = to_status
    case.closed_at = timezone.now() if to_status == CaseStatus.CLOSED else None
    case._history_user = actor
    case._change_reason = reason
    case.save(update_fields=["status", "closed_at"])
    _entry(case=case, kind=TimelineKind.STATUS, action="case.status.changed", actor=actor, body=reason,
           summary=f"Status changed from {CaseStatus(old).label} to {case.get_status_display()}",
           old={"status": old}, new={"status": to_status})
    return case


@transaction.atomic
def case_assign(*, case: Case, officer, actor, team: Team | None = None) -> Case:
    assignee_check(officer, field="officer")
    case = _locked(case)
    old = {"officer": case.assigned_officer_id, "team": case.team_id}
    case.assigned_officer = officer
    if team is not None:
        case.team = team
    if old == {"officer": case.assigned_officer_id, "team": case.team_id}:
        return case
    case._history_user = actor
    case.save(update_fields=["assigned_officer", "team"])
    who = (officer.get_full_name() or officer.username) if officer else "no one (back to the team queue)"
    _entry(case=case, kind=TimelineKind.ASSIGNMENT, action="case.assigned", actor=actor,
           summary=f"Assigned to {who}", old=old, new={"officer": case.assigned_officer_id, "team": case.team_id})
    return case


@transaction.atomic
def case_hold(*, case: Case, reason: str, review_date: date, actor) -> Case:
    """Put a case on hold: automated action stops until the hold is released. Holds always end."""
    if not reason.strip():
        raise DomainError("Give a reason for the hold", field="reason")
    if review_date <= timezone.localdate():
        raise DomainError("The review date must be in the future", field="review_date")
    case = _locked(case)
    old = {"reason": case.hold_reason, "review_date": case.hold_review_date.isoformat() if case.hold_review_date else None}
    case.hold_reason = reason.strip()
    case.hold_review_date = review_date
    case._history_user = actor
    case.save(update_fields=["hold_reason", "hold_review_date"])
    _entry(case=case, kind=TimelineKind.HOLD, action="case.hold.placed", actor=actor, body=reason,
           summary=f"Put on hold until review on {review_date:%d %B %Y}", old=old,
           new={"reason": case.hold_reason, "review_date": review_date.isoformat()})
    return case


@transaction.atomic
def case_release_hold(*, case: Case, actor, note: str = "") -> Case:
    case = _locked(case)
    if not case.on_hold:
        raise DomainError(f"{case.reference} is not on hold")
    old = {"reason": case.hold_reason, "review_date": case.hold_review_date.isoformat()}
    case.hold_reason = ""
    case.hold_review_date = None
    case._history_user = actor
    case.save(update_fields=["hold_reason", "hold_review_date"])
    _entry(case=case, kind=TimelineKind.HOLD, action="case.hold.released", actor=actor, body=note,
           summary="Hold released", old=old, new=None)
    return case


@transaction.atomic
def timeline_add(*, case: Case, kind: str, summary: str, body: str, actor, occurred_at: datetime | None = None) -> TimelineEntry:
    """Record a note, call, visit, letter or email on a case by hand."""
    if kind not in MANUAL_TIMELINE_KINDS:
        raise DomainError("Choose what kind of entry this is", field="kind")
    if not summary.strip():
        raise DomainError("Enter a summary", field="summary")
    if occurred_at and occurred_at > timezone.now():
        raise DomainError("When it happened cannot be in the future", field="occurred_at")
    return _entry(case=case, kind=kind, action=f"casework.{kind}.added", summary=summary.strip(), body=body.strip(),
                  actor=actor, occurred_at=occurred_at)


@transaction.atomic
def task_create(*, case: Case, title: str, due_date: date, actor, assigned_to=None, key: str | None = None,
                urgent: bool = False) -> Task:
    """A task on the case. A `key` (a job's diarised date) makes it idempotent: the task already
    held under the key is returned and nothing is added."""
    if not title.strip():
        raise DomainError("Enter what needs doing", field="title")
    if key and (held := Task.objects.filter(key=key).first()):
        return held
    assignee_check(assigned_to, field="assigned_to", work="a task")
    task = Task(case=case, title=title.strip(), due_date=due_date, assigned_to=assigned_to, created_by=actor,
                key=key or None, urgent=urgent)
    task._history_user = actor
    task.save()
    _entry(case=case, kind=TimelineKind.TASK, action="case.task.created", actor=actor,
           summary=f"Task added: {task.title} (due {due_date:%d %B %Y})", new={"task": task.pk})
    return task


@transaction.atomic
def task_complete(*, task: Task, actor) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.completed_at:
        return task
    task.completed_at = timezone.now()
    task.completed_by = actor
    task._history_user = actor
    task.save(update_fields=["completed_at", "completed_by"])
    _entry(case=task.case, kind=TimelineKind.TASK, action="case.task.completed", actor=actor,
           summary=f"Task done: {task.title}", new={"task": task.pk})
    return task


def _check_upload(upload: UploadedFile) -> str:
    name = upload.name or ""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in ALLOWED_DOCUMENT_TYPES:
        raise DomainError(
            "The file must be a PDF, PNG, JPEG, CSV, TXT, DOCX or XLSX file", field="file"
        )
    if upload.size == 0:
        raise DomainError("The selected file is empty", field="file")
    if upload.size > settings.DOCUMENT_MAX_BYTES:
        raise DomainError(f"The file must be smaller than {settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}MB", field="file")
    content_type = ALLOWED_DOCUMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    signatures = _MAGIC.get(content_type)
    if signatures and not any(head.startswith(sig) for sig in signatures):
        raise DomainError(f"The file's contents are not a real {ext[1:].upper()} file", field="file")
    if content_type.startswith("text/") and b"\x00" in head:
        raise DomainError("The file's contents are not text", field="file")
    return content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"


@transaction.atomic
def document_upload(*, case: Case, upload: UploadedFile, description: str, actor) -> Document:
    content_type = _check_upload(upload)
    doc = Document(client_id=case.client_id, case=case, original_name=upload.name[:255], content_type=content_type,
                   size=upload.size, description=description.strip(), uploaded_by=actor)
    doc.file.save(upload.name, upload, save=False)
    doc.save()
    _entry(case=case, kind=TimelineKind.DOCUMENT, action="casework.document.uploaded", actor=actor,
           summary=f"Document uploaded: {doc.original_name}", body=description, document=doc,
           new={"document": doc.pk})
    return doc
