"""The one rule that decides who a letter about a client's money goes to.

Every letter and every page that shows "letters go to" calls `letter_recipient`. In order:
1. The client has died: their executor or administrator; with none recorded, "The personal
   representatives of the late <name>" at the client's last address.
2. The client lacks capacity to manage their finances: a Court of Protection deputy (property and
   affairs), else an attorney under a registered LPA for property and financial affairs, else a DWP
   appointee. With none of these, the letter goes to the client and the officer is warned.
3. A client with capacity who asked for a named contact only: that person.
4. Otherwise the client.
Only representatives whose authority is in force on the date count.
"""
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from casework.constants import Capacity, CommunicationNeed, RepresentativeKind
from casework.models import Client, Representative

ESTATE_KINDS = (RepresentativeKind.EXECUTOR, RepresentativeKind.ADMINISTRATOR)
LACKS_CAPACITY_ORDER = (RepresentativeKind.DEPUTY, RepresentativeKind.ATTORNEY, RepresentativeKind.APPOINTEE)


@dataclass(frozen=True)
class Recipient:
    name: str
    address_lines: list[str]
    salutation: str
    reason: str
    representative: Representative | None = None
    warnings: list[str] = field(default_factory=list)
    #: Formats the letter must also come in (large print, Braille ...), from the client's needs.
    formats: list[str] = field(default_factory=list)


def letter_recipient(client: Client, on: date | None = None, representatives=None) -> Recipient:
    """Who a letter about this client's money goes to on a date. Pass `representatives` when they
    are already loaded (a page or a batch) to avoid a query."""
    on = on or timezone.localdate()
    reps = list(representatives if representatives is not None else client.representatives.all())
    active = [r for r in reps if r.is_active_on(on)]
    formats = [label for code, label in CommunicationNeed.choices
               if code in (client.communication_needs or []) and code != CommunicationNeed.NAMED_CONTACT_ONLY]

    def first(kinds) -> Representative | None:
        for kind in kinds:
            for rep in active:
                if rep.kind == kind:
                    return rep
        return None

    def to_rep(rep: Representative, reason: str) -> Recipient:
        return Recipient(name=rep.name, address_lines=rep.address_lines, salutation=f"Dear {rep.name}",
                         reason=reason, representative=rep, formats=formats)

    if client.is_deceased:
        rep = first(ESTATE_KINDS)
        if rep:
            return to_rep(rep, f"{client.full_name} has died: letters go to their {rep.get_kind_display().lower()}")
        name = f"The personal representatives of the late {client.full_name}"
        return Recipient(name=name, address_lines=client.address_lines, salutation="Dear personal representatives",
                         reason="The client has died and no executor or administrator is recorded",
                         warnings=["No executor or administrator is recorded"], formats=formats)
    if client.capacity == Capacity.LACKS:
        rep = first(LACKS_CAPACITY_ORDER)
        if rep:
            return to_rep(rep, f"The client lacks capacity to manage their finances: letters go to their "
                               f"{rep.get_kind_display().split(' (')[0].lower()}")
        return Recipient(name=client.full_name, address_lines=client.address_lines,
                         salutation=f"Dear {client.full_name}", formats=formats,
                         reason="The client lacks capacity but no deputy, attorney or appointee is recorded",
                         warnings=["The client lacks capacity and has no deputy, attorney or appointee recorded"])
    if CommunicationNeed.NAMED_CONTACT_ONLY in (client.communication_needs or []):
        contact = next((r for r in active if r.is_named_contact), None)
        if contact:
            return to_rep(contact, "The client asked that we contact this person about their money")
    return Recipient(name=client.full_name, address_lines=client.address_lines, salutation=f"Dear {client.full_name}",
                     reason="Letters go to the client", formats=formats)
