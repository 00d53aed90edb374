"""Letters: the wording language, producing PDFs, versions, the preview and downloads."""
import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from casework.constants import CommunicationNeed, RepresentativeKind, TimelineKind
from casework.letters import UnknownLetterType, get_letter_type
from casework.letters import pdf as letter_pdf
from casework.letters import safe_template
from casework.letters import services as letters
from casework.letters.safe_template import TemplateRefused
from casework.models import Letter, LetterTemplate, RecordAccess, TimelineEntry
from casework.roles import Role
from casework.services import DomainError
from config.urls import urlpatterns as _site_urls

from .factories import AccountFactory, ClientFactory, LedgerEntryFactory, RepresentativeFactory, UserFactory

# Until config/urls.py includes the letters URLs, the tests mount them here.
urlpatterns = list(_site_urls)
if not any(getattr(p, "namespace", None) == "letters" for p in _site_urls):
    urlpatterns.append(path("letters/", include("casework.letters.urls")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

ROOT = Path(__file__).resolve().parent.parent
ON = date(2026, 11, 25)
STATEMENT = get_letter_type("account_statement")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


@pytest.fixture
def owing_client():
    client = ClientFactory(first_name="Ada", last_name="Lovelace", title="Mrs")
    account = AccountFactory(client=client)
    LedgerEntryFactory(account=account, amount=Decimal("412.30"), effective_date=ON - timedelta(days=20),
                       description="Assessed contribution, November")
    LedgerEntryFactory(account=account, kind="payment", amount=Decimal("-100.00"), effective_date=ON - timedelta(days=5),
                       description="Payment, thank you")
    return client


# --- The wording language ------------------------------------------------------------------------


def test_wording_renders_paragraphs_headings_bullets_and_fields():
    text = "Hello {{client_name}}.\nSecond line.\n\n## How to pay\n- Call {{ council_phone }}\n- Or write\n\nThanks."
    html = safe_template.render(STATEMENT, text, {"client_name": "Ada", "council_phone": "0300 1"})
    assert html == ("<p>Hello Ada.<br>\nSecond line.</p>\n<h2>How to pay</h2>\n"
                    "<ul><li>Call 0300 1</li><li>Or write</li></ul>\n<p>Thanks.</p>")


def test_values_are_escaped_but_block_fields_are_not():
    text = "Dear {{ client_name }}\n\n{{ statement_table }}"
    html = safe_template.render(STATEMENT, text, {"client_name": "<script>alert(1)</script>",
                                                  "statement_table": "<table><tr><td>x</td></tr></table>"})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<table><tr><td>x</td></tr></table>" in html


def test_literal_html_in_the_wording_is_escaped():
    html = safe_template.render(STATEMENT, '<img src="http://evil.example/x.png"> & more', {})
    assert "<img" not in html and "&lt;img" in html


@pytest.mark.parametrize("text, expected", [
    ("Fine\n\n{% load static %}", "Line 3: '{%' starts a template tag"),
    ("{{ settings.SECRET_KEY }}", "Line 1: {{ settings.SECRET_KEY }} is not a field of this letter"),
    ("a\nb\nc\n{{ client.password }}", "Line 4: {{ client.password }} is not a field of this letter. Fields you can use: "),
    ("{{ client_name|safe }}", "Line 1: {{ client_name|safe }} uses a filter"),
    ("{{ x|safe }}", "Line 1: {{ x|safe }} uses a filter"),
    ("{{ nonsense }}", "Line 1: {{ nonsense }} is not a field of this letter"),
    ("{{ client_name.__class__ }}", "is not a field of this letter"),
    ("{# a comment #}", "Line 1: '{#' starts a template comment"),
    ("Pay {{ amount_due", "Line 1: '{{' has no matching '}}'"),
    ("Pay amount_due }}", "Line 1: '}}' has no matching '{{'"),
    ("{% if x %}yes{% endif %}", "'{%' starts a template tag"),
    ("Your table: {{ statement_table }}", "Line 1: {{ statement_table }} must be on a line of its own"),
    ("{{ {{ client_name }} }}", "is not a field of this letter"),
])
def test_wording_refuses_anything_but_known_fields(text, expected):
    with pytest.raises(TemplateRefused) as exc:
        safe_template.validate(STATEMENT, text)
    assert expected in exc.value.message
    with pytest.raises(TemplateRefused):
        safe_template.render(STATEMENT, text, {"client_name": "x"})


def test_refusal_lists_the_fields_you_can_use():
    with pytest.raises(TemplateRefused) as exc:
        safe_template.validate(STATEMENT, "{{ client.password }}")
    assert "client_name" in exc.value.message and "statement_table" in exc.value.message


def test_subject_cannot_hold_a_block_field():
    with pytest.raises(TemplateRefused):
        safe_template.validate_inline(STATEMENT, "Statement {{ statement_table }}")


def test_default_wording_of_every_type_is_valid():
    safe_template.validate(STATEMENT, STATEMENT.default_body)
    safe_template.validate_inline(STATEMENT, STATEMENT.default_subject)


def test_unknown_letter_type_is_a_key_error_and_a_domain_error():
    with pytest.raises(KeyError):
        get_letter_type("no_such_letter")
    with pytest.raises(DomainError, match="There is no letter type 'no_such_letter'"):
        get_letter_type("no_such_letter")
    assert issubclass(UnknownLetterType, KeyError)


# --- The statement's values ----------------------------------------------------------------------


def test_statement_context_shows_balance_and_due_date(owing_client):
    context = STATEMENT.build_context(owing_client, ON, representatives=[])
    assert context["balance"] == "£312.30"
    assert context["balance_words"] == "you owe £312.30"
    assert context["payment_due_date"] == "9 December 2026"
    assert context["letter_date"] == "25 November 2026"
    assert "Assessed contribution, November" in context["statement_table"]
    assert STATEMENT.wants_payment(context)


def test_statement_in_credit_asks_for_nothing_and_has_no_payment_slip():
    client = ClientFactory()
    LedgerEntryFactory(account=AccountFactory(client=client), kind="credit", amount=Decimal("-5.00"), effective_date=ON)
    context = STATEMENT.build_context(client, ON, representatives=[])
    assert context["balance_words"] == "you are in credit by £5.00"
    assert not STATEMENT.wants_payment(context)
    draft = letters.render_letter_html(client=client, letter_type=STATEMENT, on=ON, context=context, representatives=[])
    assert "Payment slip" not in draft.html


def test_statement_ledger_text_is_escaped_in_the_table():
    client = ClientFactory()
    LedgerEntryFactory(account=AccountFactory(client=client), effective_date=ON, description="<b>bold</b>")
    context = STATEMENT.build_context(client, ON, representatives=[])
    assert "&lt;b&gt;bold&lt;/b&gt;" in context["statement_table"]


# --- Producing letters ---------------------------------------------------------------------------


def test_produced_letter_is_a_pdf_whose_sha256_matches_and_is_on_the_timeline(owing_client, income_officer):
    letter = letters.letter_produce(client=owing_client, letter_type="account_statement", on=ON, actor=income_officer)
    letter.file.open("rb")
    content = letter.file.read()
    letter.file.close()
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == letter.sha256
    assert letter.pages >= 1
    assert letter.template.version == 1
    assert letter.recipient_name == "Mrs Ada Lovelace"
    entry = TimelineEntry.objects.get(letter=letter)
    assert entry.kind == TimelineKind.LETTER and entry.action == "letter.produced"
    assert entry.summary == "Statement of account sent to Mrs Ada Lovelace"
    assert entry.client == owing_client and entry.actor == income_officer


def test_produced_pdf_is_tagged_pdf_ua_with_a_title(owing_client):
    from io import BytesIO

    from pypdf import PdfReader

    letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    reader = PdfReader(BytesIO(letter.file.read()))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "en-GB"
    assert reader.metadata.title.startswith("Statement of account for Mrs Ada Lovelace")
    assert "Payment slip" in "".join(page.extract_text() for page in reader.pages)


def test_batch_production_makes_no_queries_but_the_inserts(owing_client):
    template = letters.current_template(STATEMENT)
    reps = list(owing_client.representatives.all())
    context = STATEMENT.build_context(owing_client, ON, representatives=reps)
    with CaptureQueriesContext(connection) as queries:
        letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON, template=template,
                               context=context, representatives=reps)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries
                  if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert statements == ["INSERT", "INSERT"]


def test_a_failed_insert_leaves_no_stored_file(owing_client, media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(TimelineEntry.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError), transaction.atomic():  # as callers do: a run item's savepoint, a view
        letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    assert not Letter.objects.exists()
    assert not [p for p in media.rglob("*.pdf")]


def test_large_print_for_a_client_who_needs_it(owing_client):
    owing_client.communication_needs = [CommunicationNeed.LARGE_PRINT]
    draft = letters.render_letter_html(client=owing_client, letter_type=STATEMENT, on=ON, representatives=[])
    assert draft.large_print
    assert re.search(r'<body class="[^"]*\blarge-print\b', draft.html)
    letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON, representatives=[])
    assert letter.large_print


def _text_sizes(content: bytes) -> dict[float, list[str]]:
    """Every run of text in a PDF by its printed size in points."""
    from io import BytesIO

    from pypdf import PdfReader

    sizes: dict[float, list[str]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.setdefault(round(size * tm[3] * cm[3], 1), []).append(text.strip())

    for page in PdfReader(BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def test_large_print_css_sets_the_body_at_16pt():
    css = re.sub(r"/\*.*?\*/", "", (ROOT / "casework" / "letters" / "letter.css").read_text(), flags=re.S)
    assert re.search(r"body\.large-print\s*\{[^}]*font-size:\s*16pt", css)


def test_large_print_letter_has_no_text_under_16pt(owing_client):
    owing_client.communication_needs = [CommunicationNeed.LARGE_PRINT]
    letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON, representatives=[])
    sizes = _text_sizes(letter.file.read())
    assert min(sizes) >= 16, {size: texts[:3] for size, texts in sizes.items() if size < 16}
    standard = letters.letter_produce(client=ClientFactory(), letter_type=STATEMENT, on=ON, representatives=[])
    assert min(_text_sizes(standard.file.read())) < 16  # the check can fail


def test_letter_about_a_client_lacking_capacity_goes_to_the_deputy():
    client = ClientFactory(lacks_capacity=True, last_name="Babbage")
    LedgerEntryFactory(account=AccountFactory(client=client), effective_date=ON)
    deputy = RepresentativeFactory(client=client, kind=RepresentativeKind.DEPUTY, name="Grace Hopper",
                                   address_line_1="1 Court Road", postcode="NM3 4EF")
    letter = letters.letter_produce(client=client, letter_type=STATEMENT, on=ON)
    assert letter.recipient_name == "Grace Hopper"
    assert letter.postcode == "NM3 4EF"
    draft = letters.render_letter_html(client=client, letter_type=STATEMENT, on=ON, representatives=[deputy])
    assert "Dear Grace Hopper" in draft.html and "1 Court Road" in draft.html
    assert f"{client.full_name} owes" in draft.html  # not "you owe": the deputy does not owe it


def test_letter_after_death_goes_to_the_personal_representatives():
    client = ClientFactory(deceased=True, title="Mr", first_name="Alan", last_name="Turing")
    draft = letters.render_letter_html(client=client, letter_type=STATEMENT, on=ON, representatives=[])
    assert "The personal representatives of the late Mr Alan Turing" in draft.html
    assert "Dear personal representatives" in draft.html


# --- Versions ------------------------------------------------------------------------------------


def test_current_template_creates_the_default_once():
    first = letters.current_template(STATEMENT)
    again = letters.current_template(STATEMENT)
    assert first.pk == again.pk and first.version == 1 and first.created_by is None
    assert first.body == STATEMENT.default_body


def test_saving_wording_adds_versions_and_old_letters_keep_theirs(owing_client):
    admin = UserFactory(roles=[Role.FINANCE_ADMINISTRATOR])
    old_letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    v2 = letters.letter_template_save(letter_type=STATEMENT, subject="Your statement", body="Hello {{ client_name }}",
                                      actor=admin, change_note="Shorter")
    v3 = letters.letter_template_save(letter_type=STATEMENT, subject="Your statement", body="Hi {{ client_name }}",
                                      actor=admin)
    assert (v2.version, v3.version) == (2, 3)
    assert letters.current_template(STATEMENT) == v3
    old_letter.refresh_from_db()
    assert old_letter.template.version == 1
    new_letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    assert new_letter.template == v3


def test_saving_unchanged_wording_adds_no_version():
    admin = UserFactory(roles=[Role.FINANCE_ADMINISTRATOR])
    v1 = letters.letter_template_save(letter_type=STATEMENT, subject="S", body="B", actor=admin)
    assert letters.letter_template_save(letter_type=STATEMENT, subject="S", body="B\n", actor=admin) == v1
    assert LetterTemplate.objects.count() == 1


def test_saving_refused_wording_is_a_domain_error_on_the_body():
    with pytest.raises(DomainError) as exc:
        letters.letter_template_save(letter_type=STATEMENT, subject="S", body="{{ settings.SECRET_KEY }}", actor=None)
    assert exc.value.field == "body"
    assert not LetterTemplate.objects.exists()


def test_saving_over_someone_elses_newer_version_is_refused():
    admin = UserFactory(roles=[Role.FINANCE_ADMINISTRATOR])
    letters.letter_template_save(letter_type=STATEMENT, subject="S", body="One", actor=admin, based_on=0)
    with pytest.raises(DomainError, match="Someone saved version 1"):
        letters.letter_template_save(letter_type=STATEMENT, subject="S", body="Two", actor=admin, based_on=0)


# --- Pages ---------------------------------------------------------------------------------------


def test_preview_returns_a_pdf_for_valid_wording(client_as):
    http = client_as(Role.FINANCE_ADMINISTRATOR)
    response = http.post(reverse("letters:template_preview", args=["account_statement"]),
                         {"subject": STATEMENT.default_subject, "body": STATEMENT.default_body})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]


def test_preview_refuses_template_code_with_the_reason(client_as, settings):
    http = client_as(Role.FINANCE_ADMINISTRATOR)
    response = http.post(reverse("letters:template_preview", args=["account_statement"]),
                         {"subject": "S", "body": "Hello\n{{ settings.SECRET_KEY }}"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Line 2: {{ settings.SECRET_KEY }} is not a field of this letter" in text
    assert settings.SECRET_KEY not in text


@pytest.mark.parametrize("role", [Role.TEAM_LEADER, Role.AUDITOR, Role.INCOME_OFFICER])
def test_only_finance_administrators_preview_and_edit(client_as, role):
    http = client_as(role)
    assert http.post(reverse("letters:template_preview", args=["account_statement"]),
                     {"subject": "S", "body": "B"}).status_code == 403
    assert http.get(reverse("letters:template_edit", args=["account_statement"])).status_code == 403


@pytest.mark.parametrize("role", [Role.FINANCE_ADMINISTRATOR, Role.TEAM_LEADER, Role.AUDITOR])
def test_template_list_shows_the_letter_types(client_as, role):
    response = client_as(role).get(reverse("letters:template_list"))
    assert response.status_code == 200
    assert "Statement of account" in response.content.decode()


def test_edit_page_offers_fields_history_and_preview(client_as):
    response = client_as(Role.FINANCE_ADMINISTRATOR).get(reverse("letters:template_edit", args=["account_statement"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<iframe title="Preview of the letter"' in html
    assert "js/letter-preview.js" in html and 'formtarget="_blank"' in html
    assert "{{ statement_table }}" in html and "What it holds" in html
    policy = response["Content-Security-Policy"]
    assert "frame-src 'self' blob:" in policy and "object-src blob:" in policy


def test_edit_page_saves_a_version_or_shows_the_refusal_on_the_body(client_as):
    http = client_as(Role.FINANCE_ADMINISTRATOR)
    url = reverse("letters:template_edit", args=["account_statement"])
    refused = http.post(url, {"subject": "S", "body": "{% load static %}", "based_on": "0"})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "govuk-error-summary" in html and 'href="#id_body"' in html and "starts a template tag" in html
    saved = http.post(url, {"subject": "S", "body": "Hello {{ client_name }}", "change_note": "Test", "based_on": "0"})
    assert saved.status_code == 302
    template = letters.latest_template(STATEMENT)
    assert template.version == 1 and template.change_note == "Test" and template.created_by.username == "finance_administrator"


def test_download_serves_the_identical_bytes_and_logs_the_view(client_as, owing_client):
    letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    stored = letter.file.read()
    letter.file.close()
    response = client_as(Role.AUDITOR).get(reverse("letters:letter_download", args=[letter.pk]))
    assert response.status_code == 200
    assert response.content == stored
    assert f'filename="L{letter.pk:08d}-account_statement.pdf"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")
    assert RecordAccess.objects.filter(client=owing_client).exists()


def test_download_refuses_a_tampered_file(client_as, owing_client, media):
    letter = letters.letter_produce(client=owing_client, letter_type=STATEMENT, on=ON)
    (media / letter.file.name).write_bytes(b"%PDF-1.7 something else")
    response = client_as(Role.AUDITOR).get(reverse("letters:letter_download", args=[letter.pk]))
    assert response.status_code == 409
    assert b"something else" not in response.content
    assert "has changed since it was sent" in response.content.decode()


def test_officer_produces_a_statement_on_demand(client_as, owing_client):
    http = client_as(Role.INCOME_OFFICER)
    response = http.post(reverse("letters:letter_produce", args=[owing_client.pk, "account_statement"]), follow=True)
    letter = Letter.objects.get(client=owing_client)
    assert response.redirect_chain[-1][0] == reverse("casework:client_detail", args=[owing_client.pk])
    assert reverse("letters:letter_download", args=[letter.pk]) in response.content.decode()
    assert letter.created_by.username == "income_officer"


def test_producing_an_unknown_letter_type_is_not_found(client_as, owing_client):
    response = client_as(Role.INCOME_OFFICER).post(reverse("letters:letter_produce", args=[owing_client.pk, "nope"]))
    assert response.status_code == 404


# --- The PDF helper ------------------------------------------------------------------------------


def test_pdf_fetcher_serves_static_files_only():
    fetcher = letter_pdf._StaticOnlyFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.com/logo.png")
    response = fetcher.fetch(letter_pdf.council_logo_url())
    assert b"<svg" in response.read()


def test_every_page_says_which_page_of_how_many():
    short = letter_pdf.render_pdf('<html lang="en"><title>t</title><body><p>One page</p></body></html>')
    long = letter_pdf.render_pdf('<html lang="en"><title>t</title><body>' + "<p>Line</p>" * 200 + "</body></html>")
    assert short.pages == 1 and long.pages > 1
    from io import BytesIO

    from pypdf import PdfReader

    assert "Page 1 of 1" in PdfReader(BytesIO(short.content)).pages[0].extract_text()
    assert f"Page 1 of {long.pages}" in PdfReader(BytesIO(long.content)).pages[0].extract_text()


def test_only_the_pdf_helper_imports_weasyprint():
    importers = []
    for source in ROOT.rglob("*.py"):
        if any(part in {".venv", "node_modules", "tests", "var"} for part in source.relative_to(ROOT).parts):
            continue
        if re.search(r"^\s*(import weasyprint|from weasyprint)", source.read_text(), re.MULTILINE):
            importers.append(str(source.relative_to(ROOT)))
    assert importers == ["casework/letters/pdf.py"]
