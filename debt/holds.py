"""Why a client's debt may not be chased today, from every source at once.

Each area registers a source: manual holds (recovery), Breathing Space and repayment plans
(relief), and the rules on capacity, safeguarding and death. The recovery run asks for the holds
of a whole chunk of clients in one call per source; pages ask for one client.
"""
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable


@dataclass(frozen=True)
class Hold:
    kind: str  # a debt.constants.HoldKind value
    reason: str
    since: date | None = None
    review_date: date | None = None
    placed_by: str = ""


#: source(client_ids, on) -> {client_id: [Hold, ...]} for the clients that have holds from it.
HoldSource = Callable[[Iterable[int], date], dict[int, list[Hold]]]
HOLD_SOURCES: list[HoldSource] = []


def register_hold_source(source: HoldSource) -> HoldSource:
    HOLD_SOURCES.append(source)
    return source


def holds_for_clients(client_ids: Iterable[int], on: date) -> dict[int, list[Hold]]:
    ids = list(client_ids)
    result: dict[int, list[Hold]] = {}
    for source in HOLD_SOURCES:
        for client_id, holds in source(ids, on).items():
            result.setdefault(client_id, []).extend(holds)
    return result


def holds_for(client_id: int, on: date) -> list[Hold]:
    return holds_for_clients([client_id], on).get(client_id, [])
