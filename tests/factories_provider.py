"""factory-boy factories for the provider payments models."""
from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from casework.roles import Role
from provider_payments.constants import PackageStatus
from provider_payments.models import Band, CarePackage, PaymentSchedule, Provider, Rate, ServiceType

from .factories import ClientFactory, UserFactory


def service(code: str = "homecare") -> ServiceType:
    return ServiceType.objects.get(code=code)


def band(code: str = "standard") -> Band:
    return Band.objects.get(code=code)


def officer():
    return UserFactory(username="provider-officer", roles=[Role.PROVIDER_PAYMENT_OFFICER])


def leader():
    return UserFactory(username="provider-leader", roles=[Role.TEAM_LEADER])


def second_officer():
    """Another provider payment officer: approves what officer() imported or overrode."""
    return UserFactory(username="provider-officer-2", roles=[Role.PROVIDER_PAYMENT_OFFICER])


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Moorland Care {n} Ltd")
    supplier_number = factory.Sequence(lambda n: f"SUP{10000 + n}")
    cqc_location_id = factory.Sequence(lambda n: f"1-{100000000 + n}")
    remittance_email = factory.LazyAttribute(lambda o: f"accounts@{o.supplier_number.lower()}.example.com")
    sort_code = "200000"
    account_number = factory.Sequence(lambda n: f"{55000000 + n:08d}")
    account_name = "MOORLAND CARE LTD"
    payment_schedule = factory.LazyFunction(lambda: PaymentSchedule.objects.get(name="Four-weekly in arrears"))


class RateFactory(DjangoModelFactory):
    class Meta:
        model = Rate

    provider = factory.SubFactory(ProviderFactory)
    service_type = factory.LazyFunction(service)
    band = factory.LazyFunction(band)
    rate = Decimal("24.00")
    effective_from = date(2026, 1, 1)
    created_by = factory.LazyFunction(officer)


class CarePackageFactory(DjangoModelFactory):
    class Meta:
        model = CarePackage

    client = factory.SubFactory(ClientFactory)
    provider = factory.SubFactory(ProviderFactory)
    service_type = factory.LazyFunction(service)
    band = factory.LazyFunction(band)
    units_per_week = Decimal("14.00")
    start_date = date(2026, 1, 5)
    status = PackageStatus.APPROVED
    created_by = factory.LazyFunction(officer)
