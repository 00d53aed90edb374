"""Saving the council's details (the council details page and `manage.py council_details`).

Every save is checked field by field: a refusal is a DomainError naming the field, and nothing is
written. The history (django-simple-history) records who changed what.
"""
from django.core.exceptions import ValidationError
from django.db import transaction

from casework.models.council import DETAIL_FIELDS, CouncilDetails, digits_only
from casework.services.errors import DomainError

#: Shown when a detail is missing from a complete save (what production needs; casework.checks).
REQUIRED = {
    "name": "Enter the council's name",
    "address_line_1": "Enter the first line of the council's address",
    "postcode": "Enter the council's postcode",
    "phone": "Enter the council's phone number",
    "email": "Enter the council's email address",
    "bank_account_name": "Enter the name of the income bank account",
    "bank_sort_code": "Enter the income bank account's sort code",
    "bank_account_number": "Enter the income bank account's account number",
    "payment_reference_wording": "Enter the payment reference wording",
    "remittance_contact_name": "Enter the name of the remittance contact",
    "remittance_email": "Enter the remittance contact's email address",
    "remittance_phone": "Enter the remittance contact's phone number",
}


def _normalise(data: dict) -> dict:
    cleaned = {}
    for key, value in data.items():
        if key == "payment_methods":
            cleaned[key] = [{"name": " ".join(str(m.get("name", "")).split()),
                             "instructions": " ".join(str(m.get("instructions", "")).split())}
                            for m in (value or []) if isinstance(m, dict)] if isinstance(value, list) else value
        elif isinstance(value, str):
            cleaned[key] = " ".join(value.split())
        else:
            cleaned[key] = value
    for key in ("bank_sort_code", "bank_account_number"):
        if key in cleaned and isinstance(cleaned[key], str):
            cleaned[key] = digits_only(cleaned[key])
    if isinstance(cleaned.get("postcode"), str):
        from casework.models.clients import normalise_postcode

        try:
            cleaned["postcode"] = normalise_postcode(cleaned["postcode"])
        except ValidationError as exc:
            raise DomainError("Postcode: enter a real UK postcode, like NM1 1AA", field="postcode") from exc
    if isinstance(cleaned.get("bank_account_name"), str):
        cleaned["bank_account_name"] = cleaned["bank_account_name"].upper()
    return cleaned


def council_details_save(*, data: dict, actor=None) -> CouncilDetails:
    """Save the council's details from `data` (field -> value, DETAIL_FIELDS only). Every detail
    production needs must be given; a missing or malformed one raises DomainError on its field."""
    unknown = sorted(set(data) - set(DETAIL_FIELDS))
    if unknown:
        raise DomainError(f"Unknown council detail: {', '.join(unknown)}", field=unknown[0])
    data = _normalise(data)
    for field, message in REQUIRED.items():
        if not data.get(field):
            raise DomainError(message, field=field)
    with transaction.atomic():
        details = CouncilDetails.objects.select_for_update().filter(pk=1).first() or CouncilDetails(pk=1)
        for field in DETAIL_FIELDS:
            if field in data:
                setattr(details, field, data[field] if data[field] is not None else "")
        try:
            details.full_clean(exclude=["id"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            label = CouncilDetails._meta.get_field(field).verbose_name if field in DETAIL_FIELDS else field
            raise DomainError(f"{label[:1].upper()}{label[1:]}: {messages[0]}", field=field) from exc
        if actor is not None:
            details._history_user = actor
        details.save()
    return details
