from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from localflavor.gb.forms import GBPostcodeField
from simple_history.models import HistoricalRecords
from stdnum.gb import nhs

from casework.constants import Capacity, CommunicationNeed, DeathSource, RepresentativeKind


def nhs_check_digit(first_nine: str) -> str | None:
    """The NHS number's modulus 11 check digit for nine digits, or None when no valid number exists."""
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(first_nine)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else str(check)


def validate_nhs_number(value: str) -> None:
    if value and not nhs.is_valid(value):
        raise ValidationError("Enter a valid 10-digit NHS number (the check digit does not match)")


def normalise_postcode(value: str) -> str:
    """Validate a UK postcode and return it in its standard form ('sw1a1aa' -> 'SW1A 1AA')."""
    if not value:
        return ""
    return GBPostcodeField(required=False).clean(value)


def validate_postcode(value: str) -> None:
    try:
        normalise_postcode(value)
    except ValidationError as exc:
        raise ValidationError("Enter a real UK postcode, like NM1 1AA") from exc


class Area(models.Model):
    """A locality of the council (for reporting, guide prices and the committed-spend forecast)."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


#: Clients whose own record may hold their debt: lacking capacity, dead, or with a safeguarding flag
#: (debt.services.recovery.client_state_holds narrows these; client_hold_state_idx indexes them).
MAY_BE_HELD_BY_OWN_RECORD = Q(capacity=Capacity.LACKS) | Q(date_of_death__isnull=False) | Q(safeguarding_flag=True)


class Client(models.Model):
    """A person receiving, or assessed for, care and support.

    `reference` is the council's social care system reference; `date_of_death` with its source and
    verification is recorded through the client_record_death service.
    """

    reference = models.CharField("social care reference", max_length=20, unique=True)
    nhs_number = models.CharField("NHS number", max_length=10, blank=True, validators=[validate_nhs_number])
    title = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100)
    middle_names = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, validators=[validate_postcode])
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="clients")

    date_of_death = models.DateField(null=True, blank=True)
    death_source = models.CharField(max_length=20, choices=DeathSource.choices, blank=True)
    death_recorded_on = models.DateField(null=True, blank=True)
    death_verified = models.BooleanField(default=False)

    capacity = models.CharField("capacity to manage finances", max_length=10, choices=Capacity.choices, default=Capacity.UNKNOWN)
    capacity_assessed_on = models.DateField(null=True, blank=True)
    capacity_assessor = models.CharField(max_length=200, blank=True)

    communication_needs = models.JSONField(default=list, blank=True, help_text="Codes from CommunicationNeed")
    communication_language = models.CharField("language for letters", max_length=100, blank=True)

    safeguarding_flag = models.BooleanField(default=False)
    safeguarding_note = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "reference"]
        indexes = [
            models.Index(fields=["postcode"], name="client_postcode_idx"),
            models.Index(fields=["nhs_number"], name="client_nhs_idx"),
            models.Index(fields=["last_name", "first_name"], name="client_name_idx"),
            # the few clients whose own record holds their debt (debt.services.recovery.client_state_holds):
            # found without reading every client
            models.Index(fields=["id"], name="client_hold_state_idx",
                         include=["capacity", "capacity_assessed_on", "date_of_death", "safeguarding_flag"],
                         condition=MAY_BE_HELD_BY_OWN_RECORD),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.reference})"

    def clean(self) -> None:
        if self.postcode:
            try:
                self.postcode = normalise_postcode(self.postcode)
            except ValidationError:
                raise ValidationError({"postcode": "Enter a real UK postcode, like NM1 1AA"})
        if self.nhs_number:
            self.nhs_number = nhs.compact(self.nhs_number)
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": "Date of birth must be in the past"})
        if self.date_of_death and self.date_of_birth and self.date_of_death < self.date_of_birth:
            raise ValidationError({"date_of_death": "Date of death must be after the date of birth"})
        unknown = set(self.communication_needs or []) - set(CommunicationNeed.values)
        if unknown:
            raise ValidationError({"communication_needs": f"Unknown communication needs: {', '.join(sorted(unknown))}"})

    @property
    def full_name(self) -> str:
        return " ".join(p for p in [self.title, self.first_name, self.last_name] if p)

    @property
    def is_deceased(self) -> bool:
        return self.date_of_death is not None

    @property
    def address_lines(self) -> list[str]:
        return [p for p in [self.address_line_1, self.address_line_2, self.town, self.county, self.postcode] if p]

    @property
    def communication_need_labels(self) -> list[str]:
        labels = dict(CommunicationNeed.choices)
        return [labels.get(code, code) for code in self.communication_needs or []]

    def age_on(self, on: date) -> int | None:
        if not self.date_of_birth:
            return None
        b = self.date_of_birth
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class Representative(models.Model):
    """Someone with authority to act for a client, or who the council should contact, over dates."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="representatives")
    kind = models.CharField(max_length=20, choices=RepresentativeKind.choices)
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, blank=True)
    relationship = models.CharField(max_length=100, blank=True)
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, validators=[validate_postcode])
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    authority_reference = models.CharField(
        max_length=100, blank=True, help_text="Court order number, LPA registration, DWP appointee reference or grant of probate"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    is_named_contact = models.BooleanField(
        default=False, help_text="The client asked that the council contact this person about their money"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        if self.postcode:
            try:
                self.postcode = normalise_postcode(self.postcode)
            except ValidationError:
                raise ValidationError({"postcode": "Enter a real UK postcode, like NM1 1AA"})
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "End date must be on or after the start date"})

    def is_active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)

    @property
    def address_lines(self) -> list[str]:
        lines = [self.organisation] if self.organisation else []
        return lines + [p for p in [self.address_line_1, self.address_line_2, self.town, self.postcode] if p]


class RecordAccess(models.Model):
    """Who was shown a client's data and when: the client's own pages, a list or search page that
    showed them, an export that held them, an API answer that carried them. `path` is the request's
    path with its query (a list's filters, an export's format), or "subject-access:<id>"."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    path = models.CharField(max_length=300)

    class Meta:
        ordering = ["-viewed_at"]
        verbose_name_plural = "record accesses"

    @property
    def how(self) -> str:
        """How the data was seen, from the path: "API", "Export (CSV)", "Export (XLSX)", "Subject
        access export" or "Page" (a page or a file downloaded from one)."""
        from urllib.parse import parse_qs, urlsplit

        if self.path.startswith("subject-access:"):
            return "Subject access export"
        parts = urlsplit(self.path)
        if parts.path.startswith("/api/"):
            return "API"
        fmt = parse_qs(parts.query).get("format", [""])[0].lower()
        return f"Export ({fmt.upper()})" if fmt in ("csv", "xlsx") else "Page"
