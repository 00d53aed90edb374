"""Serializers check the shape and type of API input; the services apply the domain's rules.

Every create goes through a casework.services function. A DomainError from a service becomes a
400 naming the field at fault (see `domain_errors`).
"""
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from stdnum.gb import nhs

from casework import services
from casework.constants import CaseStatus, CaseType, CommunicationNeed, EntryKind
from casework.models import Case, Client, ControlRequest, ControlRequestStatus, LedgerEntry, Representative, Team
from casework.models.clients import normalise_postcode
from casework.money import DECIMAL_PLACES, MAX_DIGITS, to_pennies
from casework.services.cases import assignee_check

#: Kinds of ledger entry a system may post. Write-offs are asked for from invoices and approved by someone else.
API_ENTRY_KINDS = [(value, label) for value, label in EntryKind.choices if value != EntryKind.WRITE_OFF]


@contextmanager
def domain_errors():
    """Turn a service's refusal into a 400 naming the field (or 403 where the role is refused)."""
    try:
        yield
    except services.NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except services.DomainError as exc:
        raise serializers.ValidationError({exc.field or "non_field_errors": [exc.message]}) from exc


def _actor(serializer):
    return serializer.context["request"].user


@extend_schema_field(
    serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, read_only=True)
)
class MoneyOutField(serializers.Field):
    """A computed amount of money, rounded to the penny and given as a decimal string."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(to_pennies(value))


def _clean_postcode(value: str) -> str:
    try:
        return normalise_postcode(value)
    except Exception as exc:  # django ValidationError from the localflavor field
        raise serializers.ValidationError("Enter a real UK postcode, like NM1 1AA") from exc


# --- clients -----------------------------------------------------------------------------------


class ClientSerializer(serializers.ModelSerializer):
    nhs_number = serializers.CharField(
        required=False, allow_blank=True, max_length=13, help_text="10 digits; spaces are ignored"
    )
    postcode = serializers.CharField(max_length=10)
    communication_needs = serializers.ListField(
        child=serializers.ChoiceField(choices=CommunicationNeed.choices), required=False
    )
    balance = MoneyOutField(
        help_text="Balance of the client's care charges account: positive means the client owes the council"
    )

    class Meta:
        model = Client
        fields = [
            "id", "reference", "nhs_number", "title", "first_name", "middle_names", "last_name", "preferred_name",
            "date_of_birth", "address_line_1", "address_line_2", "town", "county", "postcode", "phone", "email",
            "date_of_death", "capacity", "capacity_assessed_on", "capacity_assessor", "communication_needs",
            "communication_language", "safeguarding_flag", "safeguarding_note", "balance",
        ]
        read_only_fields = ["id", "date_of_death", "balance"]

    def validate_nhs_number(self, value: str) -> str:
        compact = nhs.compact(value or "")
        if compact and not nhs.is_valid(compact):
            raise serializers.ValidationError("Enter a valid 10-digit NHS number (the check digit does not match)")
        return compact

    def validate_postcode(self, value: str) -> str:
        return _clean_postcode(value)

    def create(self, validated_data):
        with domain_errors():
            return services.client_create(actor=_actor(self), **validated_data)


class ClientFilterSerializer(serializers.Serializer):
    reference = serializers.CharField(required=False, help_text="Social care reference, exactly")
    nhs_number = serializers.CharField(required=False, help_text="NHS number (spaces are ignored)")
    postcode = serializers.CharField(required=False, help_text="A full UK postcode (any spacing or case)")

    def validate_nhs_number(self, value: str) -> str:
        return nhs.compact(value)

    def validate_postcode(self, value: str) -> str:
        return _clean_postcode(value)


# --- representatives ---------------------------------------------------------------------------


class RepresentativeSerializer(serializers.ModelSerializer):
    postcode = serializers.CharField(max_length=10)

    class Meta:
        model = Representative
        fields = [
            "id", "client", "kind", "name", "organisation", "relationship", "address_line_1", "address_line_2",
            "town", "postcode", "phone", "email", "authority_reference", "start_date", "end_date",
            "is_named_contact", "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_postcode(self, value: str) -> str:
        return _clean_postcode(value)

    def validate(self, attrs):
        if attrs.get("end_date") and attrs.get("start_date") and attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["End date must be on or after the start date"]})
        return attrs

    def create(self, validated_data):
        client = validated_data.pop("client")
        with domain_errors():
            return services.representative_add(client=client, actor=_actor(self), **validated_data)


class RepresentativeFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")


# --- cases -------------------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text="CASE- and the case id")
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    assigned_officer = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), allow_null=True, required=False,
        help_text="User id of the officer who holds the case; empty leaves it in the team queue",
    )

    class Meta:
        model = Case
        fields = [
            "id", "reference", "client", "case_type", "title", "team", "assigned_officer", "status", "priority",
            "due_date", "hold_reason", "hold_review_date", "opened_at", "closed_at",
        ]
        read_only_fields = ["id", "status", "hold_reason", "hold_review_date", "opened_at", "closed_at"]

    def validate_assigned_officer(self, officer):
        """Only someone whose role works cases may hold one: the rule the web forms keep."""
        try:
            assignee_check(officer, field="assigned_officer")
        except services.DomainError as exc:
            raise serializers.ValidationError(exc.message) from exc
        return officer

    def create(self, validated_data):
        with domain_errors():
            return services.case_create(actor=_actor(self), **validated_data)


class CaseFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    case_type = serializers.ChoiceField(choices=CaseType.choices, required=False)


# --- ledger entries ----------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    """A posted entry. Positive amounts increase what the client owes; negative amounts reduce it."""

    client = serializers.IntegerField(source="account.client_id", read_only=True, help_text="Client id")

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "account", "client", "kind", "amount", "effective_date", "posted_at", "posted_by", "reference",
            "description", "reverses", "reason",
        ]
        read_only_fields = fields


class LedgerEntryCreateSerializer(serializers.Serializer):
    """Post an entry to the client's care charges account.

    The sign of the amount follows its kind: a payment of 50.00 is stored as -50.00; an adjustment
    keeps the sign given.
    """

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), help_text="Client id")
    kind = serializers.ChoiceField(choices=API_ENTRY_KINDS)
    amount = serializers.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    effective_date = serializers.DateField()
    reference = serializers.CharField(max_length=60)
    description = serializers.CharField(max_length=300)
    reason = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True,
        help_text="Why the entry is posted. Needed when the entry goes for approval (every reduction, and anything "
                  "above what the caller's role may post alone): the answer is then 202 with the approval request")

    def create(self, validated_data):
        client = validated_data.pop("client")
        with domain_errors(), transaction.atomic():  # no account is opened if the post is refused
            account = services.account_for_client(client)
            return services.ledger_post_by_hand(account=account, actor=_actor(self), **validated_data)


class ControlRequestSerializer(serializers.ModelSerializer):
    """An action above its maker's limit, waiting for (or given) another person's decision."""

    reference = serializers.CharField(read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ControlRequest
        fields = ["id", "reference", "action", "status", "amount", "client", "subject", "summary", "reason",
                  "requested_by", "requested_at", "decided_by", "decided_at", "decision_note", "result_reference"]
        read_only_fields = fields


class ControlRequestFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ControlRequestStatus.choices, required=False)
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")


class LedgerEntryFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, help_text="Client id")
    account = serializers.IntegerField(required=False, min_value=1, help_text="Account id")
