"""The national maximum interest rate as officers and letters see it: the rate in force today, the
one sentence a statement uses for the interest of its period, and the email that tells the finance
administrators a half-year has no rate (once a half-year).

A half-year with no national maximum has no figure to print: the words then say the rate for that
half-year has not yet been published and that no interest was added for it, never "at no interest"
or "0%".
"""
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.roles import Role

from .interest import half_year_end, half_year_start
from .models import MONEY_STATES, Agreement, RateMissingNotice
from .reference import RateTable

log = logging.getLogger("careledger.deferred_payments")
ONE_DAY = timedelta(days=1)


def _long(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


def _percent(value) -> str:
    return f"{Decimal(value).normalize():f}%"


def half_years(start: date, end: date) -> list[date]:
    """The first day of every half-year that `start`..`end` touches."""
    found, on = [], half_year_start(start)
    while on <= end:
        found.append(on)
        on = half_year_end(on) + ONE_DAY
    return found


@dataclass(frozen=True)
class RateToday:
    period_start: date
    rate: Decimal | None
    maximum: Decimal | None

    @property
    def period_end(self) -> date:
        return half_year_end(self.period_start)

    @property
    def text(self) -> str:
        period = f"{_long(self.period_start)} to {_long(self.period_end)}"
        if self.maximum is None:
            return (f"Not yet published: the national maximum for {period} has not been entered, so no interest "
                    f"is being added from {_long(self.period_start)}")
        if self.rate == self.maximum:
            return f"{_percent(self.rate)} a year, the national maximum for {period}"
        return f"{_percent(self.rate)} a year (the national maximum for {period} is {_percent(self.maximum)})"


def rate_today(on: date, rates: RateTable | None = None) -> RateToday:
    """The rate the council charges on `on`, and the national maximum for its half-year."""
    rates = rates or RateTable()
    start = half_year_start(on)
    maximum = rates.maxima.get(start)
    if maximum is None:
        return RateToday(start, None, None)
    council = rates.council_rate(on)
    return RateToday(start, maximum if council is None else min(council, maximum), maximum)


def interest_sentence(*, start: date, end: date, applied: list, compounding: str,
                      rates: RateTable | None = None) -> str:
    """The statement's one sentence on interest for `start`..`end`.

    `applied` is the interest postings' rates rows ([from, to, rate %, maximum %], ISO strings)
    that fall in the period. Each rate is named with the dates it applied; each half-year of the
    period without a national maximum is named as not yet published, with no interest added."""
    rates = rates or RateTable()
    parts = []
    for row in sorted(applied, key=lambda r: r[0]):
        a, b = max(date.fromisoformat(row[0]), start), min(date.fromisoformat(row[1]), end)
        if a > b:
            continue
        if parts and parts[-1][0] == row[2] and parts[-1][2] + ONE_DAY == a:
            parts[-1] = (row[2], parts[-1][1], b)
        else:
            parts.append((row[2], a, b))
    charged = [f"{_percent(r)} a year from {_long(a)} to {_long(b)}" for r, a, b in parts]
    missing = [s for s in half_years(start, end) if s not in rates.maxima]
    sentences = []
    if charged:
        sentences.append(f"Interest was charged at {' and '.join(charged)}, compounded {compounding}.")
    for s in missing:
        sentences.append(f"The national maximum interest rate for {_long(max(s, start))} to "
                         f"{_long(min(half_year_end(s), end))} has not yet been published, so no interest was added "
                         f"for those days; it will be added once the rate is published.")
    if not sentences:
        sentences.append("No interest was added in this period.")
    return " ".join(sentences)


def finance_administrators() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name=Role.FINANCE_ADMINISTRATOR).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def rate_missing_notify(period_start: date, *, on: date, agreements: int | None = None) -> RateMissingNotice:
    """Email the finance administrators that the half-year from `period_start` has no national
    maximum rate: once a half-year (a second call sends nothing), retried while unsent."""
    try:
        with transaction.atomic():
            notice, _ = RateMissingNotice.objects.get_or_create(period_start=period_start, defaults={"raised_on": on})
    except IntegrityError:
        notice = RateMissingNotice.objects.get(period_start=period_start)
    if notice.sent_at is not None:
        return notice
    notice = RateMissingNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.sent_at is not None:
        return notice
    recipients = finance_administrators()
    if not recipients:
        notice.error = "No active finance administrator has an email address"
        notice.save(update_fields=["error"])
        log.warning("Rate missing from %s: no finance administrator to tell", period_start)
        return notice
    end = half_year_end(period_start)
    waiting = Agreement.objects.filter(state__in=MONEY_STATES).count() \
        if agreements is None else agreements
    try:
        send_mail(
            subject=f"Deferred payments: national maximum interest rate missing for {_long(period_start)} to "
                    f"{_long(end)}",
            message=(f"No national maximum interest rate is recorded for {_long(period_start)} to {_long(end)}. "
                     f"Interest on deferred payment agreements is not being added for those days "
                     f"({waiting} agreement(s) may be affected), and statements say the rate has not yet been "
                     f"published.\n\nEnter the rate (the OBR market gilt rate for the financial year plus 0.15%, "
                     f"Deferred Payment Regulations 2014 reg 9) with its source in the reference data. The next "
                     f"nightly run then adds the interest."),
            from_email=None, recipient_list=recipients)
    except OSError as error:
        notice.error = f"Not sent: {error}"[:300]
        notice.save(update_fields=["error"])
        log.error("Rate missing from %s: the email could not be sent (%s)", period_start, error)
        return notice
    notice.sent_at, notice.recipients, notice.error = timezone.now(), ", ".join(recipients), ""
    notice.save(update_fields=["sent_at", "recipients", "error"])
    return notice
