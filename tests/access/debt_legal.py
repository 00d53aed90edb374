"""Access-matrix rows for the investigation and legal referral pages (debt/legal_urls.py)."""
from casework.roles import READERS, Role

INVESTIGATORS = frozenset({Role.INCOME_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER})
LEGAL_WORKERS = INVESTIGATORS | {Role.TEAM_LEADER}
DECIDERS = frozenset({Role.TEAM_LEADER})

MATRIX: dict = {
    "debt:investigation_create": (INVESTIGATORS, "GET", "page"),
    "debt:investigation_detail": (READERS, "GET", "page"),
    "debt:investigation_record": (INVESTIGATORS, "GET", "page"),
    "debt:investigation_close": (INVESTIGATORS, "GET", "page"),
    "debt:transfer_add": (INVESTIGATORS, "GET", "page"),
    "debt:transfer_finding": (INVESTIGATORS, "GET", "page"),
    "debt:third_party_liability": (INVESTIGATORS, "GET", "page"),
    "debt:referral_create": (INVESTIGATORS, "GET", "page"),
    "debt:referral_list": (READERS, "GET", "page"),
    "debt:referral_detail": (READERS, "GET", "page"),
    "debt:referral_approve": (DECIDERS, "GET", "page"),
    "debt:referral_reject": (DECIDERS, "GET", "page"),
    "debt:referral_issue": (LEGAL_WORKERS, "GET", "page"),
    "debt:referral_litigation_friend": (LEGAL_WORKERS, "GET", "page"),
    "debt:referral_judgment": (LEGAL_WORKERS, "GET", "page"),
    "debt:referral_enforcement": (LEGAL_WORKERS, "GET", "page"),
    "debt:referral_close": (LEGAL_WORKERS, "GET", "page"),
    "debt:claim_pack_download": (READERS, "GET", "page"),
}


def make_objects(base: dict) -> dict:
    from datetime import date
    from decimal import Decimal

    from django.core.files.base import ContentFile

    from debt.models import AssetTransfer, Investigation, LegalReferral
    from tests.factories import UserFactory
    from tests.factories_debt import InvoiceFactory

    client = base["client"]
    officer = UserFactory()
    investigation = Investigation.objects.create(case=base["case"], kind="deprivation", officer=officer)
    transfer = AssetTransfer.objects.create(investigation=investigation, asset="House", transferred_to="Ann Smith",
                                            transferred_on=date(2024, 1, 1), value=Decimal("1000.00"))
    referral = LegalReferral.objects.create(client=client, amount=Decimal("10.00"), requested_by=officer)
    referral.invoices.add(InvoiceFactory(client=client))
    referral.claim_pack.save("access.pdf", ContentFile(b"%PDF-1.4 test"))
    return {"investigation": investigation, "transfer": transfer, "referral": referral}


def url_kwargs(name: str, objects: dict) -> dict | None:
    short = name.removeprefix("debt:")
    if short == "investigation_create":
        return {"case_pk": objects["case"].pk}
    if short == "referral_create":
        return {"client_pk": objects["client"].pk}
    if short in ("investigation_detail", "investigation_record", "investigation_close", "transfer_add"):
        return {"pk": objects["investigation"].pk}
    if short in ("transfer_finding", "third_party_liability"):
        return {"pk": objects["transfer"].pk}
    if short == "referral_list":
        return {}
    if short.startswith("referral_") or short == "claim_pack_download":
        return {"pk": objects["referral"].pk}
    return None
