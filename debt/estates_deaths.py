"""What debt does when a client dies: propose opening an estate case when the client owes money.

Registered with casework's death registry from debt/estates_apps.py as "debt.open_estate_case".
"""
from datetime import date

from casework.deaths.registry import Proposal
from casework.models import Client
from casework.money import format_pounds

from .estates import balance_owed
from .models import EstateCase, EstateOutcome, EstateStage

KIND = "debt.open_estate_case"
LABEL = "Estate case"


def propose(client: Client, date_of_death: date) -> list[Proposal]:
    """Open an estate case when the client owes money on invoices and has no open estate case."""
    if EstateCase.objects.open().filter(case__client=client).exists():
        return []
    owed = balance_owed(client)
    if owed <= 0:
        return []
    return [Proposal(summary=f"Open an estate case: {format_pounds(owed)} owed", object_ref=client.reference,
                     payload={"owed": str(owed)})]


def apply(client: Client, date_of_death: date, payload: dict, actor) -> dict:
    from .services.estates import estate_open

    estate = estate_open(client=client, actor=actor, date_of_death=date_of_death)
    return {"estate_case": estate.pk, "case": estate.case_id, "reference": estate.reference}


def reverse(client: Client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    """Close the estate case this death opened, as "death recorded in error". A case already closed
    with another outcome is refused by the transition service, with a message naming it."""
    from .services.estates import estate_transition

    estate = EstateCase.objects.filter(pk=result.get("estate_case"), case__client=client).first()
    if estate is None:
        return
    estate_transition(estate=estate, to_stage=EstateStage.CLOSED, outcome=EstateOutcome.RECORDED_IN_ERROR,
                      note="death recorded in error", actor=actor)
