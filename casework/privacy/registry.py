"""What each app holds about a client, for subject access exports, and how each app erases it.

An app adds its records to every subject access export by registering a source in its
AppConfig.ready() (or in a module that ready() imports):

    from casework.privacy.registry import Section, register_subject_access_source, rows_of

    def deferred_payment_records(client):
        from deferred_payments.models import Agreement
        return [Section("deferred_agreements", "Deferred payment agreements",
                        rows_of(Agreement.objects.filter(client=client)), models=["deferred_payments.agreement"])]

    register_subject_access_source(deferred_payment_records)

`Section.models` names the models ("app_label.modelname") the section covers. Any model of any
installed app with a foreign key to casework.Client that no registered source covers is still
exported, as a generic section of its rows, so nothing held about the client is left out.

An app whose models hold personal data the erasure must remove registers an erasure step:

    register_erasure_step(lambda client, erasure: {"deferred_agreements": n_rows_redacted})

It runs inside the erasure's transaction; the counts it returns are recorded on the request.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from django.db import models

SUBJECT_ACCESS_SOURCES: list[Callable] = []
ERASURE_STEPS: list[Callable] = []


@dataclass
class FileRef:
    """A file to put in the export: `name` is its path inside the ZIP, `description` what it is
    (listed in the export's index). A stored file is read from `storage` under `storage_name`; a
    file made for the export (such as a client's extract of a provider's remittance advice) is
    passed as `content`."""

    name: str
    storage_name: str = ""
    storage: Any = None  # the storage the file lives in; None: the field's default storage
    description: str = ""
    content: bytes | None = None


@dataclass
class Section:
    code: str
    title: str
    rows: list[dict]
    models: list[str] = field(default_factory=list)
    files: list[FileRef] = field(default_factory=list)


def register_subject_access_source(source: Callable) -> Callable:
    """source(client) -> list[Section]. Registering the same function twice has no effect."""
    if source not in SUBJECT_ACCESS_SOURCES:
        SUBJECT_ACCESS_SOURCES.append(source)
    return source


def register_erasure_step(step: Callable) -> Callable:
    """step(client, erasure) -> {record set: rows erased}, run inside the erasure's transaction."""
    if step not in ERASURE_STEPS:
        ERASURE_STEPS.append(step)
    return step


def plain(value: Any) -> Any:
    """A value as JSON and CSV can hold it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def row_of(instance: models.Model, extra: dict | None = None) -> dict:
    """Every concrete field of a row (foreign keys as their id), plus display labels of choices."""
    row = {}
    for f in instance._meta.concrete_fields:
        value = getattr(instance, f.attname)
        row[f.attname] = plain(value)
        if f.choices and value not in (None, ""):
            row[f"{f.attname}_label"] = getattr(instance, f"get_{f.name}_display")()
    if extra:
        row.update({k: plain(v) for k, v in extra.items()})
    return row


def rows_of(queryset) -> list[dict]:
    return [row_of(obj) for obj in queryset]


def model_label(model) -> str:
    return model._meta.label_lower
