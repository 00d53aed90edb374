"""Access-matrix rows for the working-days page: finance administrators keep the calendar; team
leaders and auditors may look at it."""
from casework.roles import Role

KEEPERS = frozenset({Role.FINANCE_ADMINISTRATOR})
VIEWERS = KEEPERS | {Role.TEAM_LEADER, Role.AUDITOR}

MATRIX: dict = {
    "casework:working_days": (VIEWERS, "GET", "page"),
    "casework:working_day_add": (KEEPERS, "GET", "page"),
    "casework:working_day_withdraw": (KEEPERS, "GET", "page"),
    "casework:working_day_restore": (KEEPERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from datetime import date

    from casework.models import NonWorkingDay, NonWorkingKind

    day, _ = NonWorkingDay.objects.get_or_create(day=date(2026, 12, 24), defaults={
        "name": "Matrix closure day", "kind": NonWorkingKind.CLOSURE, "source": "Access matrix"})
    return {"non_working_day": day}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    if name in ("casework:working_days", "casework:working_day_add"):
        return {}
    return {"pk": objects["non_working_day"].pk}
