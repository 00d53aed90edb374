"""Figures and rules that are data with effective dates: the row in force on a day."""
from datetime import date

from casework.letters.types import long_date
from casework.services.errors import DomainError


def in_force(model, on: date, label: str, **filters):
    """The `model` row with the latest `effective_from` on or before `on` (narrowed by `filters`);
    refused in words, naming `label`, when none is in force yet."""
    row = model.objects.filter(effective_from__lte=on, **filters).order_by("-effective_from").first()
    if row is None:
        raise DomainError(f"No {label} in force on {long_date(on)}: ask the finance administrator to add one")
    return row
