"""Access-matrix rows for the recovery pages (debt/recovery_urls.py)."""
from datetime import date

from casework.roles import READERS, Role
from debt.constants import HoldKind
from debt.models import DebtHold

from ..factories import UserFactory

RECOVERY_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})

MATRIX: dict = {
    "debt:recovery_list": (READERS, "GET", "page"),
    "debt:recovery_detail": (READERS, "GET", "page"),
    "debt:hold_create": (RECOVERY_WRITERS, "GET", "page"),
    "debt:hold_release": (RECOVERY_WRITERS, "POST", "page"),
    "debt:ladder": (READERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from debt.services.recovery import ensure_default_ladder

    ensure_default_ladder()
    hold = DebtHold.objects.create(client=base["client"], kind=HoldKind.DISPUTE, note="Checking the hours",
                                   placed_by=UserFactory(username="recovery-hold-placer"),
                                   placed_on=date(2026, 1, 1), review_date=date(2026, 2, 1))
    return {"debt_hold": hold}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.removeprefix("debt:")
    return {
        "recovery_detail": {"client_pk": objects["client"].pk},
        "hold_create": {"client_pk": objects["client"].pk},
        "hold_release": {"pk": objects["debt_hold"].pk},
    }.get(short, {})
