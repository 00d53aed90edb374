"""Clients and the one rule for who letters go to."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from casework import services
from casework.constants import Capacity, CommunicationNeed, RepresentativeKind
from casework.correspondence import letter_recipient
from casework.models import Client
from casework.roles import Role

from .factories import ClientFactory, RepresentativeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(username="clientofficer", roles=[Role.INCOME_OFFICER])


def new_client(officer, **overrides):
    fields = dict(reference="SC900001", first_name="Edith", last_name="Crawley", address_line_1="1 High Street",
                  postcode="nm1 2ab", date_of_birth=date(1938, 2, 1))
    fields.update(overrides)
    return services.client_create(actor=officer, **fields)


def test_postcodes_are_validated_and_normalised(officer):
    assert new_client(officer).postcode == "NM1 2AB"
    with pytest.raises(services.DomainError) as exc:
        new_client(officer, reference="SC900002", postcode="NOT A CODE")
    assert exc.value.field == "postcode"


@pytest.mark.parametrize("nhs, ok", [("9434765919", True), ("943 476 5919", True), ("9434765918", False), ("123", False)])
def test_nhs_numbers_are_checked_with_their_check_digit(officer, nhs, ok):
    if ok:
        assert new_client(officer, nhs_number=nhs).nhs_number == "9434765919"
    else:
        with pytest.raises(services.DomainError) as exc:
            new_client(officer, nhs_number=nhs)
        assert exc.value.field == "nhs_number"


def test_references_are_unique(officer):
    new_client(officer)
    with pytest.raises(services.DomainError) as exc:
        new_client(officer)
    assert exc.value.field == "reference"


def test_an_update_records_old_and_new_values_with_the_reason(officer):
    client = new_client(officer)
    services.client_update(client=client, actor=officer, reason="Moved house", address_line_1="2 Low Road")
    entry = client.timeline.get(action="client.updated")
    assert entry.old_value == {"address_line_1": "1 High Street"} and entry.new_value == {"address_line_1": "2 Low Road"}
    record = client.history.first()
    assert record.history_user == officer and record.history_change_reason == "Moved house"


def test_a_death_is_recorded_with_its_source_and_cannot_be_in_the_future(officer):
    client = new_client(officer)
    with pytest.raises(services.DomainError):
        services.client_record_death(client=client, date_of_death=timezone.localdate() + timedelta(days=1),
                                     source="family", verified=False, actor=officer)
    client = services.client_record_death(client=client, date_of_death=date(2026, 3, 10), source="registrar",
                                          verified=True, actor=officer)
    assert client.is_deceased and client.death_recorded_on == timezone.localdate()


def rep(client, kind, **kw):
    return RepresentativeFactory(client=client, kind=kind, name=f"{kind} person", **kw)


def test_letters_go_to_the_client_by_default():
    client = ClientFactory()
    assert letter_recipient(client).name == client.full_name


def test_letters_for_a_client_who_lacks_capacity_go_to_the_deputy_before_attorney_and_appointee():
    client = ClientFactory(lacks_capacity=True)
    rep(client, RepresentativeKind.APPOINTEE)
    assert letter_recipient(client).name == "appointee person"
    rep(client, RepresentativeKind.ATTORNEY)
    assert letter_recipient(client).name == "attorney person"
    rep(client, RepresentativeKind.DEPUTY)
    assert letter_recipient(client).name == "deputy person"


def test_a_representative_whose_authority_has_ended_is_not_used():
    client = ClientFactory(lacks_capacity=True)
    rep(client, RepresentativeKind.DEPUTY, end_date=timezone.localdate() - timedelta(days=1))
    recipient = letter_recipient(client)
    assert recipient.name == client.full_name and recipient.warnings


def test_letters_after_a_death_go_to_the_executor_or_the_personal_representatives():
    client = ClientFactory(deceased=True)
    recipient = letter_recipient(client)
    assert recipient.name == f"The personal representatives of the late {client.full_name}"
    rep(client, RepresentativeKind.DEPUTY)  # a deputy's authority ends with the death
    rep(client, RepresentativeKind.EXECUTOR)
    assert letter_recipient(client).name == "executor person"


def test_a_named_contact_is_used_when_the_client_asked_for_one():
    client = ClientFactory(communication_needs=[CommunicationNeed.NAMED_CONTACT_ONLY, CommunicationNeed.LARGE_PRINT])
    rep(client, RepresentativeKind.FAMILY, is_named_contact=True)
    recipient = letter_recipient(client)
    assert recipient.name == "family person" and recipient.formats == ["Large print"]


def test_ending_a_representative_needs_a_reason_and_a_date_after_the_start(officer):
    r = rep(ClientFactory(), RepresentativeKind.APPOINTEE)
    with pytest.raises(services.DomainError):
        services.representative_end(representative=r, end_date=r.start_date - timedelta(days=1), actor=officer, reason="x")
    with pytest.raises(services.DomainError):
        services.representative_end(representative=r, end_date=r.start_date, actor=officer, reason="")
    services.representative_end(representative=r, end_date=r.start_date, actor=officer, reason="Appointeeship revoked")
    r.refresh_from_db()
    assert r.end_date == r.start_date


def test_capacity_choices_are_limited(officer):
    with pytest.raises(services.DomainError):
        new_client(officer, capacity="maybe")
    assert Client.objects.count() == 0
    assert new_client(officer, capacity=Capacity.LACKS).capacity == Capacity.LACKS
