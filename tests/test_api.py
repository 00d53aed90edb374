"""The integration API at /api/v1/: who may use it, what it stores, and how it refuses bad input."""
import time
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from casework.api.permissions import RolePermission
from casework.constants import CaseStatus, EntryKind
from casework.models import Account, Case, Client, ControlRequest, LedgerEntry, RecordAccess, Representative
from casework.roles import Role

from .conftest import sign_in
from .factories import (
    AccountFactory,
    CaseFactory,
    ClientFactory,
    LedgerEntryFactory,
    TeamFactory,
    UserFactory,
    valid_nhs_number,
)

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"
REPRESENTATIVES = "/api/v1/representatives/"
CASES = "/api/v1/cases/"
ENTRIES = "/api/v1/ledger-entries/"
SCHEMA = "/api/v1/schema/"


def api_as(*roles) -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory(roles=list(roles)))
    return api


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


@pytest.fixture
def system_account():
    return UserFactory(username="finance-system", roles=[Role.SYSTEM_ACCOUNT])


@pytest.fixture
def system_api(system_account):
    return token_client(system_account)


def new_client_body(**overrides) -> dict:
    body = {
        "reference": "SC900001",
        "nhs_number": valid_nhs_number(1),
        "first_name": "Edith",
        "last_name": "Crawley",
        "date_of_birth": "1938-02-11",
        "address_line_1": "4 Mill Lane",
        "town": "Northmoor",
        "postcode": "nm1 2ab",
        "capacity": "has",
        "communication_needs": ["large_print"],
    }
    return {**body, **overrides}


def entry_body(for_client: Client, **overrides) -> dict:
    body = {
        "client": for_client.pk,
        "kind": "payment",
        "amount": "50.00",
        "effective_date": "2026-04-06",
        "reference": "BACS-0001",
        "description": "Payment received by bank transfer",
    }
    return {**body, **overrides}


# --- authentication and roles --------------------------------------------------------------------


def test_a_system_account_authenticates_with_its_token(system_api):
    ClientFactory(reference="SC100500")

    response = system_api.get(CLIENTS)

    assert response.status_code == 200
    assert [c["reference"] for c in response.json()["results"]] == ["SC100500"]


@pytest.mark.parametrize("url", [CLIENTS, REPRESENTATIVES, CASES, ENTRIES, SCHEMA])
def test_anonymous_requests_are_refused_with_401(url):
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_refused():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert api.get(CLIENTS).status_code == 401


def test_a_token_of_an_inactive_user_is_refused(system_account):
    api = token_client(system_account)
    system_account.is_active = False
    system_account.save()

    assert api.get(CLIENTS).status_code == 401


def test_a_user_with_no_role_is_refused_everything():
    api = api_as()

    for url in [CLIENTS, REPRESENTATIVES, CASES, ENTRIES, SCHEMA]:
        assert api.get(url).status_code == 403, url


def test_an_auditor_can_read_but_not_create(system_account):
    client = ClientFactory()
    api = api_as(Role.AUDITOR)

    assert api.get(CLIENTS).status_code == 200
    assert api.get(f"{CLIENTS}{client.pk}/").status_code == 200
    assert api.get(ENTRIES).status_code == 200
    assert api.post(CLIENTS, new_client_body(), format="json").status_code == 403
    assert api.post(ENTRIES, entry_body(client), format="json").status_code == 403
    assert api.post(CASES, {"client": client.pk, "case_type": "debt_recovery", "title": "Arrears",
                            "team": TeamFactory().pk}, format="json").status_code == 403
    assert Client.objects.count() == 1
    assert not LedgerEntry.objects.exists()
    assert not Case.objects.exists()


def test_finance_and_system_administrators_may_read_the_schema_but_not_records():
    for role in (Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR):
        api = api_as(role)
        assert api.get(SCHEMA).status_code == 200, role
        assert api.get(CLIENTS).status_code == 403, role


def test_a_system_account_may_not_open_a_case(system_api):
    client = ClientFactory()

    response = system_api.post(CASES, {"client": client.pk, "case_type": "debt_recovery", "title": "Arrears",
                                       "team": TeamFactory().pk}, format="json")

    assert response.status_code == 403
    assert not Case.objects.exists()


def test_a_view_that_names_no_roles_admits_no_one():
    class Forgetful(APIView):
        permission_classes = [RolePermission]

        def get(self, request):  # pragma: no cover - never reached
            raise AssertionError("admitted")

    request = APIRequestFactory().get("/forgetful/")
    force_authenticate(request, user=UserFactory(roles=list(Role)))
    assert Forgetful.as_view()(request).status_code == 403


def test_a_web_session_without_two_factor_is_refused_by_the_api():
    ClientFactory()
    http = HttpClient()
    http.force_login(UserFactory(roles=[Role.INCOME_OFFICER]))

    response = http.get(CLIENTS)

    # Sent to the two-factor check by the web middleware, or refused by the API's own check.
    assert response.status_code in (302, 403)


def test_a_web_session_with_two_factor_verified_may_use_the_api():
    http = sign_in(HttpClient(), UserFactory(roles=[Role.INCOME_OFFICER]))

    assert http.get(CLIENTS).status_code == 200


def test_a_web_session_past_its_lifetime_gets_a_refusal_from_the_api_not_the_sign_in_page(monkeypatch):
    http = sign_in(HttpClient(), UserFactory(roles=[Role.INCOME_OFFICER]))
    key = http.cookies[settings.SESSION_COOKIE_NAME].value
    later = time.time() + settings.SESSION_ABSOLUTE_SECONDS + 60
    monkeypatch.setattr("casework.middleware.time.time", lambda: later)

    response = http.get(CLIENTS)

    assert response.status_code in (401, 403) and response["Content-Type"].startswith("application/json")
    assert not Session.objects.filter(session_key=key).exists()  # the session ended all the same


# --- clients -------------------------------------------------------------------------------------


def test_a_system_account_creates_a_client_through_the_service(system_api, system_account):
    response = system_api.post(CLIENTS, new_client_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["postcode"] == "NM1 2AB"
    assert body["balance"] == "0.00"
    assert body["communication_needs"] == ["large_print"]
    client = Client.objects.get(pk=body["id"])
    assert client.accounts.filter(kind="client_charges").exists()  # the service opened the account
    assert client.timeline.filter(action="client.created", actor=system_account).exists()


def test_a_payment_of_50_is_stored_as_minus_50_and_the_balance_reflects_it(system_api, system_account):
    client = ClientFactory()
    LedgerEntryFactory(account=AccountFactory(client=client), kind=EntryKind.CHARGE, amount=Decimal("120.00"))

    response = system_api.post(ENTRIES, entry_body(client, amount="50.00"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "-50.00"
    assert response.json()["client"] == client.pk
    entry = LedgerEntry.objects.get(pk=response.json()["id"])
    assert entry.amount == Decimal("-50.00")
    assert entry.posted_by == system_account
    assert system_api.get(f"{CLIENTS}{client.pk}/").json()["balance"] == "70.00"


def test_the_balance_counts_only_the_care_charges_account():
    client = ClientFactory()
    LedgerEntryFactory(account=AccountFactory(client=client), amount=Decimal("10.10"))
    LedgerEntryFactory(account=AccountFactory(client=client), amount=Decimal("0.20"))
    LedgerEntryFactory(account=AccountFactory(client=client, kind="deferred_payment", number="D-x"),
                       amount=Decimal("999.00"))
    ClientFactory()  # no entries: balance 0.00

    results = api_as(Role.AUDITOR).get(CLIENTS).json()["results"]

    assert {r["id"]: r["balance"] for r in results}[client.pk] == "10.30"
    assert sorted(r["balance"] for r in results) == ["0.00", "10.30"]


def test_viewing_a_client_through_the_api_is_logged(system_api, system_account):
    client = ClientFactory()

    system_api.get(f"{CLIENTS}{client.pk}/")

    access = RecordAccess.objects.get(client=client)
    assert access.user == system_account
    assert access.path == f"{CLIENTS}{client.pk}/"


def test_clients_filter_by_reference_nhs_number_and_postcode():
    wanted = ClientFactory(reference="SC123456", postcode="SW1A 1AA", nhs_number="9434765919")
    ClientFactory(reference="SC654321", postcode="M1 1AE", nhs_number="4010232137")
    api = api_as(Role.INCOME_OFFICER)

    for query in [{"reference": "SC123456"}, {"nhs_number": "943 476 5919"}, {"postcode": "sw1a1aa"}]:
        results = api.get(CLIENTS, query).json()["results"]
        assert [r["id"] for r in results] == [wanted.pk], query


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("postcode", "NOT A CODE"),
        ("nhs_number", "9434765918"),  # the check digit should be 9
        ("date_of_birth", "2026-13-45"),
        ("capacity", "sometimes"),
        ("communication_needs", ["semaphore"]),
        ("email", "not-an-email"),
        ("first_name", ""),
    ],
)
def test_bad_client_input_is_a_400_naming_the_field_and_creates_nothing(system_api, field, value):
    response = system_api.post(CLIENTS, new_client_body(**{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Client.objects.exists()


def test_a_date_of_birth_in_the_future_is_refused_by_the_service_with_a_400(system_api):
    response = system_api.post(CLIENTS, new_client_body(date_of_birth="2999-01-01"), format="json")

    assert response.status_code == 400
    assert response.json() == {"date_of_birth": ["Date of birth must be in the past"]}
    assert not Client.objects.exists()


def test_a_duplicate_client_reference_is_a_400(system_api):
    ClientFactory(reference="SC900001")

    response = system_api.post(CLIENTS, new_client_body(reference="SC900001"), format="json")

    assert response.status_code == 400
    assert "reference" in response.json()


def test_a_client_filter_with_a_bad_postcode_is_a_400_naming_it():
    response = api_as(Role.AUDITOR).get(CLIENTS, {"postcode": "nonsense"})

    assert response.status_code == 400
    assert "postcode" in response.json()


def test_malformed_json_is_a_400(system_api):
    response = system_api.post(CLIENTS, '{"reference": ', content_type="application/json")

    assert response.status_code == 400


def test_clients_cannot_be_changed_or_deleted_through_the_api(system_api):
    client = ClientFactory(first_name="Ada")

    for method in (system_api.put, system_api.patch, system_api.delete):
        assert method(f"{CLIENTS}{client.pk}/", {"first_name": "Eve"}, format="json").status_code == 405

    client.refresh_from_db()
    assert client.first_name == "Ada"


# --- representatives -----------------------------------------------------------------------------


def test_a_system_account_adds_a_representative_and_lists_them_by_client(system_api):
    client, other = ClientFactory(), ClientFactory()
    body = {"client": client.pk, "kind": "deputy", "name": "Jane Crawley", "address_line_1": "1 High Street",
            "postcode": "cr2 6xh", "start_date": "2024-01-01"}

    response = system_api.post(REPRESENTATIVES, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["postcode"] == "CR2 6XH"
    rep = Representative.objects.get(pk=response.json()["id"])
    assert rep.client == client
    assert client.timeline.filter(action="client.representative.added").exists()
    Representative.objects.create(client=other, kind="family", name="X", address_line_1="Y", postcode="NM1 2AB",
                                  start_date=date(2024, 1, 1))
    listed = system_api.get(REPRESENTATIVES, {"client": client.pk}).json()["results"]
    assert [r["id"] for r in listed] == [rep.pk]


@pytest.mark.parametrize(
    ("field", "value"),
    [("client", 999999), ("kind", "friend"), ("end_date", "2023-01-01"), ("start_date", "yesterday")],
)
def test_bad_representative_input_is_a_400_naming_the_field(system_api, field, value):
    body = {"client": ClientFactory().pk, "kind": "deputy", "name": "Jane Crawley", "address_line_1": "1 High St",
            "postcode": "NM1 2AB", "start_date": "2024-01-01", field: value}

    response = system_api.post(REPRESENTATIVES, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Representative.objects.exists()


# --- cases ---------------------------------------------------------------------------------------


def test_an_officer_opens_a_case_through_the_service():
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    api = APIClient()
    api.force_authenticate(officer)
    client, team = ClientFactory(), TeamFactory()

    response = api.post(CASES, {"client": client.pk, "case_type": "debt_recovery", "title": "  Arrears  ",
                                "team": team.pk, "assigned_officer": officer.pk, "priority": 3,
                                "due_date": "2026-06-30"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == f"CASE-{body['id']:06d}"
    assert body["status"] == "open"
    assert body["title"] == "Arrears"
    assert body["assigned_officer"] == officer.pk
    assert Case.objects.get(pk=body["id"]).timeline.filter(action="case.opened", actor=officer).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("team", 999999), ("client", 999999), ("case_type", "mystery"), ("title", "   "), ("priority", 9),
     ("due_date", "2026-13-45"), ("assigned_officer", 999999)],
)
def test_bad_case_input_is_a_400_naming_the_field(field, value):
    body = {"client": ClientFactory().pk, "case_type": "debt_recovery", "title": "Arrears",
            "team": TeamFactory().pk, field: value}

    response = api_as(Role.TEAM_LEADER).post(CASES, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Case.objects.exists()


def test_cases_filter_by_client_status_and_type():
    wanted = CaseFactory(status=CaseStatus.ESCALATED, case_type="deferred_payment")
    CaseFactory(client=wanted.client)
    CaseFactory(status=CaseStatus.ESCALATED, case_type="deferred_payment")
    api = api_as(Role.AUDITOR)

    results = api.get(CASES, {"client": wanted.client_id, "status": "escalated",
                              "case_type": "deferred_payment"}).json()["results"]

    assert [r["id"] for r in results] == [wanted.pk]
    assert api.get(CASES, {"status": "lost"}).status_code == 400
    assert "client" in api.get(CASES, {"client": "abc"}).json()


# --- ledger entries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "12.345"),
        ("amount", "abc"),
        ("amount", "0.00"),  # refused by the service, not the serializer
        ("amount", "NaN"),
        ("amount", "100000000000.00"),
        ("client", 999999),
        ("client", "abc"),
        ("kind", "write_off"),
        ("kind", "gift"),
        ("effective_date", "2026-13-45"),
        ("reference", ""),
        ("description", "x" * 301),
    ],
)
def test_bad_ledger_input_is_a_400_naming_the_field_and_posts_nothing(system_api, field, value):
    client = ClientFactory()

    response = system_api.post(ENTRIES, entry_body(client, **{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not LedgerEntry.objects.exists()
    assert not Account.objects.exists()  # not even the client's account was opened


@pytest.mark.parametrize(
    ("kind", "amount", "stored"),
    [("charge", "12.50", "12.50"), ("credit", "12.50", "-12.50"), ("adjustment", "-3.00", "-3.00"),
     ("refund", "7.00", "7.00"), ("payment", "-50.00", "-50.00")],
)
def test_the_sign_of_a_posted_amount_follows_its_kind(system_api, kind, amount, stored):
    """A system passes on charges and receipts alone (201); a credit, a reduction or a refund waits
    for a person's approval (202), with the amount it will post."""
    response = system_api.post(ENTRIES, entry_body(ClientFactory(), kind=kind, amount=amount,
                                                   reason="From the cash receipting system"), format="json")

    if kind in ("charge", "payment"):
        assert response.status_code == 201, response.json()
        assert response.json()["amount"] == stored
    else:
        assert response.status_code == 202, response.json()
        assert ControlRequest.objects.get(pk=response.json()["id"]).payload["amount"] == stored
        assert not LedgerEntry.objects.exists()


def test_a_ledger_poster_may_post_an_entry_and_filter_entries_by_client_and_account():
    client, other = ClientFactory(), ClientFactory()
    LedgerEntryFactory(account=AccountFactory(client=other))
    api = api_as(Role.INCOME_OFFICER)

    posted = api.post(ENTRIES, entry_body(client, kind="charge"), format="json").json()

    assert [e["id"] for e in api.get(ENTRIES, {"client": client.pk}).json()["results"]] == [posted["id"]]
    assert [e["id"] for e in api.get(ENTRIES, {"account": posted["account"]}).json()["results"]] == [posted["id"]]


def test_a_provider_payment_officer_may_read_but_not_post_entries():
    api = api_as(Role.PROVIDER_PAYMENT_OFFICER)

    assert api.get(ENTRIES).status_code == 200
    assert api.post(ENTRIES, entry_body(ClientFactory()), format="json").status_code == 403


def test_ledger_entries_cannot_be_changed_or_deleted(system_api):
    entry = LedgerEntryFactory(amount=Decimal("125.50"))
    url = f"{ENTRIES}{entry.pk}/"

    assert system_api.get(url).status_code == 200
    assert system_api.put(url, {"amount": "1.00"}, format="json").status_code == 405
    assert system_api.patch(url, {"amount": "1.00"}, format="json").status_code == 405
    assert system_api.delete(url).status_code == 405
    entry.refresh_from_db()
    assert entry.amount == Decimal("125.50")


# --- schema --------------------------------------------------------------------------------------


def test_the_schema_is_openapi_3_for_a_reader(system_api):
    as_json = api_as(Role.AUDITOR).get(SCHEMA, {"format": "json"})
    as_yaml = system_api.get(SCHEMA)

    assert as_json.status_code == 200
    schema = as_json.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/ledger-entries/" in schema["paths"]
    assert "put" not in schema["paths"]["/api/v1/ledger-entries/{id}/"]
    assert as_yaml.status_code == 200
    assert as_yaml.content.startswith(b"openapi: 3.")


def test_the_docs_page_is_served_to_readers_only():
    assert api_as(Role.TEAM_LEADER).get("/api/v1/docs/").status_code == 200
    assert APIClient().get("/api/v1/docs/").status_code in (401, 403)
    assert reverse("api:docs") == "/api/v1/docs/"


def test_an_api_caller_over_the_rate_limit_is_answered_429_and_logged(monkeypatch, system_account, caplog):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    cache.clear()
    api = token_client(system_account)
    assert [api.get(CLIENTS).status_code for _ in range(3)] == [200, 200, 200]
    with caplog.at_level("WARNING", logger="careledger.security"):
        over = api.get(CLIENTS)
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert "throttled" in over.json()["detail"].lower()
    assert any("over the rate limit" in r.getMessage() and "finance-system" in r.getMessage() for r in caplog.records)
    other = token_client(UserFactory(username="other-system", roles=[Role.SYSTEM_ACCOUNT]))
    assert other.get(CLIENTS).status_code == 200  # each account has its own allowance
    cache.clear()


def test_a_page_is_never_larger_than_the_cap_however_large_the_limit_asked(system_api):
    """A limit beyond the database's integers once reached PostgreSQL (bigint out of range)."""
    from casework.api.pagination import MAX_LIMIT

    ClientFactory.create_batch(3)
    answer = system_api.get(CLIENTS, {"limit": "99999999999999999999999"})
    assert answer.status_code == 200 and len(answer.json()["results"]) == 3
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory as Factory

    from casework.api.pagination import ApiPagination

    asked = Request(Factory().get(CLIENTS, {"limit": "99999999999999999999999"}))
    assert ApiPagination().get_limit(asked) == MAX_LIMIT
    assert system_api.get(CLIENTS, {"limit": "2"}).json()["next"].endswith("limit=2&offset=2")
    assert system_api.get(CLIENTS).status_code == 200  # the transaction is still usable


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMINISTRATOR, Role.AUDITOR, Role.FINANCE_ADMINISTRATOR,
                                  Role.SYSTEM_ACCOUNT], ids=lambda r: r.name)
def test_a_case_cannot_be_given_through_the_api_to_someone_whose_role_does_not_work_cases(role):
    outsider = UserFactory(roles=[role], first_name="Out", last_name="Sider")
    body = {"client": ClientFactory().pk, "case_type": "debt_recovery", "title": "Arrears", "team": TeamFactory().pk,
            "assigned_officer": outsider.pk}

    response = api_as(Role.INCOME_OFFICER).post(CASES, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"assigned_officer": [
        f"Out Sider cannot be given a case: their role ({role.value.lower()}) does not work cases. "
        "Choose an officer or a team leader"]}
    assert not Case.objects.exists()


def test_a_case_may_be_given_through_the_api_to_another_officer():
    colleague = UserFactory(roles=[Role.RESOURCE_MANAGEMENT_OFFICER])
    body = {"client": ClientFactory().pk, "case_type": "debt_recovery", "title": "Arrears", "team": TeamFactory().pk,
            "assigned_officer": colleague.pk}

    response = api_as(Role.INCOME_OFFICER).post(CASES, body, format="json")

    assert response.status_code == 201, response.json()
    assert Case.objects.get().assigned_officer == colleague


def test_a_form_or_multipart_body_is_refused_as_the_schema_offers_json_only(system_api):
    for media in ("multipart", None):
        if media:
            response = system_api.post(CLIENTS, new_client_body(), format=media)
        else:
            response = system_api.post(CLIENTS, "reference=SC900001&first_name=Edith",
                                       content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415, response.content
        assert "Unsupported media type" in response.json()["detail"]
    assert not Client.objects.exists()
    assert system_api.post(CLIENTS, new_client_body(), format="json").status_code == 201


def test_an_api_url_no_route_matches_is_answered_in_json(system_api):
    response = system_api.get("/api/v1/clients/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}
    page = HttpClient().get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_limit_or_offset_that_is_not_one_whole_number_is_refused_naming_it(system_api):
    ClientFactory()
    for query, name in ((("limit", "ten"),), "limit"), ((("limit", ""),), "limit"), ((("offset", "-1"),), "offset"), \
            ((("limit", "2"), ("limit", "3")), "limit"):
        answer = system_api.get(CLIENTS + "?" + "&".join(f"{k}={v}" for k, v in query))
        assert answer.status_code == 400, query
        assert list(answer.json()) == [name]
    assert system_api.get(CLIENTS, {"offset": "9" * 30}).json()["results"] == []
