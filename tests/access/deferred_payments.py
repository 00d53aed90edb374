"""Access-matrix rows for the deferred payment pages (deferred_payments/urls.py) and API."""
from casework.roles import READERS, Role

DPA_WRITERS = frozenset({Role.DEFERRED_PAYMENT_OFFICER, Role.TEAM_LEADER})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}
AGREEMENT_PAGES = ["agreement_detail", "transition", "terms", "eligibility", "refuse", "property", "valuation",
                   "existing_charge", "legal_charge", "fee", "terminate", "redemption", "repayment", "statement"]

MATRIX: dict = {
    "deferred_payments:agreement_list": (READERS, "GET", "page"),
    "deferred_payments:agreement_create": (DPA_WRITERS, "GET", "page"),
    **{f"deferred_payments:{name}": (DPA_WRITERS, "GET", "page") for name in AGREEMENT_PAGES},
    "deferred_payments:fee_waive": (DPA_WRITERS, "GET", "page"),
    "deferred_payments:entry_reverse": (DPA_WRITERS, "GET", "page"),
    **{f"api:dpa-{name}-{view}": (API_READERS, "GET", "api")
       for name in ["agreement", "valuation", "rate", "statement"] for view in ["list", "detail"]},
}
MATRIX["deferred_payments:agreement_detail"] = (READERS, "GET", "page")


def make_objects(base: dict) -> dict:
    from datetime import date

    from deferred_payments.models import FeePosting, NationalMaximumRate, Statement, StatementKind, Valuation

    from ..factories_deferred import active_agreement, dpa_officer, ensure_reference_data

    ensure_reference_data()
    agreement = active_agreement(client=base["client"])
    statement = Statement.objects.create(agreement=agreement, kind=StatementKind.SIX_MONTHLY,
                                         period_start=date(2024, 1, 1), period_end=date(2024, 6, 30),
                                         figures={"closing": "0.00"}, produced_by=dpa_officer())
    return {"dpa": agreement, "dpa_statement": statement, "dpa_fee": FeePosting.objects.filter(agreement=agreement).first(),
            "dpa_valuation": Valuation.objects.filter(property__agreement=agreement).first(),
            "dpa_rate": NationalMaximumRate.objects.first()}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.split(":", 1)[1]
    if short == "agreement_list" or short.endswith("-list"):
        return {}
    if short == "agreement_create":
        return {"client_pk": objects["client"].pk}
    api = {"api:dpa-agreement-detail": "dpa", "api:dpa-valuation-detail": "dpa_valuation",
           "api:dpa-rate-detail": "dpa_rate", "api:dpa-statement-detail": "dpa_statement"}
    if name in api:
        return {"pk": objects[api[name]].pk}
    if short == "fee_waive":
        return {"pk": objects["dpa_fee"].pk}
    if short == "entry_reverse":
        return {"pk": objects["dpa_fee"].entry_id}
    return {"pk": objects["dpa"].pk}
