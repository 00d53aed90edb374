"""Letter wording versions and producing letters.

`letter_produce` is what runs and officers call: wording + values -> HTML -> PDF -> stored file ->
Letter row and timeline entry. Rendering happens before the transaction opens, so no lock is held
while WeasyPrint works.
"""
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import uuid4

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from casework.constants import CommunicationNeed, TimelineKind
from casework.correspondence import Recipient, letter_recipient
from casework.models import Case, Client, Letter, LetterTemplate, RunItem, TimelineEntry
from casework.models.council import current_council
from casework.services.errors import DomainError

from . import safe_template
from .pdf import council_logo_url, render_pdf
from .types import LetterType, get_letter_type

LETTER_HTML = "casework/letters/letter.html"


@dataclass(frozen=True)
class LetterDraft:
    html: str
    recipient: Recipient
    large_print: bool
    subject: str
    template: LetterTemplate
    context: dict[str, Any]


def _type(letter_type: LetterType | str) -> LetterType:
    return letter_type if isinstance(letter_type, LetterType) else get_letter_type(letter_type)


def latest_template(letter_type: LetterType | str) -> LetterTemplate | None:
    """The wording in use, or None if the type still has its default wording (nothing saved)."""
    return LetterTemplate.objects.filter(letter_type=_type(letter_type).code).order_by("-version").first()


def current_template(letter_type: LetterType | str) -> LetterTemplate:
    """The wording in use; the type's default wording becomes version 1 the first time it is needed."""
    lt = _type(letter_type)
    found = latest_template(lt)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LetterTemplate.objects.create(letter_type=lt.code, version=1, subject=lt.default_subject,
                                                 body=lt.default_body, created_by=None, change_note="Default wording")
    except IntegrityError:
        # Another process created version 1 between our read and our insert: use theirs.
        return latest_template(lt)


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n"))


def letter_template_save(*, letter_type: LetterType | str, subject: str, body: str, actor, change_note: str = "",
                         based_on: int | None = None) -> LetterTemplate:
    """Save new wording as the next version. Refused wording raises DomainError on its field.

    `based_on` is the version the editor started from: if someone saved a newer one meanwhile, the
    save is refused rather than silently replacing their change. Unchanged wording saves nothing.
    """
    lt = _type(letter_type)
    subject, body = " ".join(subject.split()), _normalise(body)
    if not subject:
        raise DomainError("Enter a subject", field="subject")
    if not body:
        raise DomainError("Enter the wording of the letter", field="body")
    for text, field, check in ((subject, "subject", safe_template.validate_inline), (body, "body", safe_template.validate)):
        try:
            check(lt, text)
        except safe_template.TemplateRefused as exc:
            raise DomainError(exc.message, field=field) from exc
    with transaction.atomic():
        latest = latest_template(lt)
        latest_version = latest.version if latest else 0
        if based_on is not None and based_on != latest_version:
            raise DomainError(f"Someone saved version {latest_version} while you were editing. "
                              "Open the letter again to see their change, then make yours.")
        if latest and (latest.subject, latest.body) == (subject, body):
            return latest
        try:
            with transaction.atomic():
                return LetterTemplate.objects.create(letter_type=lt.code, version=latest_version + 1, subject=subject,
                                                     body=body, created_by=actor, change_note=change_note.strip()[:300])
        except IntegrityError:
            # The unique (letter_type, version) constraint: another save took this number first.
            raise DomainError("Someone else saved this letter at the same moment. "
                              "Open it again to see their change, then make yours.") from None


def sample_client() -> Client:
    """An unsaved client for previews: no one's real details appear in a preview."""
    return Client(reference="SC999999", title="Mrs", first_name="Margaret", last_name="Sample",
                  address_line_1="12 Example Street", town="Northmoor", postcode="NM1 2AB")


def our_reference(lt: LetterType, client: Client, on: date) -> str:
    return f"{client.reference}/{lt.reference_code}/{on:%Y%m%d}"


def wants_large_print(client: Client) -> bool:
    return CommunicationNeed.LARGE_PRINT in (client.communication_needs or [])


def how_to_pay(council, reference: str) -> dict[str, Any]:
    """What casework/letters/how_to_pay.html prints: the reference to quote and its sentence (the
    council's bank details and other ways to pay come from `council` itself)."""
    return {"reference": reference, "reference_sentence": council.reference_sentence(reference)}


def render_letter_html(*, client: Client, letter_type: LetterType | str, on: date, template: LetterTemplate | None = None,
                       context: dict[str, Any] | None = None, representatives=None,
                       large_print: bool | None = None) -> LetterDraft:
    """The letter as HTML. The recipient (casework.correspondence) decides the address and greeting."""
    lt = _type(letter_type)
    template = template or current_template(lt)
    recipient = letter_recipient(client, on=on, representatives=representatives)
    if context is None:
        context = lt.build_context(client, on, recipient=recipient)
    large = wants_large_print(client) if large_print is None else large_print
    subject_html = safe_template.render_inline(lt, template.subject, context)
    council = current_council()
    reference = context.get("payment_reference") or client.reference
    page = {
        "council": council,
        "logo_url": council_logo_url(),
        "letter_type": lt,
        "recipient": recipient,
        "about_client": recipient.representative is not None or client.is_deceased,
        "client_name": context.get("client_name", client.full_name),
        "client_reference": context.get("client_reference", client.reference),
        "our_reference": our_reference(lt, client, on),
        "letter_date": context.get("letter_date"),
        "salutation": context.get("salutation", recipient.salutation),
        # Both are escaped by safe_template (values) and built by code (block fields).
        "subject_html": mark_safe(subject_html),
        "body_html": mark_safe(safe_template.render(lt, template.body, context)),
        "large_print": large,
        "how_to_pay": how_to_pay(council, reference) if lt.wants_how_to_pay(context) else None,
        "remittance": {
            "amount": context.get("amount_due"), "reference": reference, "due_date": context.get("payment_due_date"),
        } if lt.wants_payment(context) else None,
        "enclosures": lt.enclosures,
        "context": context,
    }
    html = render_to_string(LETTER_HTML, page)
    return LetterDraft(html=html, recipient=recipient, large_print=large, subject=subject_html, template=template,
                       context=context)


def render_preview(*, letter_type: LetterType | str, subject: str, body: str, large_print: bool = False) -> bytes:
    """A PDF of unsaved wording against a sample client. Refused wording raises TemplateRefused."""
    lt = _type(letter_type)
    safe_template.validate_inline(lt, subject)
    safe_template.validate(lt, body)
    unsaved = LetterTemplate(letter_type=lt.code, version=0, subject=" ".join(subject.split()), body=_normalise(body))
    client = sample_client()
    draft = render_letter_html(client=client, letter_type=lt, on=timezone.localdate(), template=unsaved,
                               context=lt.sample_context(), representatives=[], large_print=large_print)
    return render_pdf(draft.html).content


def letter_produce(*, client: Client, letter_type: LetterType | str, on: date, actor=None, case: Case | None = None,
                   run_item: RunItem | None = None, context: dict[str, Any] | None = None, representatives=None,
                   template: LetterTemplate | None = None) -> Letter:
    """Produce one letter: render, store the PDF, and record the Letter and its timeline entry.

    1. Render HTML and PDF outside any lock, and store the PDF under a random name (`letter_prepare`).
    2. In one transaction, insert the Letter and the TimelineEntry (`letters_save`).
    3. If that transaction fails, delete the stored file, so no file exists without its letter.
    With `template`, `context` and `representatives` passed, the only queries are the two inserts.
    (If a caller's outer transaction rolls back later, the file stays behind unreferenced: harmless,
    and never served, since files are only reached through their Letter.)
    """
    return letters_save([letter_prepare(client=client, letter_type=letter_type, on=on, actor=actor, case=case,
                                        run_item=run_item, context=context, representatives=representatives,
                                        template=template)])[0]


def letter_prepare(*, client: Client, letter_type: LetterType | str, on: date, actor=None, case: Case | None = None,
                   run_item: RunItem | None = None, context: dict[str, Any] | None = None, representatives=None,
                   template: LetterTemplate | None = None) -> tuple[Letter, TimelineEntry]:
    """Render one letter and store its PDF; returns its Letter and TimelineEntry rows, unsaved, for
    `letters_save` (a set-based run saves many letters' rows in two INSERTs)."""
    lt = _type(letter_type)
    draft = render_letter_html(client=client, letter_type=lt, on=on, template=template, context=context,
                               representatives=representatives)
    pdf = render_pdf(draft.html)
    name = default_storage.save(f"letters/{on:%Y/%m}/{uuid4().hex}.pdf", ContentFile(pdf.content))
    recipient = draft.recipient
    letter = Letter(
        letter_type=lt.code, template=draft.template, client=client, case=case, run_item=run_item,
        recipient_name=recipient.name[:300], recipient_address=recipient.address_lines,
        postcode=(recipient.representative.postcode if recipient.representative else client.postcode)[:8],
        large_print=draft.large_print, pages=pdf.pages, file=name,
        sha256=hashlib.sha256(pdf.content).hexdigest(), created_by=actor,
    )
    timeline = TimelineEntry(
        client=client, case=case, kind=TimelineKind.LETTER, action="letter.produced", actor=actor,
        summary=f"{lt.name} sent to {recipient.name}{' (large print)' if draft.large_print else ''}"[:300],
        body=recipient.reason, occurred_at=timezone.now(),
        new_value={"letter": None, "letter_type": lt.code, "template_version": draft.template.version,
                   "pages": pdf.pages, "sha256": letter.sha256},
    )
    return letter, timeline


def letters_save(rows: list[tuple[Letter, TimelineEntry]]) -> list[Letter]:
    """Insert prepared letters and their timeline entries (two statements however many); if that
    fails, delete their stored files, so no file exists without its letter."""
    try:
        # No savepoint of its own: a run already isolates its items, and alone it is a transaction.
        with transaction.atomic(savepoint=False):
            letters = Letter.objects.bulk_create([letter for letter, _ in rows])
            for letter, timeline in rows:
                timeline.letter = letter
                timeline.new_value["letter"] = letter.pk
            TimelineEntry.objects.bulk_create([timeline for _, timeline in rows])
    except BaseException:
        for letter, _ in rows:
            default_storage.delete(letter.file.name)
        raise
    return letters


def letter_file_intact(letter: Letter) -> tuple[bytes, bool]:
    """The stored bytes and whether they still match the SHA-256 recorded when the letter was made."""
    with letter.file.open("rb") as handle:
        content = handle.read()
    return content, hashlib.sha256(content).hexdigest() == letter.sha256
