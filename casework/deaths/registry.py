"""What each app does when a client dies, registered from its AppConfig.ready().

An app registers a handler with three functions:

    propose(client, date_of_death) -> list[Proposal]
        What would change (nothing is written). Called when a death is recorded.
    apply(client, date_of_death, payload, actor) -> dict
        Do one proposal (inside the caller's transaction); return a JSON-safe result that
        describes what was done, enough to undo it.
    reverse(client, date_of_death, payload, result, actor) -> None
        Undo an applied proposal when the death was recorded in error: reversing ledger
        entries and recorded state changes, never deletions.

A handler whose consequences reduce what a client owes the council (a credit note for care after
the death, charges stopped with credits) also gives

    credit(payload) -> Decimal
        How much applying the proposal takes off what the client owes (0 for nothing).

Such a consequence is a money control (ControlAction.DEATH_CREDIT): casework.deaths.services lets
it be confirmed alone only when the death is verified; otherwise someone other than who recorded
the death, with a DEATH_CREDIT approval limit, confirms it. Either way a MoneyAction records it.

Raise casework.services.errors.DomainError from apply/reverse with a message an officer can act on.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable


@dataclass(frozen=True)
class Proposal:
    summary: str                      # plain English for the officer, e.g. "End care package PKG-000012 on 3 May 2026"
    object_ref: str = ""              # the record it touches, e.g. "PKG-000012"
    payload: dict = field(default_factory=dict)   # JSON-safe; handed back to apply and reverse


@dataclass(frozen=True)
class DeathHandler:
    kind: str                         # unique, "<app_label>.<what>", e.g. "provider_payments.end_packages"
    app_label: str
    label: str                        # heading shown on the confirmation page
    propose: Callable
    apply: Callable
    reverse: Callable
    order: int = 50
    credit: Callable[[dict], Decimal] | None = None   # what applying takes off what the client owes


HANDLERS: dict[str, DeathHandler] = {}


def register_death_handler(*, kind: str, label: str, propose: Callable, apply: Callable, reverse: Callable,
                           order: int = 50, credit: Callable[[dict], Decimal] | None = None) -> None:
    HANDLERS[kind] = DeathHandler(kind=kind, app_label=kind.split(".", 1)[0], label=label, propose=propose,
                                  apply=apply, reverse=reverse, order=order, credit=credit)


def handlers() -> list[DeathHandler]:
    return sorted(HANDLERS.values(), key=lambda h: (h.order, h.kind))


def propose_all(client, date_of_death: date) -> list[tuple[DeathHandler, Proposal]]:
    return [(h, p) for h in handlers() for p in h.propose(client, date_of_death)]
