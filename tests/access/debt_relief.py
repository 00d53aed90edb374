"""Access-matrix rows for the Breathing Space and repayment plan pages of the debt app."""
from datetime import date
from decimal import Decimal

from casework.roles import READERS, Role
from debt.constants import PaymentMethod
from debt.models import Moratorium, RepaymentPlan

from ..factories import UserFactory

WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})

MATRIX: dict = {
    "debt:moratorium_list": (READERS, "GET", "page"),
    "debt:moratorium_create": (WRITERS, "GET", "page"),
    "debt:moratorium_detail": (READERS, "GET", "page"),
    "debt:moratorium_end": (WRITERS, "GET", "page"),
    "debt:moratorium_review": (WRITERS, "GET", "page"),
    "debt:moratorium_treatment": (WRITERS, "GET", "page"),
    "debt:plan_list": (READERS, "GET", "page"),
    "debt:plan_create": (WRITERS, "GET", "page"),
    "debt:plan_detail": (READERS, "GET", "page"),
    "debt:plan_cancel": (WRITERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    client = base["client"]
    actor = UserFactory(username="relief-matrix")
    moratorium = Moratorium.objects.create(
        client=client, register_entry_date=date(2026, 5, 14), start_date=date(2026, 5, 15),
        expected_end=date(2026, 7, 14), review_due_on=date(2026, 6, 3), adviser_name="A Adviser",
        adviser_organisation="StepChange", insolvency_reference="BS-MATRIX", created_by=actor)
    plan = RepaymentPlan.objects.create(client=client, total=Decimal("100.00"), instalment_amount=Decimal("25.00"),
                                        start_date=date(2026, 6, 1), method=PaymentMethod.BANK_TRANSFER,
                                        agreed_by=actor)
    return {"moratorium": moratorium, "plan": plan}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.removeprefix("debt:")
    if short.startswith("moratorium_") and short not in ("moratorium_list", "moratorium_create"):
        return {"pk": objects["moratorium"].pk}
    if short in ("plan_detail", "plan_cancel"):
        return {"pk": objects["plan"].pk}
    if short in ("moratorium_create", "plan_create"):
        return {"client_pk": objects["client"].pk}
    return {}
