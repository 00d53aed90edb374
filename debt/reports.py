"""What invoices still owe after payments and write-offs, and the aged debt report.

Everything here is a database aggregate: sums come from correlated subqueries (so an invoice with
several allocations and write-off lines is not counted twice by a join), age bands from Case/When
on the days between the due date and the report date, groups from GROUP BY.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from casework.constants import CaseStatus, CaseType
from casework.models import Case as CaseRecord
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, to_pennies

from .models import Invoice, InvoiceLine, Payment
from .selectors import invoice_written_off, with_outstanding  # noqa: F401 (re-exported)

_MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
#: (label, lowest days past due, highest days past due); None: open-ended.
BANDS = [("Not yet due", None, -1), ("0 to 30 days", 0, 30), ("31 to 60 days", 31, 60),
         ("61 to 90 days", 61, 90), ("91 to 180 days", 91, 180), ("181 to 365 days", 181, 365),
         ("Over 365 days", 366, None)]
NO_CASE = "No case"


def _band_case(due_path: str, as_at: date) -> Case:
    whens = []
    for label, low, high in BANDS:
        # days past due = as_at − due, so "days ≥ low" is "due ≤ as_at − low".
        condition = Q()
        if low is not None:
            condition &= Q(**{f"{due_path}__lte": as_at - timedelta(days=low)})
        if high is not None:
            condition &= Q(**{f"{due_path}__gte": as_at - timedelta(days=high)})
        whens.append(When(condition, then=Value(label)))
    return Case(*whens, output_field=CharField())


def _team_of_client(client_path: str) -> Coalesce:
    cases = (CaseRecord.objects.filter(client=OuterRef(client_path), case_type=CaseType.DEBT_RECOVERY)
             .exclude(status=CaseStatus.CLOSED).order_by("-opened_at", "-id").values("team__name")[:1])
    return Coalesce(Subquery(cases, output_field=CharField()), Value(NO_CASE), output_field=CharField())


@dataclass
class AgedRow:
    group: str
    bands: dict[str, Decimal] = field(default_factory=lambda: {label: ZERO for label, _, _ in BANDS})

    @property
    def total(self) -> Decimal:
        return sum(self.bands.values(), ZERO)

    @property
    def band_list(self) -> list[Decimal]:
        return [self.bands[label] for label, _, _ in BANDS]


def _rows(values) -> list[AgedRow]:
    rows: dict[str, AgedRow] = {}
    for group, band, amount in values:
        row = rows.setdefault(group, AgedRow(group))
        row.bands[band] = to_pennies(amount)
    return sorted(rows.values(), key=lambda r: r.group)


def owing_as_at(as_at: date) -> QuerySet:
    """Invoices (not credit notes) issued by `as_at` with something still owing at that date."""
    invoices = Invoice.objects.filter(total__gt=0, issue_date__lte=as_at)
    return with_outstanding(invoices, as_at).filter(outstanding__gt=0)


def aged_by_team(as_at: date) -> list[AgedRow]:
    values = (owing_as_at(as_at).annotate(group=_team_of_client("client"), band=_band_case("due_date", as_at))
              .values("group", "band").annotate(amount=Sum("outstanding")).order_by()
              .values_list("group", "band", "amount"))
    return _rows(values)


def aged_by_service(as_at: date) -> list[AgedRow]:
    """An invoice's outstanding amount shared between its lines' services in proportion to the
    line amounts (a part payment is not tied to a line). Rounded per cell, so a column can differ
    from the team table's by a penny."""
    owing = owing_as_at(as_at).filter(pk=OuterRef("invoice"))
    share = ExpressionWrapper(Subquery(owing.values("outstanding")[:1], output_field=_MONEY) * F("amount")
                              / F("invoice__total"), output_field=_MONEY)
    values = (InvoiceLine.objects.filter(invoice__in=owing_as_at(as_at).values("pk"))
              .annotate(group=F("service__name"), band=_band_case("invoice__due_date", as_at), share=share)
              .values("group", "band").annotate(amount=Sum("share")).order_by()
              .values_list("group", "band", "amount"))
    return _rows(values)


def total_outstanding(as_at: date) -> Decimal:
    return to_pennies(owing_as_at(as_at).aggregate(s=Sum("outstanding"))["s"] or ZERO)


@dataclass
class Collection:
    start: date
    end: date
    opening: Decimal
    billed: Decimal
    collected: Decimal

    @property
    def rate(self) -> Decimal | None:
        """collected ÷ (opening outstanding + billed in the period), as a percentage to 1 place."""
        base = self.opening + self.billed
        if base <= 0:
            return None
        return (self.collected * 100 / base).quantize(Decimal("0.1"))


def collection(start: date, end: date) -> Collection:
    """Payments received in the period (reversed payments left out) against what was owed."""
    collected = (Payment.objects.filter(received_on__range=(start, end), ledger_entry__reversed_by__isnull=True)
                 .aggregate(s=Sum("amount"))["s"])
    billed = Invoice.objects.filter(issue_date__range=(start, end)).aggregate(s=Sum("total"))["s"]
    return Collection(start, end, total_outstanding(start - timedelta(days=1)), to_pennies(billed or ZERO),
                      to_pennies(collected or ZERO))
