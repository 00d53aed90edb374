"""Approved erasure of a client's personal data.

1. A team leader requests erasure with a reason (`erasure_request`). Refused while any account of
   the client has a balance or any case is open: the council still needs the record.
2. A second team leader (never the requester) approves or rejects (`erasure_decide`). Approval
   carries the erasure out in the same transaction and completes the request.

What erasure does (`_erase`):
- the client row stays, anonymised: names, reference, NHS number, date of birth and death, address,
  contact details, capacity assessor, language, safeguarding note and communication needs cleared;
  its change history (which holds the old values) is replaced by one anonymised version;
- representatives: name, organisation, relationship, address, contact details and authority
  reference cleared, with their history likewise;
- cases keep their type, status and dates; the free-text title becomes the case type and any hold
  reason is cleared; task titles are cleared; history of both replaced;
- documents, letter PDFs and earlier subject access exports: the files are deleted from storage
  (after the transaction commits) and the rows keep no file name or description;
- timeline entries keep what happened, when and who acted (kind, action, dates, actor); their
  summary, body and old and new values are replaced. Letters keep type, template, pages, SHA-256
  and dates; the recipient's name and address are cleared. Both tables are append-only: on
  PostgreSQL the change passes only through the audited guard of migration 0006 (the transaction
  names this approved request; each row let through is recorded as an ErasureRedaction);
- ledger entries are not touched. Accounts keep their entries, but their numbers (made from the
  client's reference) are replaced by numbers made from the account id. The totals of every
  account are recorded on the request by account id before erasure and checked unchanged after it;
- print batches that hold the client's letters (the combined PDF and the manifest) are made again
  without them, and the old files deleted;
- each app's registered erasure steps run (see casework.privacy.registry);
- last, the person's name is taken out of every free-text column that may still hold it
  (`names_redacted`): the client's names as they were (full name, first and last name, title and
  surname, surname) and their representatives' names are replaced by "[name erased]" in every text
  and JSON column of every model, in any app, whose rows lead to the client (directly or through
  one record: a task through its case), their change history included, and in the outcomes and
  errors of the runs' items about the client (an item "client:123", or one that made the client's
  letter; the full name wherever a run item holds it). Append-only financial records (ledger
  entries, invoices, payments and the like) are kept as they are, as the ledger is.
"""
import re
from decimal import Decimal

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from casework.constants import Capacity, CaseStatus, TimelineKind
from casework.models import (
    Account,
    Case,
    Client,
    Document,
    ErasureRedaction,
    ErasureRequest,
    ErasureStatus,
    LedgerEntry,
    Letter,
    Representative,
    RetentionReview,
    RetentionReviewStatus,
    SubjectAccessRequest,
    Task,
    TimelineEntry,
)
from casework.models.base import AppendOnlyModel
from casework.money import to_pennies
from casework.roles import has_any_role
from casework.services import DomainError, NotAllowed
from casework.services.ledger import erased_account_number

from .registry import ERASURE_STEPS, register_erasure_step
from .roles import ERASURE_APPROVERS, ERASURE_REQUESTERS

ERASED_TEXT = "Erased"
ERASED_NAME = "[name erased]"


def financial_totals(client: Client) -> dict:
    """Account id -> its kind, entry count, debits, credits and balance: what the accounts need kept.
    Keyed by id, not number: an erased client's accounts are renumbered (their numbers carry the
    client's reference)."""
    totals = {}
    rows = (LedgerEntry.objects.filter(account__client=client).values("account_id")
            .annotate(entries=Count("id"), debits=Sum("amount", filter=Q(amount__gt=0)),
                      credits=Sum("amount", filter=Q(amount__lt=0)), balance=Sum("amount")))
    sums = {row["account_id"]: row for row in rows}
    for account in Account.objects.filter(client=client).order_by("pk"):
        row = sums.get(account.pk, {})
        totals[str(account.pk)] = {
            "kind": account.kind,
            "entries": row.get("entries", 0),
            "debits": str(to_pennies(row.get("debits") or Decimal("0"))),
            "credits": str(to_pennies(-(row.get("credits") or Decimal("0")))),
            "balance": str(to_pennies(row.get("balance") or Decimal("0"))),
        }
    return totals


def _refusal(client: Client) -> str | None:
    totals = financial_totals(client)
    owing = [pk for pk, t in totals.items() if Decimal(t["balance"]) != 0]
    if owing:
        number = Account.objects.get(pk=int(owing[0])).number
        return f"Account {number} has a balance of £{totals[owing[0]]['balance']}: settle it before erasure"
    if Case.objects.filter(client=client).exclude(status=CaseStatus.CLOSED).exists():
        return "The client has an open case: close it before erasure"
    return None


def _timeline(client, actor, action: str, summary: str, body: str = "", new=None, old=None) -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary, body=body,
                                 old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())


@transaction.atomic
def erasure_request(*, client: Client, actor, reason: str) -> ErasureRequest:
    if not has_any_role(actor, ERASURE_REQUESTERS):
        raise NotAllowed("Only a team leader may request erasure")
    if not reason.strip():
        raise DomainError("Give the reason for erasure", field="reason")
    client = Client.objects.select_for_update().get(pk=client.pk)
    if ErasureRequest.objects.filter(client=client, status=ErasureStatus.COMPLETED).exists():
        raise DomainError("This client's personal data has already been erased")
    if ErasureRequest.objects.filter(client=client, status__in=[ErasureStatus.REQUESTED, ErasureStatus.APPROVED]).exists():
        raise DomainError("An erasure request for this client is already waiting for approval")
    refusal = _refusal(client)
    if refusal:
        raise DomainError(refusal)
    erasure = ErasureRequest.objects.create(client=client, reason=reason.strip()[:500], requested_by=actor)
    review = RetentionReview.objects.filter(client=client, status=RetentionReviewStatus.PENDING).first()
    if review:
        from .retention import review_transition

        review_transition(review=review, to_status=RetentionReviewStatus.ERASURE_REQUESTED, actor=actor,
                          note=f"{erasure.reference} requested")
    _timeline(client, actor, "client.erasure.requested", f"Erasure {erasure.reference} requested",
              body=erasure.reason, new={"erasure": erasure.pk})
    return erasure


def erasure_transition(*, erasure: ErasureRequest, to_status: str, actor, note: str = "") -> ErasureRequest:
    """The one way an erasure request changes status, checked against ALLOWED_TRANSITIONS."""
    if not erasure.can_transition_to(to_status):
        raise DomainError(f"A request that is '{erasure.get_status_display()}' cannot become "
                          f"'{ErasureStatus(to_status).label}'")
    old = erasure.status
    erasure.status = to_status
    fields = ["status"]
    if to_status in (ErasureStatus.APPROVED, ErasureStatus.REJECTED):
        erasure.decided_by, erasure.decided_at, erasure.decision_note = actor, timezone.now(), note[:500]
        fields += ["decided_by", "decided_at", "decision_note"]
    if to_status == ErasureStatus.COMPLETED:
        erasure.completed_at = timezone.now()
        fields += ["completed_at", "financial_totals", "erased"]
    erasure.save(update_fields=fields)
    _timeline(erasure.client, actor, "client.erasure.status.changed",
              f"Erasure {erasure.reference}: {erasure.get_status_display()}", body=note,
              old={"status": old}, new={"status": to_status})
    return erasure


@transaction.atomic
def erasure_decide(*, erasure: ErasureRequest, actor, approve: bool, note: str = "") -> ErasureRequest:
    erasure = ErasureRequest.objects.select_for_update().select_related("client").get(pk=erasure.pk)
    if not has_any_role(actor, ERASURE_APPROVERS):
        raise NotAllowed("Only a team leader may decide an erasure request")
    if erasure.requested_by_id == actor.pk:
        raise DomainError("A second person must decide: you requested this erasure")
    if not approve:
        if not note.strip():
            raise DomainError("Say why the request is rejected", field="note")
        erasure_transition(erasure=erasure, to_status=ErasureStatus.REJECTED, actor=actor, note=note)
        review = RetentionReview.objects.filter(client=erasure.client,
                                                status=RetentionReviewStatus.ERASURE_REQUESTED).first()
        if review:
            from .retention import review_transition

            review_transition(review=review, to_status=RetentionReviewStatus.PENDING, actor=actor,
                              note=f"{erasure.reference} rejected")
        return erasure
    refusal = _refusal(erasure.client)
    if refusal:
        raise DomainError(refusal)
    erasure_transition(erasure=erasure, to_status=ErasureStatus.APPROVED, actor=actor, note=note)
    before = financial_totals(erasure.client)
    erased = _erase(erasure.client, erasure)
    after = financial_totals(erasure.client)
    if before != after:  # pragma: no cover - erasure never touches money; this is the proof
        raise DomainError("Erasure would have changed the financial totals; nothing was erased")
    erasure.financial_totals = before
    erasure.erased = erased
    erasure_transition(erasure=erasure, to_status=ErasureStatus.COMPLETED, actor=actor)
    review = RetentionReview.objects.filter(client=erasure.client,
                                            status=RetentionReviewStatus.ERASURE_REQUESTED).first()
    if review:
        from .retention import review_transition

        review_transition(review=review, to_status=RetentionReviewStatus.ERASED, actor=actor,
                          note=f"{erasure.reference} completed")
    return erasure


def _plain_update(model, **filters):
    """An UPDATE through Django's base QuerySet (append-only models refuse theirs; the database
    guard decides)."""
    return models.QuerySet(model=model).filter(**filters)


def _delete_files_on_commit(storage_files: list) -> None:
    def delete():
        for storage, name in storage_files:
            if name:
                storage.delete(name)

    transaction.on_commit(delete)


def _replace_history(instance, reason: str) -> None:
    instance.history.all().delete()
    instance._change_reason = reason
    instance._history_user = None
    instance.save()


def _erase(client: Client, erasure: ErasureRequest) -> dict:
    reason = f"Personal data erased under {erasure.reference}"
    counts = {}
    names = person_names(client)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('careledger.erasure_request', %s, true)", [str(erasure.pk)])

    # Files first: remember them, delete them once the transaction has committed.
    files = []
    documents = list(Document.objects.filter(client=client))
    files += [(d.file.storage, d.file.name) for d in documents]
    letters = list(Letter.objects.filter(client=client))
    files += [(letter.file.storage, letter.file.name) for letter in letters]
    exports = list(SubjectAccessRequest.objects.filter(client=client))
    files += [(s.file.storage, s.file.name) for s in exports if s.file]
    counts["documents"] = Document.objects.filter(client=client).update(original_name="document", description="",
                                                                        file="")
    counts["subject_access_exports"] = SubjectAccessRequest.objects.filter(client=client).exclude(file="").update(file="")

    timeline_ids = list(TimelineEntry.objects.filter(client=client).values_list("pk", flat=True))
    counts["timeline_entries"] = _plain_update(TimelineEntry, client=client).update(
        summary=f"Details erased ({erasure.reference})", body="", old_value=None, new_value=None)
    counts["letters"] = _plain_update(Letter, client=client).update(
        recipient_name=ERASED_TEXT, recipient_address=[], postcode="", file="")
    if connection.vendor != "postgresql":
        ErasureRedaction.objects.bulk_create(
            [ErasureRedaction(erasure=erasure, table_name="casework_timelineentry", row_id=pk) for pk in timeline_ids]
            + [ErasureRedaction(erasure=erasure, table_name="casework_letter", row_id=letter.pk) for letter in letters])

    for task in Task.objects.filter(case__client=client):
        task.title = "Task"
        _replace_history(task, reason)
    counts["tasks"] = Task.objects.filter(case__client=client).count()
    for case in Case.objects.filter(client=client):
        case.title = case.get_case_type_display()
        case.hold_reason = ""
        case.hold_review_date = None
        _replace_history(case, reason)
    counts["cases"] = Case.objects.filter(client=client).count()
    for rep in Representative.objects.filter(client=client):
        for name in ["organisation", "relationship", "address_line_2", "town", "postcode", "phone", "email",
                     "authority_reference"]:
            setattr(rep, name, "")
        rep.name = ERASED_TEXT
        rep.address_line_1 = ERASED_TEXT
        _replace_history(rep, reason)
    counts["representatives"] = Representative.objects.filter(client=client).count()

    # The client's accounts keep their entries; their numbers, made from the client's reference, are
    # replaced by ones made from the erased reference (the totals above are kept by account id).
    for account in Account.objects.filter(client=client).order_by("pk"):
        account.number = erased_account_number(account)
        account.save(update_fields=["number"])
    counts["accounts_renumbered"] = Account.objects.filter(client=client).count()
    # Print batches holding the client's letters are made again without them.
    from casework.runs.print_batch import print_batches_without

    counts["print_batches_remade"] = print_batches_without(client, files, reason)

    client = Client.objects.select_for_update().get(pk=client.pk)
    for name in ["nhs_number", "title", "middle_names", "preferred_name", "address_line_2", "town", "county",
                 "postcode", "phone", "email", "capacity_assessor", "communication_language", "safeguarding_note",
                 "death_source"]:
        setattr(client, name, "")
    client.reference = f"ERASED-{client.pk}"[:20]
    client.first_name = ERASED_TEXT
    client.last_name = "client"
    client.address_line_1 = ERASED_TEXT
    client.date_of_birth = client.date_of_death = client.death_recorded_on = client.capacity_assessed_on = None
    client.death_verified = False
    client.capacity = Capacity.UNKNOWN
    client.communication_needs = []
    client.safeguarding_flag = False
    _replace_history(client, reason)
    counts["client"] = 1

    for step in ERASURE_STEPS:
        counts.update(step(client, erasure) or {})
    counts.update(names_redacted(client, names))
    _delete_files_on_commit(files)
    counts["files_deleted"] = sum(1 for _storage, name in files if name)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('careledger.erasure_request', '', true)")
    _timeline(client, erasure.decided_by, "client.erased", f"Personal data erased under {erasure.reference}",
              new={"erasure": erasure.pk, "erased": counts})
    return counts


def person_names(client: Client) -> dict[str, list[str]]:
    """The names erasure takes out of free text, longest first: `full` are the client's full names and
    their representatives' names (taken out wherever a run item holds them); `all` adds the surname
    alone (taken out of the rows about the client only, where it can only mean them)."""
    client_names = [client.full_name, " ".join(p for p in [client.first_name, client.middle_names, client.last_name] if p),
                    f"{client.first_name} {client.last_name}", f"{client.title} {client.last_name}",
                    f"{client.preferred_name} {client.last_name}"]
    full = [n.strip() for n in client_names] + [r.name.strip() for r in Representative.objects.filter(client=client)]
    full = [n for n in full if " " in n and len(n) > 3]
    every = full + [n.strip() for n in [client.last_name] if len(n.strip()) > 1]
    order = lambda names: sorted(set(names), key=lambda n: (-len(n), n))  # noqa: E731
    return {"full": order(full), "all": order(every)}


def _pattern(names: list[str]) -> re.Pattern | None:
    """The names as one case-insensitive pattern matching whole words only ("Hall", not "Hallway")."""
    if not names:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names), re.IGNORECASE)


def _scrubbed(value, pattern: re.Pattern):
    """The value with every match replaced, strings inside JSON (lists and objects) included."""
    if isinstance(value, str):
        return pattern.sub(ERASED_NAME, value)
    if isinstance(value, list):
        return [_scrubbed(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, pattern) for k, v in value.items()}
    return value


def _text_fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.choices
            and not f.is_relation]


def _scrub_rows(model, queryset, pattern: re.Pattern) -> int:
    """Replace the names in the rows' text columns; returns how many rows changed."""
    fields = _text_fields(model)
    if not fields:
        return 0
    changed = []
    for row in queryset.only("pk", *fields).iterator(chunk_size=500):
        dirty = False
        for name in fields:
            value = getattr(row, name)
            clean = _scrubbed(value, pattern)
            if clean != value:
                setattr(row, name, clean)
                dirty = True
        if dirty:
            changed.append(row)
    if changed:
        models.QuerySet(model=model).bulk_update(changed, fields, batch_size=500)
    return len(changed)


def names_redacted(client: Client, names: dict[str, list[str]]) -> dict:
    """Take the person's names (see `person_names`) out of every free-text column still holding them:
    the rows of every model that leads to the client (their history included), and the run items
    about the client. The client's own row, the timeline and letters are erased before this;
    append-only financial records are kept as they are."""
    from casework.models import RunItem

    from .sources import client_lookups

    counts = {}
    every, full = _pattern(names["all"]), _pattern(names["full"])
    if every is None:
        return counts
    for model in apps.get_models():
        if (model is Client or model is Client.history.model or issubclass(model, AppendOnlyModel)
                or model._meta.proxy):
            continue
        lookups = client_lookups(model)
        if not lookups or not _text_fields(model):
            continue
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: client.pk})
        rows = _scrub_rows(model, models.QuerySet(model=model).filter(condition), every)
        if rows:
            counts[f"{model._meta.label_lower} names"] = rows
    own = Q(subject=f"client:{client.pk}") | Q(letter__client=client)
    items = _scrub_rows(RunItem, RunItem.objects.filter(own), every)
    if full is not None:
        anywhere = Q()
        for name in names["full"]:
            anywhere |= Q(outcome__icontains=name) | Q(error__icontains=name)
        items += _scrub_rows(RunItem, RunItem.objects.filter(anywhere).exclude(own), full)
    if items:
        counts["run items names"] = items
    return counts


def debt_free_text(client: Client, erasure: ErasureRequest) -> dict:
    """The income app's free-text notes on the client's records (its append-only financial records
    are kept as they are)."""
    if not apps.is_installed("debt"):
        return {}
    from .sources import client_lookups

    counts = {}
    for model in apps.get_app_config("debt").get_models():
        if issubclass(model, AppendOnlyModel) or model._meta.label_lower.startswith("debt.historical"):
            continue
        texts = [f.name for f in model._meta.concrete_fields if isinstance(f, models.TextField)]
        lookups = client_lookups(model)
        if not texts or not lookups:
            continue
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: client})
        ids = list(model._default_manager.filter(condition).values_list("pk", flat=True))
        if ids:
            counts[model._meta.label_lower] = models.QuerySet(model=model).filter(pk__in=ids).update(
                **{name: "" for name in texts})
    return counts


register_erasure_step(debt_free_text)
