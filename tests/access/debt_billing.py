"""Access-matrix rows for the billing pages of the debt app, and the credit notes API."""
from datetime import date
from decimal import Decimal

from casework.roles import READERS, Role
from debt.models import BillingCycle

from ..factories_debt import AssessedChargeFactory, InvoiceFactory, InvoiceLineFactory

BILLING_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Officers ask for credit notes too; whether one is raised at once or waits for approval is the money controls'.
CREDITORS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "debt:charge_list": (READERS, "GET", "page"),
    "debt:charge_create": (BILLING_WRITERS, "GET", "page"),
    "debt:charge_import": (BILLING_WRITERS, "GET", "page"),
    "debt:invoice_list": (READERS, "GET", "page"),
    "debt:invoice_detail": (READERS, "GET", "page"),
    "debt:credit_note_create": (CREDITORS, "GET", "page"),
    "debt:billing_preview": (READERS, "GET", "page"),
    "debt:billing_suppress": (BILLING_WRITERS, "GET", "page"),
    "debt:billing_unsuppress": (BILLING_WRITERS, "POST", "page"),
    "api:creditnote-list": (API_READERS, "GET", "api"),
    "api:creditnote-detail": (API_READERS, "GET", "api"),
}


def make_objects(base: dict) -> dict:
    client = base["client"]
    BillingCycle.objects.get_or_create(effective_from=date(2026, 3, 23), defaults={
        "name": "Four-weekly", "anchor_date": date(2026, 3, 23), "period_days": 28})
    charge = AssessedChargeFactory(client=client)
    invoice = InvoiceFactory(client=client, account=base["entry"].account)
    InvoiceLineFactory(invoice=invoice, assessed_charge=charge, service=charge.service)
    credit_note = InvoiceFactory(client=client, account=invoice.account, corrects=invoice, total=Decimal("-10.00"))
    return {"invoice": invoice, "charge": charge, "credit_note": credit_note}


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("debt:")
    client_pk = objects["client"].pk
    kwargs = {
        "charge_list": {"client_pk": client_pk},
        "charge_create": {"client_pk": client_pk},
        "invoice_detail": {"pk": objects["invoice"].pk},
        "credit_note_create": {"pk": objects["invoice"].pk},
        "api:creditnote-detail": {"pk": objects["credit_note"].pk},
        "billing_suppress": {"client_pk": client_pk, "period_start": "2026-10-05"},
        "billing_unsuppress": {"client_pk": client_pk, "period_start": "2026-10-05"},
    }
    if name not in MATRIX:
        return None
    return kwargs.get(short, {})
