"""The integration API against its own OpenAPI schema (/api/v1/schema/), with Schemathesis.

The schema is generated in-process by drf-spectacular when the tests are collected, exactly as
/api/v1/schema/ serves it (a test checks the two agree), so every operation the schema holds when
the suite runs is tested, whichever app added it. Requests go over HTTP to the live test server
(pytest-django's live_server: Django's threaded server on a free local port) and carry a system
account's API token. For each operation Schemathesis sends generated requests, valid and invalid,
and runs every check it has (CHECKS: no server error, a status code, media type, headers and body
the schema declares for the operation, invalid data rejected, the allowed methods, and the rest).

Valid data may still be refused with 400 by a rule the schema cannot state (a real UK postcode, an
NHS number's check digit, a record that has to exist, a date after another): positive data is
expected to give 2xx, 400, 401, 403 or 404 (POSITIVE_STATUSES). That 400 is declared for every
operation that takes parameters or a body (casework.api.schema), so its body is checked too.

(schemathesis.pytest.from_fixture, which would load the schema inside a fixture, does not work with
pytest 9: hence the schema is built at collection time, which needs no database.)

A few records of each kind exist (api_records) so that list and detail operations have something
to return, including the blank choices and empty links a record has before it is finished (an open
agreement's termination reason, a moratorium's end reason): the response check then reads them
against the schema. Generated ids mostly miss them, which exercises the 404 path as well. The
number of examples per operation is kept small (MAX_EXAMPLES) so that the whole file runs in a
few minutes.
"""
import json
import os
from datetime import date, timedelta

import pytest
import schemathesis
from schemathesis import GenerationMode
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

from casework.api.schema import document_error_responses
from casework.roles import Role

from .factories import CaseFactory, ClientFactory, LedgerEntryFactory, RepresentativeFactory, UserFactory
from .factories_debt import AssessedChargeFactory, InvoiceFactory, PaymentFactory
from .factories_deferred import AgreementFactory as DeferredAgreementFactory
from .factories_direct import AgreementFactory as DirectAgreementFactory
from .factories_provider import CarePackageFactory, RateFactory
from .hostile_files import DERANDOMIZE
from .live_api import _live_server_media_url, live_server  # noqa: F401 (fixtures)

SCHEMA_PATH = "/api/v1/schema/?format=json"
MAX_EXAMPLES = int(os.environ.get("CARELEDGER_API_EXAMPLES", "10"))
#: What schema-valid data may be answered with: 400 where a rule the schema cannot state refuses it.
POSITIVE_STATUSES = ["2XX", "400", "401", "403", "404"]


@pytest.fixture
def api_token(transactional_db) -> str:
    """A system account's token. The live server needs committed rows (a transactional test), and
    the rows the migrations load (payment schedules, rules, limits) are put back before each test by
    tests/conftest.py, as the operations read them."""
    account = UserFactory(username="finance-system", roles=[Role.SYSTEM_ACCOUNT])
    return Token.objects.get_or_create(user=account)[0].key


def generated_schema() -> dict:
    """The OpenAPI document as /api/v1/schema/ serves it (JSON types only), with the error
    responses every operation can give (casework.api.schema.document_error_responses, which the
    schema view also applies when it is configured as a post-processing hook: it changes nothing
    then)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return document_error_responses(json.loads(OpenApiJsonRenderer().render(schema)))


@pytest.fixture
def api_records(api_token):
    """Something for the list and detail operations to return, unfinished records among them."""
    from debt.models import BreathingSpaceRule
    from debt.services.relief import moratorium_record

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
    BreathingSpaceRule.objects.update_or_create(effective_from=date(2021, 5, 4), defaults={"standard_days": 60})
    moratorium_record(client=client, kind="standard", register_entry_date=date.today() - timedelta(days=3),
                      adviser_name="Sam Adviser", adviser_organisation="StepChange", insolvency_reference="BS1",
                      actor=UserFactory())


schema = schemathesis.openapi.from_dict(generated_schema())
schema.config.checks.positive_data_acceptance.expected_statuses = POSITIVE_STATUSES


def _check(operation, base_url: str, headers: dict) -> None:
    """Hypothesis drives Schemathesis's cases for one operation, valid and invalid; the first failing case is raised."""

    @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        # No `checks`: every check Schemathesis has, as its command line runs them.
        case.call_and_validate(base_url=base_url, headers=headers)

    run()


def test_every_operation_conforms_to_the_schema_and_never_errors(live_server, api_token, api_records):
    """One test for all the operations, so the live server's database is emptied once, not once
    an operation; every operation is tried and each one's failure is reported."""
    headers = {"Authorization": f"Token {api_token}"}
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tried += 1
        try:
            _check(operation, live_server.url, headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (each failure is collected, then all reported)
            failures.append(f"{operation.label}:\n{exc}")
    assert tried >= 70
    assert not failures, f"{len(failures)} of {tried} operations failed:\n\n" + "\n\n".join(failures)


def test_the_schema_tested_is_the_schema_served(live_server, api_token):
    served = schemathesis.openapi.from_url(f"{live_server.url}{SCHEMA_PATH}",
                                           headers={"Authorization": f"Token {api_token}"})
    paths = served.raw_schema["paths"]
    assert "/api/v1/clients/" in paths and "/api/v1/ledger-entries/" in paths
    assert sorted(paths) == sorted(generated_schema()["paths"])


def test_request_bodies_are_json_only():
    """Generated clients send what the schema offers first: one media type, JSON, for every body."""
    bodies = [operation["requestBody"] for item in generated_schema()["paths"].values()
              for operation in item.values() if isinstance(operation, dict) and "requestBody" in operation]
    assert bodies
    assert all(list(body["content"]) == ["application/json"] for body in bodies)
