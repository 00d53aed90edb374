"""A Python client generated from the published OpenAPI schema works against the API.

What an integrating system would do: dump the schema (`manage.py spectacular --file`), generate
a client with openapi-python-client (offline; CLIENT_CONFIG: no post-generation hooks, so it does
not call ruff, and the `Client` record renamed `ClientRecord`, away from the generator's own
`Client` class), import every module it writes, then call the live test server with it, as a
system account with its API token (`Authorization: Token ...`) and as a signed-in officer with the
session cookie. One call per resource lists it; resources with records are read back one by one;
clients, representatives, cases, ledger entries and payments are created. Every answer is read
into the generated models (never raw JSON), so a response the schema does not describe fails
here as it would fail the council's systems.
"""
import importlib
import inspect
import pkgutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from rest_framework.authtoken.models import Token

from casework.roles import Role

from .conftest import sign_in
from .factories import CaseFactory, ClientFactory, LedgerEntryFactory, RepresentativeFactory, TeamFactory, UserFactory
from .factories_debt import AssessedChargeFactory, InvoiceFactory, PaymentFactory
from .factories_deferred import AgreementFactory as DeferredAgreementFactory
from .factories_direct import AgreementFactory as DirectAgreementFactory
from .factories_provider import CarePackageFactory, RateFactory
from .live_api import _live_server_media_url, live_server  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "careledger_api_client"
CLIENT_CONFIG = f"""\
post_hooks: []
package_name_override: {PACKAGE}
class_overrides:
  Client:
    class_name: ClientRecord
    module_name: client_record
"""
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, importable; its modules are dropped from sys.modules afterwards."""
    out = tmp_path_factory.mktemp("api-client")
    schema = out / "schema.yaml"
    (out / "config.yaml").write_text(CLIENT_CONFIG)
    dumped = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--file", str(schema), "--settings=config.settings.test"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    made = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(out / PACKAGE), "--meta", "none",
         "--config", str(out / "config.yaml")],
        cwd=out, capture_output=True, text=True, timeout=300,
    )
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    # The generator reports each part of the schema it could not turn into code as a warning.
    assert "Warning" not in made.stdout + made.stderr, made.stdout + made.stderr
    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _modules(package) -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."))


def _operation(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _parsed(response, model):
    assert response.status_code < 300, (response.status_code, response.content[:2000])
    assert isinstance(response.parsed, model), (type(response.parsed), response.content[:2000])
    return response.parsed


def test_every_generated_module_imports(generated):
    names = _modules(generated)
    for name in names:
        importlib.import_module(name)
    operations = [name for name in names if name.startswith(f"{PACKAGE}.api.") and name.count(".") == 3]
    assert f"{PACKAGE}.api.clients.clients_list" in operations
    assert f"{PACKAGE}.api.ledger_entries.ledger_entries_create" in operations
    assert len(operations) > 50


@pytest.fixture
def live_db(transactional_db):
    """Committed rows the live server can read; the rows the migrations load are put back before each
    test by tests/conftest.py, as a previous live-server test's flush empties every table."""


@pytest.fixture
def records(live_db):
    """At least one record of each kind the API lists, for the read-backs."""
    client = ClientFactory()
    CaseFactory(client=client)
    LedgerEntryFactory()
    RepresentativeFactory(client=client)
    AssessedChargeFactory(client=client)
    PaymentFactory(client=InvoiceFactory(client=client).client)
    DeferredAgreementFactory()
    DirectAgreementFactory()
    RateFactory()
    CarePackageFactory()


@pytest.fixture
def system_client(generated, live_server, live_db):
    account = UserFactory(username="finance-system", roles=[Role.SYSTEM_ACCOUNT])
    token = Token.objects.get_or_create(user=account)[0].key
    return generated.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token",
                                         raise_on_unexpected_status=True)


def _list_operations(generated) -> list[str]:
    return [name.removeprefix(f"{PACKAGE}.api.") for name in _modules(generated)
            if name.startswith(f"{PACKAGE}.api.") and name.endswith("_list")]


def test_every_collection_lists_and_reads_back_through_the_generated_models(generated, system_client, records):
    from careledger_api_client.models.api_error import ApiError

    read_back = []
    for name in _list_operations(generated):
        response = _operation(name).sync_detailed(client=system_client)
        page = response.parsed
        assert response.status_code == 200 and page is not None and not isinstance(page, (ApiError, dict)), \
            (name, response.status_code, response.content[:2000])
        results = getattr(page, "results", None)
        if not results:
            continue
        assert all(not isinstance(item, dict) and hasattr(item, "to_dict") for item in results), name
        retrieve = name.removesuffix("_list") + "_retrieve"
        try:
            operation = _operation(retrieve)
        except ModuleNotFoundError:
            continue
        (key,) = [p for p, spec in inspect.signature(operation.sync_detailed).parameters.items()
                  if spec.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        first = results[0]
        value = first.client if key == "client_path" else first.id
        one = _parsed(operation.sync_detailed(str(value) if _takes_str(operation, key) else value,
                                              client=system_client), type(first))
        assert one.to_dict() == first.to_dict() or getattr(one, "id", None) == getattr(first, "id", None), name
        read_back.append(name)
    for expected in ("clients.clients_list", "cases.cases_list", "ledger_entries.ledger_entries_list",
                     "representatives.representatives_list", "payments.payments_list",
                     "deferred_payments.deferred_payments_agreements_list", "care_packages.care_packages_list"):
        assert expected in read_back


def _takes_str(operation, key: str) -> bool:
    return inspect.signature(operation.sync_detailed).parameters[key].annotation in (str, "str")


def test_clients_representatives_cases_entries_and_payments_are_created_through_the_generated_client(
        generated, system_client, live_server, live_db):
    from careledger_api_client import models

    team = TeamFactory()
    created = _parsed(_operation("clients.clients_create").sync_detailed(client=system_client, body=models.ClientRequest(
        reference="SC910001", first_name="Edith", last_name="Crawley", address_line_1="4 Mill Lane",
        postcode="nm1 2ab", date_of_birth=date(1938, 2, 11))), models.ClientRecord)
    assert created.postcode == "NM1 2AB" and created.balance == "0.00"
    again = _parsed(_operation("clients.clients_retrieve").sync_detailed(created.id, client=system_client),
                    models.ClientRecord)
    assert again.reference == "SC910001"

    representative = _parsed(_operation("representatives.representatives_create").sync_detailed(
        client=system_client, body=models.RepresentativeRequest(
            client=created.id, kind=models.RepresentativeKindEnum("family"), name="Ruth Crawley", address_line_1="9 High Street",
            postcode="NM1 3AB", start_date=date(2026, 1, 5))), models.Representative)
    assert representative.client == created.id

    # Cases are opened by caseworkers, not by system accounts.
    officer = UserFactory(roles=[Role.INCOME_OFFICER])
    caseworker = generated.AuthenticatedClient(base_url=live_server.url, prefix="Token",
                                               token=Token.objects.get_or_create(user=officer)[0].key)
    case = _parsed(_operation("cases.cases_create").sync_detailed(client=caseworker, body=models.CaseRequest(
        client=created.id, case_type=models.CaseTypeEnum("debt_recovery"), title="Arrears", team=team.pk)),
        models.Case)
    assert case.reference.startswith("CASE-") and case.assigned_officer is None

    entry = _parsed(_operation("ledger_entries.ledger_entries_create").sync_detailed(
        client=system_client, body=models.LedgerEntryCreateRequest(
            client=created.id, kind=models.LedgerEntryCreateKindEnum("charge"), amount="12.50",
            effective_date=date(2026, 4, 6), reference="CHG-0001", description="Home care, week 1")),
        models.LedgerEntry)
    assert entry.amount == "12.50" and entry.client == created.id

    payment = _parsed(_operation("payments.payments_create").sync_detailed(client=system_client, body=models.PaymentRequest(
        client=created.id, amount="10.00", method=models.MethodEnum("bank_transfer"), received_on=date(2026, 4, 7),
        reference="BT-0001")), models.Payment)
    assert payment.amount == "10.00" and isinstance(payment.allocations, list)


def test_a_signed_in_officer_reads_through_the_generated_client_with_the_session_cookie(
        generated, live_server, live_db):
    import httpx

    from careledger_api_client import models

    record = ClientFactory()
    browser = sign_in(HttpClient(), UserFactory(roles=[Role.INCOME_OFFICER]))
    session = generated.AuthenticatedClient(base_url=live_server.url, token="", raise_on_unexpected_status=True)
    # The session authenticates the request; no Authorization header is sent.
    session.set_httpx_client(httpx.Client(base_url=live_server.url,
                                          cookies={settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}))
    one = _parsed(_operation("clients.clients_retrieve").sync_detailed(record.pk, client=session), models.ClientRecord)
    assert one.reference == record.reference
    without = generated.AuthenticatedClient(base_url=live_server.url, token="")
    without.set_httpx_client(httpx.Client(base_url=live_server.url))
    refused = _operation("clients.clients_retrieve").sync_detailed(record.pk, client=without)
    assert refused.status_code == 401 and isinstance(refused.parsed, models.ApiError)
