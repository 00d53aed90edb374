"""The records each app holds about a client, gathered for a subject access export.

casework_records lists the shared client and case records by hand (with files); debt_records and
the generic collector find every model of an app that points at the client, directly or through a
record that does (an invoice line through its invoice, a task through its case).
"""
from django.apps import apps
from django.db.models import Q

from .registry import FileRef, Section, model_label, register_subject_access_source, row_of, rows_of


def casework_records(client) -> list[Section]:
    from casework.models import (
        Account,
        Case,
        Document,
        ErasureRequest,
        LedgerEntry,
        Letter,
        Representative,
        RetentionReview,
        SubjectAccessRequest,
        Task,
        TimelineEntry,
    )

    documents = list(Document.objects.filter(client=client).order_by("id"))
    letters = list(Letter.objects.filter(client=client).order_by("id"))
    entries = LedgerEntry.objects.filter(account__client=client).select_related("account").order_by("account", "effective_date", "id")
    return [
        Section("client", "Client record", [row_of(client)], ["casework.client"]),
        Section("client_history", "Changes to the client record", rows_of(client.history.order_by("history_date")),
                ["casework.historicalclient"]),
        Section("representatives", "Representatives", rows_of(Representative.objects.filter(client=client)),
                ["casework.representative"]),
        Section("representative_history", "Changes to representatives",
                rows_of(Representative.history.model.objects.filter(client_id=client.pk).order_by("history_date")),
                ["casework.historicalrepresentative"]),
        Section("cases", "Cases", rows_of(Case.objects.filter(client=client).order_by("id")), ["casework.case"]),
        Section("case_history", "Changes to cases",
                rows_of(Case.history.model.objects.filter(client_id=client.pk).order_by("history_date")),
                ["casework.historicalcase"]),
        Section("timeline", "Case and client timelines",
                rows_of(TimelineEntry.objects.filter(client=client).order_by("occurred_at", "id")),
                ["casework.timelineentry"]),
        Section("tasks", "Tasks", rows_of(Task.objects.filter(case__client=client).order_by("id")), ["casework.task"]),
        Section("documents", "Documents", rows_of(documents), ["casework.document"],
                [FileRef(f"documents/{d.pk}-{d.original_name}", d.file.name, d.file.storage,
                          description=f"Uploaded document: {d.description or d.original_name}")
                  for d in documents if d.file]),
        Section("accounts", "Accounts", rows_of(Account.objects.filter(client=client)), ["casework.account"]),
        Section("ledger_entries", "Ledger entries",
                [row_of(e, {"account_number": e.account.number}) for e in entries], ["casework.ledgerentry"]),
        Section("letters", "Letters", rows_of(letters), ["casework.letter"],
                [FileRef(f"letters/{letter.reference}.pdf", letter.file.name, letter.file.storage,
                         description=f"{letter_type_name(letter.letter_type)} sent {letter.created_at:%d %B %Y} "
                                     f"to {letter.recipient_name}")
                 for letter in letters if letter.file]),
        Section("record_access", "Who viewed the record",
                record_access_rows(client), ["casework.recordaccess"]),
        Section("subject_access_requests", "Earlier subject access requests",
                rows_of(SubjectAccessRequest.objects.filter(client=client).order_by("id")),
                ["casework.subjectaccessrequest"]),
        Section("retention_reviews", "Retention reviews",
                rows_of(RetentionReview.objects.filter(client=client).order_by("id")), ["casework.retentionreview"]),
        Section("erasure_requests", "Erasure requests",
                rows_of(ErasureRequest.objects.filter(client=client).order_by("id")), ["casework.erasurerequest"]),
    ]


def letter_type_name(code: str) -> str:
    from casework.letters.types import UnknownLetterType, get_letter_type

    try:
        return get_letter_type(code).name
    except UnknownLetterType:
        return "Letter"


def record_access_rows(client) -> list[dict]:
    """Every logged view of the client's data, single records and lists, exports and API answers
    alike, with who saw it and how (a page, an export or the API)."""
    from casework.models import RecordAccess

    views = RecordAccess.objects.filter(client=client).select_related("user").order_by("viewed_at", "id")
    return [row_of(view, {"viewed_by": view.user.get_username(), "how": view.how}) for view in views]


def _client_model():
    return apps.get_model("casework", "Client")


def client_lookups(model) -> list[str]:
    """How a model's rows lead to a client: its own foreign keys to Client, or else foreign keys to
    models that have one (one step)."""
    client_model = _client_model()
    relations = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None]
    direct = [f.name for f in relations if f.related_model is client_model]
    if direct:
        return direct
    paths = []
    for f in relations:
        if f.related_model is model:
            continue
        for g in f.related_model._meta.concrete_fields:
            if g.is_relation and g.related_model is client_model:
                paths.append(f"{f.name}__{g.name}")
    return paths


def model_section(client, model, lookups: list[str]) -> Section:
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{lookup: client})
    rows = rows_of(model._default_manager.filter(condition).distinct().order_by("pk"))
    title = str(model._meta.verbose_name_plural).capitalize()
    return Section(f"{model._meta.app_label}_{model._meta.model_name}", title, rows, [model_label(model)])


def app_sections(client, app_label: str, skip: set[str] = frozenset()) -> list[Section]:
    sections = []
    for model in apps.get_app_config(app_label).get_models():
        if model_label(model) in skip:
            continue
        lookups = client_lookups(model)
        if lookups:
            sections.append(model_section(client, model, lookups))
    return sections


def debt_records(client) -> list[Section]:
    """The income app's records (charges, invoices, payments, recovery, relief, write-offs, legal)."""
    if not apps.is_installed("debt"):
        return []
    sections = app_sections(client, "debt")
    from debt.models import LegalReferral

    for section in sections:
        if section.models == [model_label(LegalReferral)]:
            section.files = [
                FileRef(f"claim-packs/{referral.reference}.pdf", referral.claim_pack.name, referral.claim_pack.storage,
                        description=f"County court claim pack {referral.reference}"
                                    + (f", claim issued {referral.claim_issued_on:%d %B %Y}" if referral.claim_issued_on else ""))
                for referral in LegalReferral.objects.filter(client=client).order_by("id") if referral.claim_pack]
    return sections


def other_records(client, covered: set[str]) -> list[Section]:
    """Every other installed app's rows that point at the client and that no source covered."""
    sections = []
    for config in apps.get_app_configs():
        if config.label == "casework":
            continue
        sections += app_sections(client, config.label, skip=covered)
    return sections


def collect(client) -> list[Section]:
    from .registry import SUBJECT_ACCESS_SOURCES

    sections: list[Section] = []
    for source in SUBJECT_ACCESS_SOURCES:
        sections += source(client)
    covered = {label for s in sections for label in s.models}
    return sections + other_records(client, covered)


register_subject_access_source(casework_records)
register_subject_access_source(debt_records)
