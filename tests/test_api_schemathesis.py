"""The integration API against its own OpenAPI schema (/api/v1/schema/), with Schemathesis.

The schema is generated in-process by drf-spectacular when the tests are collected, exactly as
/api/v1/schema/ serves it (a test checks the two agree), so every operation the schema holds when
the suite runs is tested, whichever app added it. Requests go to the Django application in-process
through WSGI and carry a system account's API token. For each operation Schemathesis sends
generated requests, valid and invalid, and checks that the API never answers with a server error,
that every status code is one the schema declares, and that every response body matches the schema.
The error responses every operation can give are added by casework.api.schema.

(schemathesis.pytest.from_fixture, which would load the schema inside a fixture, does not work with
pytest 9: hence the schema is built at collection time, which needs no database.)

A few records (a client with an account, a case and a ledger entry) exist so that list and
detail operations have something to return; generated ids mostly miss them, which exercises the
404 path as well. The number of examples per operation is kept small (MAX_EXAMPLES) so that the
whole file runs in a few minutes.
"""
import json
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from casework.api.schema import document_error_responses
from casework.roles import Role

from .factories import CaseFactory, ClientFactory, LedgerEntryFactory, UserFactory
from .hostile_files import DERANDOMIZE

SCHEMA_PATH = "/api/v1/schema/?format=json"
MAX_EXAMPLES = int(os.environ.get("CARELEDGER_API_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def api_token(db) -> str:
    account = UserFactory(username="finance-system", roles=[Role.SYSTEM_ACCOUNT])
    return Token.objects.create(user=account).key


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, kept from closing the test's database connection at the start
    and end of each request (as Django's own test client does), so requests see the test's data."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def generated_schema() -> dict:
    """The OpenAPI document as /api/v1/schema/ serves it (JSON types only), with the error
    responses every operation can give (casework.api.schema.document_error_responses, which the
    schema view also applies when it is configured as a post-processing hook: it changes nothing
    then)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return document_error_responses(json.loads(OpenApiJsonRenderer().render(schema)))


@pytest.fixture
def api_records(db):
    """Something for the list and detail operations to return."""
    client = ClientFactory()
    CaseFactory(client=client)
    LedgerEntryFactory()


schema = schemathesis.openapi.from_dict(generated_schema())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_schema_and_never_errors(case, wsgi_app, api_token, api_records):
    case.call_and_validate(app=wsgi_app, headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)


@pytest.mark.django_db
def test_the_schema_tested_is_the_schema_served(wsgi_app, api_token):
    served = schemathesis.openapi.from_wsgi(SCHEMA_PATH, wsgi_app, headers={"Authorization": f"Token {api_token}"})
    paths = served.raw_schema["paths"]
    assert "/api/v1/clients/" in paths and "/api/v1/ledger-entries/" in paths
    assert sorted(paths) == sorted(generated_schema()["paths"])
