"""factory-boy factories for every model. Traits live in `class Params`."""
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from casework.constants import (
    AccountKind,
    Capacity,
    CaseStatus,
    CaseType,
    EntryKind,
    RepresentativeKind,
    TimelineKind,
)
from casework.models.clients import nhs_check_digit
from casework.models import Account, Case, Client, Document, LedgerEntry, RecordAccess, Representative, Task, Team, TimelineEntry
from casework.roles import Role

Faker = lambda provider, **kw: factory.Faker(provider, locale="en_GB", **kw)  # noqa: E731


def valid_nhs_number(n: int) -> str:
    """A distinct valid NHS number for each sequence number: 8 digits from n, a ninth chosen so
    that a check digit exists, then the check digit."""
    prefix = f"{40000000 + n:08d}"
    for ninth in "0123456789":
        check = nhs_check_digit(prefix + ninth)
        if check:
            return prefix + ninth + check
    raise AssertionError("unreachable: some ninth digit always gives a check digit")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"officer{n}")
    first_name = Faker("first_name")
    last_name = Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@northmoor.example.gov.uk")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.groups.add(Group.objects.get_or_create(name=Role(role).value)[0])
        if create:
            self.save()


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Income team {n}")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    reference = factory.Sequence(lambda n: f"SC{100000 + n}")
    nhs_number = factory.Sequence(valid_nhs_number)
    title = factory.Iterator(["Mr", "Mrs", "Ms", "Miss"])
    first_name = Faker("first_name")
    last_name = Faker("last_name")
    date_of_birth = factory.LazyFunction(lambda: date(1940, 5, 17))
    address_line_1 = Faker("street_address")
    town = "Northmoor"
    postcode = factory.Iterator(["NM1 2AB", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "LS1 4AP"])
    capacity = Capacity.HAS

    class Params:
        deceased = factory.Trait(
            date_of_death=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30)),
            death_source="registrar",
            death_verified=True,
            death_recorded_on=factory.LazyFunction(timezone.localdate),
        )
        lacks_capacity = factory.Trait(capacity=Capacity.LACKS, capacity_assessed_on=date(2024, 3, 1),
                                       capacity_assessor="Dr A Patel")


class RepresentativeFactory(DjangoModelFactory):
    class Meta:
        model = Representative

    client = factory.SubFactory(ClientFactory)
    kind = RepresentativeKind.FAMILY
    name = Faker("name")
    address_line_1 = Faker("street_address")
    town = "Northmoor"
    postcode = "NM2 3CD"
    start_date = date(2023, 1, 1)


class CaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    client = factory.SubFactory(ClientFactory)
    case_type = CaseType.DEBT_RECOVERY
    title = "Unpaid care charges"
    team = factory.SubFactory(TeamFactory)
    status = CaseStatus.OPEN
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))


class TimelineEntryFactory(DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    case = factory.SubFactory(CaseFactory)
    client = factory.SelfAttribute("case.client")
    kind = TimelineKind.NOTE
    action = "casework.note.added"
    summary = "Spoke to daughter about the arrears"
    occurred_at = factory.LazyFunction(timezone.now)
    actor = factory.SubFactory(UserFactory)


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    case = factory.SubFactory(CaseFactory)
    title = "Check for a reply"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    created_by = factory.SubFactory(UserFactory)


class DocumentFactory(DjangoModelFactory):
    class Meta:
        model = Document

    case = factory.SubFactory(CaseFactory)
    client = factory.SelfAttribute("case.client")
    file = factory.django.FileField(filename="letter.pdf", data=b"%PDF-1.4 test")
    original_name = "letter.pdf"
    content_type = "application/pdf"
    size = 13
    uploaded_by = factory.SubFactory(UserFactory)


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ("client", "kind")

    client = factory.SubFactory(ClientFactory)
    kind = AccountKind.CLIENT_CHARGES
    number = factory.LazyAttribute(lambda o: f"C-{o.client.reference}")


class LedgerEntryFactory(DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    account = factory.SubFactory(AccountFactory)
    kind = EntryKind.CHARGE
    amount = Decimal("125.50")
    effective_date = factory.LazyFunction(timezone.localdate)
    posted_by = factory.SubFactory(UserFactory)
    reference = factory.Sequence(lambda n: f"INV{n:06d}")
    description = "Assessed contribution, 4 weeks"


class RecordAccessFactory(DjangoModelFactory):
    class Meta:
        model = RecordAccess

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    path = "/clients/1/"
