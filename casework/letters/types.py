"""The registry of letter types: what each letter is, the fields its wording may use, and where
their values come from.

A letter type is data plus two small functions: `builder` (the values of its own fields for one
client on one date) and `sample` (made-up values for the template editor's preview). Every type
also offers the common fields below, filled from the recipient, the client and the council, so
the wording of any letter can greet the right person.

Other apps register their types with `register_letter_type` when their module is imported
(casework registers the account statement in casework/letters/statement.py).
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from casework.correspondence import Recipient, letter_recipient
from casework.models import Client
from casework.services.errors import DomainError

#: Fields every letter type offers, filled by `common_context`.
COMMON_FIELDS: dict[str, str] = {
    "recipient_name": "Who the letter is addressed to (the client, or the person acting for them)",
    "salutation": "The greeting, such as 'Dear Mrs Smith'",
    "client_name": "The client's full name",
    "client_reference": "The client's social care reference",
    "letter_date": "The date of the letter, such as 25 November 2026",
    "council_name": "The council's name",
    "council_phone": "The team's phone number",
    "council_email": "The team's email address",
}


class UnknownLetterType(DomainError, KeyError):
    """No letter type is registered with this code."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


def long_date(on: date) -> str:
    """25 November 2026 (no leading zero, as in a letter)."""
    return f"{on.day} {on:%B %Y}"


@dataclass(frozen=True)
class LetterType:
    """One kind of letter.

    `fields` maps each field the wording may use to what it holds (shown to the person editing
    the wording); the common fields are added to it. `block_fields` hold HTML built by code (a
    table) and must sit on a line of their own; every other value is escaped. `asks_for_payment`
    is a bool or a function of the context: when true the letter ends with a remittance slip,
    which reads `amount_due` and `payment_reference` from the context. Every letter that asks for
    money prints the shared "How to pay" section (casework/letters/how_to_pay.html: the council's
    bank details and its other ways to pay, from the council details) with `payment_reference`;
    `shows_how_to_pay` prints it on a letter that asks for money without a slip (a repayment plan's
    instalments).
    """

    code: str
    name: str
    description: str
    fields: dict[str, str]
    builder: Callable[..., dict[str, Any]]
    sample: Callable[[], dict[str, Any]]
    default_subject: str
    default_body: str
    block_fields: frozenset[str] = frozenset()
    asks_for_payment: bool | Callable[[dict[str, Any]], bool] = False
    shows_how_to_pay: bool | Callable[[dict[str, Any]], bool] = False
    #: Short code in "Our reference" (SC100001/AS/20261125); defaults to the code's initials.
    reference_code: str = ""
    #: Templates printed after the letter, each from a new page (forms and information sheets the
    #: letter says are enclosed). Each is rendered with the letter's page context.
    enclosures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {**COMMON_FIELDS, **self.fields})
        object.__setattr__(self, "block_fields", frozenset(self.block_fields))
        if not self.reference_code:
            object.__setattr__(self, "reference_code", "".join(w[0] for w in self.code.split("_")).upper())
        unknown = self.block_fields - set(self.fields)
        if unknown:
            raise ValueError(f"Block fields {sorted(unknown)} are not fields of {self.code}")

    def build_context(self, client: Client, on: date, *, recipient: Recipient | None = None,
                      representatives=None, **kwargs) -> dict[str, Any]:
        """The values of every field for this client on this date. Pass what is already loaded
        (`recipient` or `representatives`, and the type's own keyword arguments such as
        `statement=`) so that a batch run makes no queries here."""
        if recipient is None:
            recipient = letter_recipient(client, on=on, representatives=representatives)
        context = common_context(client, on, recipient)
        context.update(self.builder(client, on, recipient=recipient, **kwargs))
        return context

    def sample_context(self) -> dict[str, Any]:
        """Made-up values for previews: no database access."""
        context = {
            "recipient_name": "Mrs Margaret Sample",
            "salutation": "Dear Mrs Margaret Sample",
            "client_name": "Mrs Margaret Sample",
            "client_reference": "SC999999",
            "letter_date": long_date(date(2026, 11, 25)),
            **council_context(),
        }
        context.update(self.sample())
        return context

    def wants_payment(self, context: dict[str, Any]) -> bool:
        ask = self.asks_for_payment
        return bool(ask(context) if callable(ask) else ask)

    def wants_how_to_pay(self, context: dict[str, Any]) -> bool:
        """Whether the letter prints "How to pay": every letter that asks for money."""
        show = self.shows_how_to_pay
        return self.wants_payment(context) or bool(show(context) if callable(show) else show)


def council_context() -> dict[str, str]:
    from casework.models.council import current_council

    council = current_council()
    return {"council_name": council.name, "council_phone": council.phone, "council_email": council.email}


def common_context(client: Client, on: date, recipient: Recipient) -> dict[str, Any]:
    return {
        "recipient_name": recipient.name,
        "salutation": recipient.salutation,
        "client_name": client.full_name,
        "client_reference": client.reference,
        "letter_date": long_date(on),
        **council_context(),
    }


_REGISTRY: dict[str, LetterType] = {}


def register_letter_type(letter_type: LetterType) -> LetterType:
    """Add a letter type. Registering the same code twice is a programming error."""
    existing = _REGISTRY.get(letter_type.code)
    if existing is not None and existing is not letter_type:
        raise ValueError(f"A letter type {letter_type.code!r} is already registered")
    _REGISTRY[letter_type.code] = letter_type
    return letter_type


def get_letter_type(code: str) -> LetterType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise UnknownLetterType(f"There is no letter type {code!r}", field="letter_type") from None


def letter_types() -> list[LetterType]:
    """Every registered type, by name."""
    return sorted(_REGISTRY.values(), key=lambda t: t.name)
