"""Access-matrix rows for approvals (requests above their maker's limit) and the separation report."""
from casework.roles import CASEWORKERS, READERS, Role

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "casework:control_request_list": (READERS, "GET", "page"),
    "casework:control_request_detail": (READERS, "GET", "page"),
    "casework:control_request_approve": (CASEWORKERS, "GET", "page"),
    "casework:control_request_reject": (CASEWORKERS, "GET", "page"),
    "casework:control_request_withdraw": (CASEWORKERS, "GET", "page"),
    "casework:separation_report": (frozenset({Role.AUDITOR, Role.TEAM_LEADER}), "GET", "page"),
    "api:controlrequest-list": (API_READERS, "GET", "api"),
    "api:controlrequest-detail": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    from decimal import Decimal

    from casework.services.ledger import ledger_post_by_hand
    from tests.factories import UserFactory

    officer = UserFactory(username="matrix-control-maker", roles=[Role.INCOME_OFFICER])
    request = ledger_post_by_hand(account=base["entry"].account, kind="credit", amount=Decimal("10.00"),
                                  effective_date=base["entry"].effective_date, reference="MATRIX-CR",
                                  description="Goodwill credit", reason="Matrix", actor=officer)
    return {"control_request": request}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    if name.endswith(("_list", "-list")) or name == "casework:separation_report":
        return {}
    return {"pk": objects["control_request"].pk}
