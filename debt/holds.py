"""Why a client's debt may not be chased today, from every source at once.

Each area registers a source: manual holds (recovery), Breathing Space and repayment plans
(relief), and the rules on capacity, safeguarding and death. The recovery run asks for the holds
of a whole chunk of clients in one call per source; pages ask for one client.

A hold stops the whole of a client's debt unless it names the invoices it covers (`invoice_ids`):
a Breathing Space covers only its moratorium debts, and the others keep moving on the ladder.
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
    #: The invoices held; None: all of the client's debt.
    invoice_ids: frozenset[int] | None = None
    #: The Breathing Space behind the hold, if one is (its suppressed actions are logged against it).
    moratorium_id: int | None = None

    def covers(self, invoice_id: int) -> bool:
        return self.invoice_ids is None or invoice_id in self.invoice_ids


#: source(client_ids, on, kinds) -> {client_id: [Hold, ...]} for the clients that have holds from it;
#: client_ids None: every client that has one (the decisions queue's question). `kinds` (None: all)
#: lets a source skip what is not wanted; the registry drops any other kind it returns.
HoldSource = Callable[[Iterable[int] | None, date, frozenset[str] | None], dict[int, list[Hold]]]
#: Each registered source, in the order registered -> the hold kinds it can give (None: any kind),
#: so that a question about some kinds asks only the sources that can answer it.
SOURCE_KINDS: dict[HoldSource, frozenset[str] | None] = {}


def register_hold_source(source: HoldSource, kinds: Iterable[str] | None = None) -> HoldSource:
    SOURCE_KINDS[source] = frozenset(kinds) if kinds is not None else None
    return source


def of_clients(queryset, client_ids: Iterable[int] | None, field: str = "client_id"):
    """A source's rows for the clients asked about, or for every client when none are named."""
    return queryset if client_ids is None else queryset.filter(**{f"{field}__in": list(client_ids)})


def holds_for_clients(client_ids: Iterable[int] | None, on: date,
                      kinds: Iterable[str] | None = None) -> dict[int, list[Hold]]:
    """Client id -> the holds on that date, of the given kinds only when `kinds` is given; for
    every client with such a hold when `client_ids` is None."""
    ids = None if client_ids is None else list(client_ids)
    wanted = frozenset(kinds) if kinds is not None else None
    result: dict[int, list[Hold]] = {}
    for source, gives in SOURCE_KINDS.items():
        if wanted is not None and gives is not None and not gives & wanted:
            continue
        for client_id, holds in source(ids, on, wanted).items():
            holds = [h for h in holds if wanted is None or h.kind in wanted]
            if holds:
                result.setdefault(client_id, []).extend(holds)
    return result


def holds_for(client_id: int, on: date) -> list[Hold]:
    return holds_for_clients([client_id], on).get(client_id, [])
