"""Access-matrix rows for the write-off, limitation and aged debt pages (debt/writeoffs_urls.py)."""
from casework.roles import CASEWORKERS, READERS, Role

WRITEOFF_REQUESTERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})

MATRIX: dict = {
    "debt:writeoff_create": (WRITEOFF_REQUESTERS, "GET", "page"),
    "debt:writeoff_list": (READERS, "GET", "page"),
    "debt:writeoff_detail": (READERS, "GET", "page"),
    # Admitted to the page; whether they may decide comes from WriteOffLevel data (else redirected with why).
    "debt:writeoff_approve": (CASEWORKERS, "GET", "page"),
    "debt:writeoff_reject": (CASEWORKERS, "GET", "page"),
    "debt:limitation_list": (READERS, "GET", "page"),
    "debt:aged_debt": (READERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from decimal import Decimal

    from debt.models import WriteOffLine, WriteOffReason, WriteOffRequest
    from tests.factories import UserFactory
    from tests.factories_debt import InvoiceFactory

    client = base["client"]
    invoice = InvoiceFactory(client=client)
    request = WriteOffRequest.objects.create(client=client, amount=Decimal("10.00"), reason=WriteOffReason.HARDSHIP,
                                             requested_by=UserFactory())
    WriteOffLine.objects.create(request=request, invoice=invoice, amount=Decimal("10.00"))
    return {"writeoff": request}


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("debt:")
    if short == "writeoff_create":
        return {"client_pk": objects["client"].pk}
    if short in ("writeoff_detail", "writeoff_approve", "writeoff_reject"):
        return {"pk": objects["writeoff"].pk}
    if short in ("writeoff_list", "limitation_list", "aged_debt"):
        return {}
    return None
