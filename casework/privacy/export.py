"""The subject access export: everything held about one client as one ZIP file.

The ZIP holds index.html (a readable summary: the client, each record set with its row count, the
files), data/<set>.json and data/<set>.csv for each record set, and the stored files themselves
(letters/<reference>.pdf, documents/<id>-<name>, claim packs, direct payment bank statements,
remittance extracts; index.html lists each file with what it is). It is written to storage through Django's
storage API and recorded as a SubjectAccessRequest with its SHA-256.
"""
import csv
import hashlib
import io
import json
import zipfile
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from casework.constants import TimelineKind
from casework.exports import safe_text
from casework.models import SubjectAccessRequest, TimelineEntry
from casework.services import DomainError, client_records_viewed

from .sources import collect


def _csv_bytes(rows: list[dict]) -> bytes:
    headers: list[str] = []
    for row in rows:
        headers += [k for k in row if k not in headers]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(row.get(h)) for h in headers])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        try:
            Decimal(value)
            return value  # a number written as text (amounts): nothing a spreadsheet would run
        except InvalidOperation:
            return safe_text(value)
    return value


def build_archive(client, *, request: SubjectAccessRequest) -> tuple[bytes, dict]:
    sections = collect(client)
    buffer = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            archive.writestr(f"data/{section.code}.json",
                             json.dumps(section.rows, indent=2, ensure_ascii=False, default=str))
            archive.writestr(f"data/{section.code}.csv", _csv_bytes(section.rows))
            for ref in section.files:
                if ref.content is not None:
                    archive.writestr(ref.name, ref.content)
                    continue
                storage = ref.storage or default_storage
                try:
                    with storage.open(ref.storage_name, "rb") as handle:
                        archive.writestr(ref.name, handle.read())
                except FileNotFoundError:
                    missing.append(ref.name)
        index = render_to_string("casework/privacy/sar_index.html", {
            "client": client, "request": request, "sections": sections, "missing": missing,
            "generated_at": timezone.now(),
            "files": [(section, ref) for section in sections for ref in section.files if ref.name not in missing],
            "views": next((s.rows for s in sections if s.code == "record_access"), []),
        })
        archive.writestr("index.html", index)
    counts = {s.code: len(s.rows) for s in sections}
    counts["files"] = sum(len(s.files) for s in sections) - len(missing)
    return buffer.getvalue(), counts


def subject_access_export(*, client, actor, reason: str, path: str = "") -> SubjectAccessRequest:
    """Build and store one client's subject access export; log the request on the record, in the
    record-access log and on the client's timeline."""
    if not reason.strip():
        raise DomainError("Say which request this export answers", field="reason")
    with transaction.atomic():
        request = SubjectAccessRequest.objects.create(client=client, requested_by=actor, reason=reason.strip())
        client_records_viewed(clients_or_ids=[client], user=actor, path=path or f"subject-access:{request.pk}")
        data, counts = build_archive(client, request=request)
        request.sha256 = hashlib.sha256(data).hexdigest()
        request.sections = counts
        request.file.save(f"{client.pk}-{request.reference}.zip", ContentFile(data), save=False)
        request.save(update_fields=["sha256", "sections", "file"])
        TimelineEntry.objects.create(
            client=client, kind=TimelineKind.SYSTEM, action="client.subject_access.exported", actor=actor,
            summary=f"Subject access export {request.reference} produced", body=reason.strip(),
            new_value={"request": request.pk, "sha256": request.sha256}, occurred_at=timezone.now(),
        )
    return request
