"""Factories for deferred payment agreements: an enquiry, and one taken through every step to
active (through the services, as an officer would), with the reference data the migration loads."""
from datetime import date
from decimal import Decimal

D = Decimal

import factory
import pytest
from factory.django import DjangoModelFactory

from casework.models import Team
from casework.roles import Role
from deferred_payments import services
from deferred_payments.demo import activate
from deferred_payments.models import Agreement

from .factories import CaseFactory, ClientFactory, UserFactory


def dpa_officer():
    return UserFactory(username="dpa-officer", roles=[Role.DEFERRED_PAYMENT_OFFICER])


class AgreementFactory(DjangoModelFactory):
    """An enquiry on its own deferred payment case."""

    class Meta:
        model = Agreement

    client = factory.SubFactory(ClientFactory)
    case = factory.LazyAttribute(lambda o: CaseFactory(client=o.client, case_type="deferred_payment"))
    enquiry_on = date(2023, 9, 1)
    care_home = "Northmoor Lodge Care Home"
    created_by = factory.LazyFunction(dpa_officer)


def enquiry(*, client=None, actor=None, on: date = date(2023, 9, 1)) -> Agreement:
    team, _ = Team.objects.get_or_create(name="Deferred payments")
    return services.agreement_create(client=client or ClientFactory(), team=team, actor=actor or dpa_officer(),
                                     enquiry_on=on, care_home="Northmoor Lodge Care Home")


def active_agreement(*, start: date = date(2024, 1, 1), weekly_care_cost: Decimal = Decimal("1000.00"),
                     weekly_contribution: Decimal = Decimal("300.00"), value: Decimal = Decimal("250000.00"),
                     mortgage: Decimal = Decimal("0"), share: Decimal = Decimal(100), client=None,
                     actor=None) -> Agreement:
    actor = actor or dpa_officer()
    agreement = enquiry(client=client, actor=actor, on=start.replace(year=start.year - 1))
    nothing_deferred = weekly_care_cost - weekly_contribution <= 0
    agreement = activate(agreement, actor=actor, start=start,
                         weekly_care_cost=D("1000.00") if nothing_deferred else weekly_care_cost,
                         weekly_contribution=D("300.00") if nothing_deferred else weekly_contribution,
                         value=value, mortgage=mortgage, share=share,
                         address=("23 Beech Avenue", "Northmoor", "NM4 2LS"), title="NM482113")
    if nothing_deferred:  # the worked examples defer nothing weekly: their balance is posted by the test
        agreement = services.agreement_update_terms(agreement=agreement, actor=actor, weekly_care_cost=weekly_care_cost,
                                                    weekly_contribution=weekly_contribution,
                                                    reason="Care costs met another way from the start")
    return agreement


def ensure_reference_data() -> None:
    """The reference data the data migration loads, again: a transactional (browser) test flushes
    the tables, and later tests on a reused database still need it. Same rows, from the migration."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("deferred_payments.migrations.0002_reference_data_and_guards")
    migration.load(apps, SimpleNamespace(connection=SimpleNamespace(vendor="none")))


@pytest.fixture(autouse=True)
def _dpa_reference_data(db):
    """Autouse in the test modules that import it: the reference data is there for every test."""
    ensure_reference_data()
