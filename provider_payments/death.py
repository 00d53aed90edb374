"""What a client's death does to the care commissioned for them, as a handler for casework.deaths.

Care ends on the date of death, or, where the DeathNoticePeriod for the service gives a notice
period (care homes), that many days after it (services/notice.py). Three kinds of consequence,
each confirmed by the officer:
1. each care package still running past that day ends on it (package_transition, or
   package_change_end for a package already ended later), and the commissioned cost (and so the
   variance) of the provider's unpaid claims it touches is worked out again (claims_recost);
2. lines of claims not yet approved for care after that day are rejected (claim_line_override),
   so they are never paid and carry no payable hours; new claims are rejected by validation for
   those days;
3. lines already paid (or approved, so paid by the next run) for care after that day become an
   overpayment per provider (overpayments_after_death), recovered by offset or invoice once a team
   leader approves it.

Reversal (the death was recorded in error) gives each package its old status and end date back
(package_reinstate, package_change_end) and its claims their commissioned cost, restores the
lines' results and payable hours, and cancels the overpayment while it is still only identified.
"""
from datetime import date
from decimal import Decimal

from django.db import transaction

from casework.money import ZERO, format_pounds, to_pennies
from casework.services import DomainError

from .constants import ClaimStatus, LineResult, OverpaymentStatus, PackageStatus
from .models import CarePackage, ClaimLine, Overpayment, Provider
from .services.claims import claim_line_override
from .services.notice import NoticeBook, notice_text
from .services.overpayments import lines_after_death, overpayment_transition, overpayments_after_death
from .services.packages import package_change_end, package_reinstate, package_transition
from .services.payable import claims_recost

KIND = "provider_payments.end_care"
END_PACKAGE, REJECT_LINES, OVERPAYMENT = "end_package", "reject_lines", "overpayment"
#: Lines recovered as an overpayment: paid, or approved and so paid by the next run (its offset
#: then takes the overpayment back from that payment).
OWED_BACK = [ClaimStatus.APPROVED, ClaimStatus.PAID]


def _long(on: date | None) -> str:
    return f"{on:%-d %B %Y}" if on else "no end date"


def _iso(on: date | None) -> str | None:
    return on.isoformat() if on else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _packages_to_end(client, date_of_death: date, book: NoticeBook) -> list[tuple[CarePackage, date, int]]:
    rows = []
    for package in (CarePackage.objects.filter(client=client).select_related("service_type", "provider")
                    .order_by("start_date", "pk")):
        days = book.days(package.service_type, date_of_death)
        ends = book.care_ends(package.service_type, date_of_death)
        if package.start_date > ends:
            continue  # starts after care ended: nothing of it is commissioned
        if package.end_date is not None and package.end_date <= ends:
            continue  # ends by then anyway
        rows.append((package, ends, days))
    return rows


def propose(client, date_of_death: date) -> list:
    from casework.deaths.registry import Proposal

    book = NoticeBook()
    proposals = []
    for package, ends, days in _packages_to_end(client, date_of_death, book):
        proposals.append(Proposal(
            summary=(f"End care package {package.reference} ({package.service_type.name} from {package.provider.name}) "
                     f"on {_long(ends)}: {notice_text(days, date_of_death)}")[:500],
            object_ref=package.reference,
            payload={"action": END_PACKAGE, "package": package.pk, "end_date": ends.isoformat(), "notice_days": days}))
    unpaid = lines_after_death(client, [ClaimStatus.VALIDATED], date_of_death=date_of_death)
    for lines in unpaid.values():
        by_claim: dict[int, list[ClaimLine]] = {}
        for line in lines:
            by_claim.setdefault(line.claim_id, []).append(line)
        for claim_lines in by_claim.values():
            claim = claim_lines[0].claim
            total = to_pennies(sum((l.payable_amount for l in claim_lines), ZERO))
            proposals.append(Proposal(
                summary=(f"Reject {len(claim_lines)} line(s) ({format_pounds(total)}) of claim {claim.reference} from "
                         f"{claim.provider.name}, not yet approved: care after it ended")[:500],
                object_ref=claim.reference,
                payload={"action": REJECT_LINES, "claim": claim.pk, "lines": [l.pk for l in claim_lines]}))
    paid = lines_after_death(client, OWED_BACK, date_of_death=date_of_death)
    for provider_id, lines in paid.items():
        total = to_pennies(sum((l.payable_amount for l in lines), ZERO))
        if total <= 0:
            continue
        provider = lines[0].claim.provider
        paid_word = "paid" if all(l.claim.status == ClaimStatus.PAID for l in lines) else "paid or approved"
        proposals.append(Proposal(
            summary=(f"Recover {format_pounds(total)} {paid_word} to {provider.name} for care after it ended "
                     f"({len(lines)} claim line(s) from {_long(lines[0].service_date)}) as an overpayment")[:500],
            object_ref=provider.supplier_number,
            payload={"action": OVERPAYMENT, "provider": provider_id, "lines": [l.pk for l in lines],
                     "amount": str(total)}))
    return proposals


# --- apply ------------------------------------------------------------------------------------------


def _end_package(client, date_of_death: date, payload: dict, actor) -> dict:
    package = CarePackage.objects.get(pk=payload["package"])
    ends = date.fromisoformat(payload["end_date"])
    if package.status == PackageStatus.ENDED and package.end_date and package.end_date <= ends:
        raise DomainError(f"Care package {package.reference} has already ended on {_long(package.end_date)}")
    result = {"action": END_PACKAGE, "package": package.pk, "previous_status": package.status,
              "previous_end_date": _iso(package.end_date), "end_date": ends.isoformat()}
    reason = f"Client died on {_long(date_of_death)}: care ends {_long(ends)}"
    if package.status == PackageStatus.ENDED:
        package_change_end(package=package, end_date=ends, actor=actor, reason=reason)
    else:
        package_transition(package=package, to_status=PackageStatus.ENDED, actor=actor, end_date=ends, reason=reason)
    result["claims"] = claims_recost(provider_id=package.provider_id, start=ends, end=package_end(result),
                                     actor=actor, reason=reason)
    return result


def package_end(result: dict) -> date | None:
    """The last day the package ran to before the death ended it (None: open-ended)."""
    return _day(result["previous_end_date"])


def _reject_lines(client, date_of_death: date, payload: dict, actor) -> dict:
    lines = list(ClaimLine.objects.filter(pk__in=payload["lines"]).select_related("claim").order_by("pk"))
    claim = lines[0].claim if lines else None
    if claim is None:
        raise DomainError("The claim lines for care after the death no longer exist")
    if claim.status != ClaimStatus.VALIDATED:
        raise DomainError(f"Claim {claim.reference} is {claim.get_status_display().lower()}, no longer waiting for "
                          "approval: its lines cannot be rejected here")
    todo = [l for l in lines if l.result != LineResult.REJECTED]
    if not todo:
        raise DomainError(f"The lines of claim {claim.reference} for care after the death are already rejected")
    previous = [{"line": l.pk, "result": l.result, "payable_amount": str(l.payable_amount),
                 "payable_units": str(l.payable_units)} for l in todo]
    for line in todo:
        claim_line_override(line=line, result=LineResult.REJECTED, actor=actor,
                            note=f"Care after it ended on the client's death on {_long(date_of_death)}")
    return {"action": REJECT_LINES, "claim": claim.pk, "lines": previous}


def _overpayment(client, date_of_death: date, payload: dict, actor) -> dict:
    client.refresh_from_db()
    if client.date_of_death != date_of_death:
        raise DomainError(f"The client's record does not show a death on {_long(date_of_death)}: record it first")
    provider = Provider.objects.get(pk=payload["provider"])
    made = overpayments_after_death(client=client, actor=actor, provider=provider, statuses=OWED_BACK)
    if not made:
        raise DomainError(f"Nothing paid to {provider.name} for care after the death is left to recover: an "
                          "overpayment already covers it")
    return {"action": OVERPAYMENT, "provider": provider.pk, "overpayments": [o.pk for o in made]}


APPLY = {END_PACKAGE: _end_package, REJECT_LINES: _reject_lines, OVERPAYMENT: _overpayment}


@transaction.atomic
def apply(client, date_of_death: date, payload: dict, actor) -> dict:
    return APPLY[payload["action"]](client, date_of_death, payload, actor)


# --- reverse ----------------------------------------------------------------------------------------


def _restore_package(result: dict, reason: str, actor) -> None:
    package = CarePackage.objects.get(pk=result["package"])
    if package.status != PackageStatus.ENDED or _iso(package.end_date) != result["end_date"]:
        raise DomainError(f"Care package {package.reference} has changed since it was ended on the death (now "
                          f"{package.get_status_display().lower()}, {_long(package.end_date)}): change it by hand")
    previous_end = _day(result["previous_end_date"])
    if result["previous_status"] == PackageStatus.ENDED:
        package_change_end(package=package, end_date=previous_end, actor=actor, reason=reason)
    else:
        package_reinstate(package=package, to_status=result["previous_status"], end_date=previous_end, actor=actor,
                          reason=reason)
    claims_recost(provider_id=package.provider_id, start=date.fromisoformat(result["end_date"]), end=previous_end,
                  actor=actor, reason=reason, death_in_error_of=package.client_id)


def _restore_lines(result: dict, reason: str, actor) -> None:
    for row in result["lines"]:
        line = ClaimLine.objects.select_related("claim").get(pk=row["line"])
        if line.claim.status != ClaimStatus.VALIDATED:
            raise DomainError(f"Claim {line.claim.reference} is {line.claim.get_status_display().lower()}: its lines "
                              "can no longer be changed; settle it by hand")
        claim_line_override(line=line, result=row["result"], actor=actor, note=reason,
                            payable_amount=to_pennies(row["payable_amount"]), payable_units=_units(row, line))


def _units(row: dict, line: ClaimLine) -> Decimal:
    """The payable hours the line had before the death rejected it (recorded since rejected lines
    carry none; before that, the hours its amount paid at its rate)."""
    if row.get("payable_units") is not None:
        return Decimal(row["payable_units"])
    if not line.payable_rate:
        return line.payable_units
    hours = Decimal(row["payable_amount"]) / line.payable_rate
    return hours.quantize(Decimal("0.0001"))


def _cancel_overpayments(result: dict, reason: str, actor) -> None:
    for overpayment in Overpayment.objects.filter(pk__in=result["overpayments"]).order_by("pk"):
        if overpayment.status == OverpaymentStatus.CANCELLED:
            continue
        if overpayment.status != OverpaymentStatus.IDENTIFIED:
            raise DomainError(f"Overpayment {overpayment.reference} is already "
                              f"{overpayment.get_status_display().lower()}: it cannot be cancelled; repay the "
                              "provider what was recovered by hand")
        overpayment_transition(overpayment=overpayment, to_status=OverpaymentStatus.CANCELLED, actor=actor,
                               reason=reason)


@transaction.atomic
def reverse(client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    reason = f"Death on {_long(date_of_death)} recorded in error"
    {END_PACKAGE: _restore_package, REJECT_LINES: _restore_lines, OVERPAYMENT: _cancel_overpayments}[
        result["action"]](result, reason, actor)


def register() -> None:
    from casework.deaths.registry import register_death_handler

    register_death_handler(kind=KIND, label="Care packages and provider payments", propose=propose, apply=apply,
                           reverse=reverse, order=50)
