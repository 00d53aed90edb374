"""The council's own details, as data a system administrator keeps on the council details page:
the name and address printed on every letter, the income bank account people pay into, the wording
of the payment reference, the other ways the council takes payment, and who providers contact
about a remittance advice. One row (pk 1); every change is kept in its history.

`current_council()` is how pages, letters and remittance advices read it: kept in the shared cache
(cleared when the row is saved), so a batch of letters reads it once, not once a letter.
"""
import json
import re
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

CACHE_KEY = "careledger:council-details:v1"
CACHE_SECONDS = 300

SORT_CODE_RE = re.compile(r"^\d{6}$")
ACCOUNT_NUMBER_RE = re.compile(r"^\d{8}$")
REFERENCE_PLACEHOLDER = "{reference}"


def digits_only(value: str) -> str:
    """'20-00-00' and '20 00 00' as '200000' (people type sort codes all three ways)."""
    return re.sub(r"[\s-]", "", value or "")


def validate_sort_code(value: str) -> None:
    if not SORT_CODE_RE.match(digits_only(value)):
        raise ValidationError("Enter the sort code as 6 digits, like 20-00-00")


def validate_account_number(value: str) -> None:
    if not ACCOUNT_NUMBER_RE.match(digits_only(value)):
        raise ValidationError("Enter the account number as 8 digits")


def validate_reference_wording(value: str) -> None:
    if REFERENCE_PLACEHOLDER not in (value or ""):
        raise ValidationError("The payment reference wording must contain {reference}, where the letter's "
                              "reference is printed")


def validate_payment_methods(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Other ways to pay must be a list of methods, each with a name and instructions")
    for number, method in enumerate(value, start=1):
        if not isinstance(method, dict) or not str(method.get("name", "")).strip() \
                or not str(method.get("instructions", "")).strip():
            raise ValidationError(f"Other way to pay {number}: enter both its name and its instructions")


class CouncilDetails(models.Model):
    """The one row of the council's details (pk 1)."""

    name = models.CharField("council name", max_length=200, blank=True)
    team_name = models.CharField("team name", max_length=200, blank=True, default="Adult Social Care Finance Team")
    address_line_1 = models.CharField("address line 1", max_length=100, blank=True)
    address_line_2 = models.CharField("address line 2", max_length=100, blank=True)
    address_line_3 = models.CharField("address line 3", max_length=100, blank=True)
    town = models.CharField("town or city", max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField("phone number", max_length=30, blank=True)
    email = models.EmailField("email address", blank=True)
    website = models.URLField(blank=True)
    bank_account_name = models.CharField("income bank account name", max_length=18, blank=True)
    bank_sort_code = models.CharField("sort code", max_length=6, blank=True, validators=[validate_sort_code])
    bank_account_number = models.CharField("account number", max_length=8, blank=True,
                                           validators=[validate_account_number])
    payment_reference_wording = models.CharField(
        "payment reference wording", max_length=300, blank=True,
        default="Quote {reference} as the payment reference, so we know the payment is yours.",
        validators=[validate_reference_wording])
    payment_methods = models.JSONField(
        "other ways to pay", default=list, blank=True, validators=[validate_payment_methods],
        help_text='A list of {"name": ..., "instructions": ...}: each way the council takes payment besides bank transfer')
    remittance_contact_name = models.CharField("remittance contact name", max_length=200, blank=True)
    remittance_email = models.EmailField("remittance contact email", blank=True)
    remittance_phone = models.CharField("remittance contact phone", max_length=30, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "council details"
        verbose_name_plural = "council details"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="council_details_single_row")]

    def __str__(self) -> str:
        return self.name or "Council details (not filled in)"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(CACHE_KEY)

    # Read by templates -------------------------------------------------------------------------
    @property
    def address(self) -> list[str]:
        """The postal address as lines, the postcode last (empty lines left out)."""
        return [line for line in (self.address_line_1, self.address_line_2, self.address_line_3, self.town,
                                  self.postcode) if line]

    @property
    def logo(self) -> str:
        return settings.COUNCIL_LOGO

    @property
    def sort_code_display(self) -> str:
        code = self.bank_sort_code
        return f"{code[:2]}-{code[2:4]}-{code[4:]}" if len(code) == 6 else code

    @property
    def has_bank_details(self) -> bool:
        return bool(self.bank_account_name and self.bank_sort_code and self.bank_account_number)

    @property
    def other_methods(self) -> list[dict[str, str]]:
        return [{"name": str(m.get("name", "")), "instructions": str(m.get("instructions", ""))}
                for m in (self.payment_methods or []) if isinstance(m, dict)]

    def reference_sentence(self, reference: str) -> str:
        wording = self.payment_reference_wording or "Quote {reference} as the payment reference."
        return wording.replace(REFERENCE_PLACEHOLDER, reference)

    # What production needs ---------------------------------------------------------------------
    def missing(self) -> dict[str, list[str]]:
        """What is missing, by group: 'identity' (name and address), 'bank', 'remittance'."""
        return {
            "identity": [label for label, value in (("name", self.name), ("address line 1", self.address_line_1),
                                                    ("postcode", self.postcode), ("phone number", self.phone),
                                                    ("email address", self.email)) if not value],
            "bank": [label for label, value in (("income bank account name", self.bank_account_name),
                                                ("sort code", self.bank_sort_code),
                                                ("account number", self.bank_account_number)) if not value],
            "remittance": [label for label, value in (("remittance contact name", self.remittance_contact_name),
                                                      ("remittance contact email", self.remittance_email),
                                                      ("remittance contact phone", self.remittance_phone)) if not value],
        }


#: Fields `load_council_details` accepts from a file, in the order the page shows them.
DETAIL_FIELDS = ("name", "team_name", "address_line_1", "address_line_2", "address_line_3", "town", "postcode", "phone",
                 "email", "website", "bank_account_name", "bank_sort_code", "bank_account_number",
                 "payment_reference_wording", "payment_methods", "remittance_contact_name", "remittance_email",
                 "remittance_phone")


def details_from_file(path) -> dict:
    """The details in a JSON file such as config/council_details.example.json (unknown keys refused)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected one JSON object of council details")
    unknown = sorted(set(data) - set(DETAIL_FIELDS))
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {', '.join(unknown)}; the fields are {', '.join(DETAIL_FIELDS)}")
    return data


def _fallback() -> CouncilDetails:
    """No row yet: the details in settings.COUNCIL_DETAILS_FALLBACK_FILE (the test settings name the
    example file), unsaved; otherwise an empty, unsaved row (the deploy checks name what is missing)."""
    path = getattr(settings, "COUNCIL_DETAILS_FALLBACK_FILE", None)
    if path:
        return CouncilDetails(pk=1, **details_from_file(path))
    return CouncilDetails(pk=1)


def current_council() -> CouncilDetails:
    """The council's details (cached; a save clears the cache)."""
    found = cache.get(CACHE_KEY)
    if found is None:
        found = CouncilDetails.objects.filter(pk=1).first() or _fallback()
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return found
