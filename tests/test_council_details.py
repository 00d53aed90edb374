"""The council's details as data: the page (system administrators only, with history and field
messages), the deployment checks and production's refusal to start without them, the shared
"How to pay" in every letter that asks for money, the remittance advice, and mail headers."""
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse

from casework.checks import require_council_details
from casework.letters import get_letter_type
from casework.letters import services as letters
from casework.models import LetterTemplate
from casework.models.council import CouncilDetails, current_council, details_from_file
from casework.roles import Role
from casework.services import DomainError
from casework.services.council import council_details_save

from .conftest import sign_in
from .factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLE = "config/council_details.example.json"
URL = "/council/"


def example() -> dict:
    return details_from_file(EXAMPLE)


def form_data(**changes) -> dict:
    data = {k: v for k, v in example().items() if k != "payment_methods"}
    for number, method in enumerate(example()["payment_methods"], start=1):
        data[f"method_{number}_name"] = method["name"]
        data[f"method_{number}_instructions"] = method["instructions"]
    data.update(changes)
    return data


@pytest.fixture
def administrator(client):
    return sign_in(client, UserFactory(username="sysadmin", first_name="Sam", last_name="Admin",
                                       roles=[Role.SYSTEM_ADMINISTRATOR]))


# --- The page --------------------------------------------------------------------------------------

def test_the_page_needs_a_sign_in():
    from django.test import Client

    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.SYSTEM_ADMINISTRATOR])
def test_only_a_system_administrator_may_see_or_change_the_details(client_as, role):
    http = client_as(role)
    assert http.get(URL).status_code == 403
    assert http.post(URL, form_data(name="Taken Over Council")).status_code == 403
    assert not CouncilDetails.objects.exists()


def test_reverse_names_the_page():
    assert reverse("casework:council_details") == URL


def test_a_system_administrator_edits_the_details_and_each_change_is_kept(administrator):
    page = administrator.get(URL)
    assert page.status_code == 200 and "Council details" in page.content.decode()
    done = administrator.post(URL, form_data())
    assert done.status_code == 302 and done["Location"] == URL
    saved = CouncilDetails.objects.get()
    assert (saved.name, saved.bank_sort_code, saved.bank_account_number) == ("Northmoor County Council", "309634",
                                                                             "41852967")
    assert [m["name"] for m in saved.payment_methods] == [m["name"] for m in example()["payment_methods"]]

    changed = administrator.post(URL, form_data(bank_sort_code="20-45-77", bank_account_number="1234 5678",
                                                method_3_name="", method_3_instructions=""))
    assert changed.status_code == 302
    saved.refresh_from_db()
    assert (saved.bank_sort_code, saved.bank_account_number) == ("204577", "12345678")
    assert len(saved.payment_methods) == 2
    history = list(saved.history.order_by("history_date", "history_id"))
    assert len(history) == 2 and all(h.history_user.username == "sysadmin" for h in history)
    assert (history[0].bank_sort_code, history[1].bank_sort_code) == ("309634", "204577")
    text = administrator.get(URL).content.decode()
    assert "sort code, account number, other ways to pay" in text and "Sam Admin" in text
    # What letters print from now on (the cache was cleared by the save).
    assert current_council().sort_code_display == "20-45-77"


@pytest.mark.parametrize("field, value, message", [
    ("bank_sort_code", "12345", "Sort code: Enter the sort code as 6 digits, like 20-00-00"),
    ("bank_account_number", "1234567X", "Account number: Enter the account number as 8 digits"),
    ("name", "", "Enter the council&#x27;s name"),
    ("postcode", "NOT A CODE", "Postcode: enter a real UK postcode, like NM1 1AA"),
    ("email", "not-an-email", "Email address: Enter a valid email address."),
    ("payment_reference_wording", "Quote your reference",
     "The payment reference wording must contain {reference}, where the letter&#x27;s reference is printed"),
    ("remittance_email", "", "Enter the remittance contact&#x27;s email address"),
    ("method_2_instructions", "", "Way to pay 2: enter its instructions"),
])
def test_a_refused_detail_is_named_and_nothing_is_saved(administrator, field, value, message):
    response = administrator.post(URL, form_data(**{field: value}))
    text = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in text
    assert message in text
    assert f'href="#id_{field}"' in text  # the error summary links to the field at fault
    assert not CouncilDetails.objects.exists()


def test_the_service_names_the_field_it_refuses():
    with pytest.raises(DomainError) as refused:
        council_details_save(data={**example(), "bank_sort_code": "30-96"})
    assert refused.value.field == "bank_sort_code" and "6 digits" in refused.value.message
    with pytest.raises(DomainError) as refused:
        council_details_save(data={**example(), "payment_methods": [{"name": "By card", "instructions": ""}]})
    assert refused.value.field == "payment_methods" and "Other way to pay 1" in refused.value.message


def test_the_command_loads_the_example_file_and_refuses_a_bad_one(tmp_path):
    call_command("council_details", "--from-file", EXAMPLE, stdout=__import__("io").StringIO())
    assert CouncilDetails.objects.get().remittance_email == "provider.payments@northmoor.example.gov.uk"
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "X", "sortcode": "1"}')
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown field.*sortcode"):
        call_command("council_details", "--from-file", str(bad))



def test_the_page_shows_a_change_made_by_the_command_as_the_server_s(administrator):
    call_command("council_details", "--from-file", EXAMPLE, stdout=__import__("io").StringIO())
    page = administrator.get(URL)
    assert page.status_code == 200
    assert "A command on the server" in page.content.decode()

# --- Deployment checks and refusing to start ---------------------------------------------------------

def _deploy_ids() -> set[str]:
    return {m.id for m in run_checks(include_deployment_checks=True, tags=["careledger"])}


def test_deploy_checks_name_each_missing_group_and_pass_once_filled():
    assert _deploy_ids() >= {"careledger.E020", "careledger.E021", "careledger.E022"}
    council_details_save(data=example())
    assert not _deploy_ids() & {"careledger.E020", "careledger.E021", "careledger.E022"}
    CouncilDetails.objects.filter(pk=1).update(bank_account_number="", remittance_phone="")
    messages = {m.id: m.msg for m in run_checks(include_deployment_checks=True, tags=["careledger"])}
    assert set(messages) == {"careledger.E021", "careledger.E022"}
    assert "account number" in messages["careledger.E021"] and "remittance contact phone" in messages["careledger.E022"]


def test_the_checks_are_deployment_checks_only():
    assert not {m.id for m in run_checks(tags=["careledger"])} & {"careledger.E020", "careledger.E021"}


def test_production_refuses_to_start_without_the_details_and_names_what_is_missing(settings):
    settings.PRODUCTION = False
    require_council_details()  # the demo and the tests start without them
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured) as refused:
        require_council_details()
    assert "sort code" in str(refused.value) and "careledger.E022" in str(refused.value)
    from config.celery import _refuse_without_council_details

    with pytest.raises(SystemExit) as stopped:
        _refuse_without_council_details()
    assert isinstance(stopped.value.__cause__, ImproperlyConfigured) and "postcode" in str(stopped.value)
    council_details_save(data=example())
    require_council_details()
    _refuse_without_council_details()


def test_wsgi_refuses_in_production(settings, monkeypatch):
    import importlib
    import sys

    settings.PRODUCTION = True
    sys.modules.pop("config.wsgi", None)
    with pytest.raises(ImproperlyConfigured, match="income bank account name"):
        importlib.import_module("config.wsgi")
    sys.modules.pop("config.wsgi", None)


# --- Letters that ask for money -------------------------------------------------------------------

#: Every letter that asks for money: invoices, every recovery stage, statements, the claim against
#: an estate, repayment plan letters and the deferred payment letters that ask for payment.
MONEY_LETTERS = ["invoice", "account_statement", "recovery_first_reminder", "recovery_second_reminder",
                 "recovery_final_notice", "recovery_letter_before_claim", "estate_claim", "plan_confirmation",
                 "plan_missed_instalment", "dpa_redemption", "dpa_death"]


def _render(code: str) -> tuple[str, dict]:
    lt = get_letter_type(code)
    context = lt.sample_context()
    unsaved = LetterTemplate(letter_type=lt.code, version=0, subject=lt.default_subject, body=lt.default_body)
    draft = letters.render_letter_html(client=letters.sample_client(), letter_type=lt, on=date(2026, 11, 25),
                                       template=unsaved, context=context, representatives=[])
    return draft.html, context


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_money_letters_are_every_type_that_asks_for_money():
    from casework.letters.types import _REGISTRY

    asking = {code for code, lt in _REGISTRY.items() if lt.wants_how_to_pay(lt.sample_context())}
    assert asking == set(MONEY_LETTERS)


@pytest.mark.parametrize("code", MONEY_LETTERS)
def test_every_money_letter_says_how_to_pay_with_the_bank_details_and_its_reference(code):
    council_details_save(data=example())
    html, context = _render(code)
    text = _text(html)
    reference = context["payment_reference"]
    assert html.count('class="how-to-pay"') == 1
    assert "How to pay" in text and "NORTHMOOR INCOME" in text
    assert "30-96-34" in text and "41852967" in text
    assert f"Reference to quote: {reference}" in text
    assert f"Quote {reference} as the payment reference" in text
    for method in example()["payment_methods"]:
        assert method["name"] in text
    assert "we will set it up" not in text and "call us for our bank details" not in text
    if get_letter_type(code).wants_payment(context):
        slip = text[text.index("Payment slip"):]
        assert "sort code 30-96-34, account number 41852967, quoting " + reference in slip


def test_a_way_to_pay_not_in_the_data_is_never_offered():
    council_details_save(data={**example(), "payment_methods": [{"name": "By allpay card",
                                                                  "instructions": "At any PayPoint shop."}]})
    text = _text(_render("invoice")[0])
    assert "By allpay card" in text and "debit card" not in text.lower() and "Direct Debit" not in text
    assert "cheque" not in text.lower()


def test_the_printed_invoice_carries_the_details(media):
    from casework.letters.pdf import render_pdf
    from pypdf import PdfReader
    import io

    council_details_save(data=example())
    html, context = _render("invoice")
    reader = PdfReader(io.BytesIO(render_pdf(html).content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "30-96-34" in text and "41852967" in text and context["invoice_number"] in text


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


def test_saved_wording_from_before_loses_its_call_us_how_to_pay():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("casework.migrations.0017_council_details")
    old = ("Please pay.\n\n## How to pay\n\n- By bank transfer: use {{ invoice_number }} as the payment reference.\n"
           "- By debit card: call us on {{ council_phone }}.\n- By Direct Debit: call us and we will set it up for you."
           "\n\n## If this bill looks wrong")
    LetterTemplate.objects.create(letter_type="invoice", version=1, subject="Invoice", body=old)
    migration.replace_old_sections(apps, None)
    latest = LetterTemplate.objects.filter(letter_type="invoice").order_by("-version").first()
    assert latest.version == 2 and "set it up" not in latest.body and "## If this bill looks wrong" in latest.body
    assert LetterTemplate.objects.get(letter_type="invoice", version=1).body == old


# --- Remittance advice ----------------------------------------------------------------------------

def test_the_remittance_advice_carries_both_parties_and_every_line_with_totals_that_add_up(
        django_capture_on_commit_callbacks, monkeypatch):
    from casework.letters import pdf
    from provider_payments.constants import OverpaymentSource, OverpaymentStatus
    from provider_payments.models import Payment
    from provider_payments.services.claims import claim_transition
    from provider_payments.services.overpayments import overpayment_record, overpayment_transition

    from .factories import ClientFactory
    from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, leader, officer, second_officer
    from .test_provider_payment_run import start_run
    from .test_provider_validation import ecm, visit

    council_details_save(data=example())
    provider = ProviderFactory(name="Moorland Care Ltd", address="Unit 4, Moor Road\nNorthmoor\nNM2 4XY")
    RateFactory(provider=provider, rate=Decimal("24.00"))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24)) + visit("SC500001", date(2026, 3, 24), "17:00", actual=45)
                + visit("SC500001", date(2026, 3, 24), "17:00"))
    from provider_payments.constants import ClaimStatus

    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    overpayment = overpayment_record(provider=provider, amount=Decimal("10.00"), source=OverpaymentSource.AUDIT,
                                     description="Audit of February visits", actor=officer())
    overpayment_transition(overpayment=overpayment, to_status=OverpaymentStatus.APPROVED, actor=leader())
    printed = []
    real = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", lambda html: printed.append(html) or real(html))
    start_run(django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    assert (payment.gross, payment.offset, payment.net) == (Decimal("42.00"), Decimal("10.00"), Decimal("32.00"))
    text = _text(printed[0])
    for expected in ("Northmoor County Council", "County Hall", "NM1 1AA", "Provider Payments Team",
                     "provider.payments@northmoor.example.gov.uk", "0300 123 4580",
                     "Moorland Care Ltd", "Unit 4, Moor Road", "NM2 4XY", "22 April 2026",
                     f"Bacs reference {payment.bacs_reference}", f"Invoice {claim.reference}",
                     overpayment.reference, "Audit of February visits"):
        assert expected in text, expected
    lines = list(claim.lines.order_by("row_number"))
    assert len(lines) == 3
    claimed = sum((line.amount for line in lines), Decimal(0))
    paid = sum((line.payable_amount for line in lines if line.result != "rejected"), Decimal(0))
    assert paid == Decimal("42.00")
    assert f"Invoice total £{claimed:,.2f} £{paid:,.2f} £{claimed - paid:,.2f}" in text
    assert "Total due to you £42.00" in text and "Less overpayments offset £10.00" in text
    assert "Paid by Bacs on 22 April 2026 £32.00" in text
    assert text.count("SC500001") == 3  # each line of the invoice, paid or withheld


# --- Mail -------------------------------------------------------------------------------------------

def test_mail_sent_by_the_app_has_a_local_date_and_a_message_id_on_the_configured_domain(client, settings):
    from email.utils import parsedate_to_datetime

    assert settings.EMAIL_USE_LOCALTIME is True and settings.TIME_ZONE == "Europe/London"
    user = UserFactory(username="mail-officer", email="mail.officer@northmoor.example.gov.uk",
                       roles=[Role.INCOME_OFFICER])
    user.set_password("the-old-password-2026")
    user.save()
    http = sign_in(client, user)
    done = http.post(reverse("casework:password_change"), {
        "old_password": "the-old-password-2026", "new_password1": "a-new-long-passphrase-71",
        "new_password2": "a-new-long-passphrase-71"})
    assert done.status_code == 302 and len(mail.outbox) == 1
    message = mail.outbox[0].message()
    assert re.search(r"[+]0[01]00$", message["Date"]), message["Date"]
    assert not message["Date"].endswith("-0000")
    assert parsedate_to_datetime(message["Date"]).utcoffset() is not None
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN
    assert domain and domain != "localhost"
    assert message["Message-ID"].endswith(f"@{domain}>"), message["Message-ID"]


def test_the_message_id_domain_comes_from_the_site_never_localhost():
    import subprocess
    import sys

    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.test'; django.setup(); "
            "from django.conf import settings; from django.core.mail import EmailMessage; "
            "m = EmailMessage('s', 'b', 'a@x.example', ['b@x.example']).message(); "
            "print(settings.EMAIL_MESSAGE_ID_DOMAIN, m['Message-ID'])")
    import os

    env = {**os.environ, "ALLOWED_HOSTS": "localhost,careledger.northmoor.example.gov.uk"}
    env.pop("EMAIL_MESSAGE_ID_DOMAIN", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "careledger.northmoor.example.gov.uk" and out[1].endswith("@careledger.northmoor.example.gov.uk>")
    env["EMAIL_MESSAGE_ID_DOMAIN"] = "mail.northmoor.example.gov.uk"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[1].endswith("@mail.northmoor.example.gov.uk>")


def test_the_demo_seed_loads_the_example_details_and_keeps_saved_ones():
    import io

    from casework.management.commands.seed_demo import Command

    command = Command(stdout=io.StringIO())
    command._council_details()
    assert CouncilDetails.objects.get().bank_account_number == "41852967"
    CouncilDetails.objects.filter(pk=1).update(bank_account_number="11112222")
    command._council_details()
    assert CouncilDetails.objects.get().bank_account_number == "11112222"
