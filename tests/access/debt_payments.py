"""Access-matrix rows for the payments pages (debt/payments_urls.py) and the refunds API."""
from casework.roles import READERS, Role

PAYMENT_RECORDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
PAYMENT_REVERSERS = frozenset({Role.TEAM_LEADER})
#: Officers refund too: within their REFUND limit at once, above it a team leader approves.
REFUNDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}
PAYMENT_REALLOCATORS = PAYMENT_RECORDERS
IMPORT_FILE_READERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER, Role.AUDITOR})

MATRIX: dict = {
    "debt:payment_create": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:payment_list": (READERS, "GET", "page"),
    "debt:payment_detail": (READERS, "GET", "page"),
    "debt:payment_reverse": (PAYMENT_REVERSERS, "GET", "page"),
    "debt:payment_reallocate": (PAYMENT_REALLOCATORS, "GET", "page"),
    "debt:payment_import_list": (READERS, "GET", "page"),
    "debt:payment_import_file": (IMPORT_FILE_READERS, "GET", "page"),
    "debt:payment_import": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:suspense_list": (READERS, "GET", "page"),
    "debt:suspense_match": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:suspense_return": (PAYMENT_RECORDERS, "GET", "page"),
    "debt:refund_create": (REFUNDERS, "GET", "page"),
    "api:refund-list": (API_READERS, "GET", "api"),
    "api:refund-detail": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from debt.models import PaymentImport
    from debt.payment_import import file_sha256
    from casework.constants import EntryKind
    from tests.factories import LedgerEntryFactory, UserFactory
    from tests.factories_debt import InvoiceFactory, PaymentFactory, SuspensePaymentFactory

    client = base["client"]
    data = b"date,amount,method,reference\n2026-11-20,25.00,bank_transfer,UNKNOWN REF\n"
    batch = PaymentImport.objects.create(
        source="bank", original_name="matrix.csv", file=default_storage.save("imports/payments/matrix.csv",
                                                                              ContentFile(data)),
        sha256=file_sha256(data), rows=1, total="25.00", imported_by=UserFactory(username="matrix-importer"))
    return {
        "payment_invoice": InvoiceFactory(client=client),
        "payment": PaymentFactory(client=client),
        "suspense": SuspensePaymentFactory(import_batch=batch),
        "payment_import": batch,
        "refund": LedgerEntryFactory(account=base["entry"].account, kind=EntryKind.REFUND, amount="10.00"),
    }


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("debt:")
    if short in ("payment_create", "refund_create"):
        return {"client_pk": objects["client"].pk}
    if short in ("payment_detail", "payment_reverse", "payment_reallocate"):
        return {"pk": objects["payment"].pk}
    if short == "payment_import_file":
        return {"pk": objects["payment_import"].pk}
    if short in ("suspense_match", "suspense_return"):
        return {"pk": objects["suspense"].pk}
    if short in ("payment_list", "payment_import", "suspense_list", "payment_import_list", "api:refund-list"):
        return {}
    if short == "api:refund-detail":
        return {"pk": objects["refund"].pk}
    return None
