"""Access-matrix rows for the payments pages (debt/payments_urls.py)."""
from casework.roles import READERS, Role

PAYMENT_RECORDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
PAYMENT_REVERSERS = frozenset({Role.TEAM_LEADER})

MATRIX: dict = {
    "debt:payment_create": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:payment_list": (READERS, "GET", "page"),
    "debt:payment_detail": (READERS, "GET", "page"),
    "debt:payment_reverse": (PAYMENT_REVERSERS, "GET", "page"),
    "debt:payment_import": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:suspense_list": (READERS, "GET", "page"),
    "debt:suspense_match": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:suspense_return": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:refund_create": (PAYMENT_REVERSERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from tests.factories_debt import InvoiceFactory, PaymentFactory, SuspensePaymentFactory

    client = base["client"]
    return {
        "payment_invoice": InvoiceFactory(client=client),
        "payment": PaymentFactory(client=client),
        "suspense": SuspensePaymentFactory(),
    }


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("debt:")
    if short in ("payment_create", "refund_create"):
        return {"client_pk": objects["client"].pk}
    if short in ("payment_detail", "payment_reverse"):
        return {"pk": objects["payment"].pk}
    if short in ("suspense_match", "suspense_return"):
        return {"pk": objects["suspense"].pk}
    if short in ("payment_list", "payment_import", "suspense_list"):
        return {}
    return None
