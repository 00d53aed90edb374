"""Access-matrix rows for the direct payment pages (direct_payments/urls.py) and API collections."""
from casework.roles import READERS, Role

DP_READERS = READERS | {Role.FINANCE_ADMINISTRATOR}
DP_OFFICERS = frozenset({Role.DIRECT_PAYMENT_OFFICER, Role.TEAM_LEADER})
DP_APPROVERS = frozenset({Role.TEAM_LEADER})
RULE_EDITORS = frozenset({Role.FINANCE_ADMINISTRATOR})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

MATRIX: dict = {
    "direct_payments:home": (DP_READERS, "GET", "page"),
    "direct_payments:agreement_list": (DP_READERS, "GET", "page"),
    "direct_payments:agreement_create": (DP_OFFICERS, "GET", "page"),
    "direct_payments:agreement_detail": (DP_READERS, "GET", "page"),
    "direct_payments:agreement_status": (DP_OFFICERS, "GET", "page"),
    "direct_payments:payment_create": (DP_OFFICERS, "GET", "page"),
    "direct_payments:audit_create": (DP_OFFICERS, "GET", "page"),
    "direct_payments:payment_list": (DP_READERS, "GET", "page"),
    "direct_payments:audit_list": (DP_READERS, "GET", "page"),
    "direct_payments:audit_detail": (DP_READERS, "GET", "page"),
    "direct_payments:line_list": (DP_READERS, "GET", "page"),
    "direct_payments:statement_upload": (DP_OFFICERS, "GET", "page"),
    "direct_payments:liability_add": (DP_OFFICERS, "GET", "page"),
    "direct_payments:audit_reanalyse": (DP_OFFICERS, "POST", "page"),
    "direct_payments:audit_outcome": (DP_OFFICERS, "GET", "page"),
    "direct_payments:surplus_waive": (DP_OFFICERS, "GET", "page"),
    "direct_payments:flag_review": (DP_OFFICERS, "GET", "page"),
    "direct_payments:liability_remove": (DP_OFFICERS, "GET", "page"),
    "direct_payments:recovery_list": (DP_READERS, "GET", "page"),
    "direct_payments:recovery_decide": (DP_APPROVERS, "GET", "page"),
    "direct_payments:recovered_report": (DP_READERS, "GET", "page"),
    "direct_payments:rule_list": (DP_READERS, "GET", "page"),
    "direct_payments:rule_create": (RULE_EDITORS, "GET", "page"),
    "direct_payments:rule_edit": (RULE_EDITORS, "GET", "page"),
    "direct_payments:bank_list": (DP_READERS, "GET", "page"),
    **{f"api:{name}-{view}": (API_READERS, "GET", "api")
       for name in ["dpagreement", "directpayment", "dpaudit", "dpstatement"] for view in ["list", "detail"]},
}


def make_objects(base: dict) -> dict:
    from datetime import date
    from decimal import Decimal

    from direct_payments.constants import AuditStatus
    from direct_payments.models import CategoryRule, Flag, Liability, Recovery, StatementUpload
    from direct_payments.services import payment_for_period
    from tests.factories import UserFactory
    from tests.factories_direct import AgreementFactory, AuditFactory

    agreement = AgreementFactory(client=base["client"])
    payment = payment_for_period(agreement=agreement, period_start=agreement.start_date, paid_on=agreement.start_date,
                                 actor=agreement.created_by)
    audit = AuditFactory(agreement=agreement, status=AuditStatus.IN_REVIEW)
    upload = StatementUpload.objects.create(
        audit=audit, kind="bank_csv", original_name="statement.csv", file="direct_payments/statements/x.csv",
        sha256="0" * 64, rows=0, first_date=date(2026, 1, 5), last_date=date(2026, 1, 5),
        opening_balance=Decimal("0.00"), closing_balance=Decimal("0.00"), uploaded_by=audit.officer)
    requester = UserFactory(username="dp-matrix-requester")
    approval = AuditFactory(agreement=AgreementFactory(client=base["client"]), status=AuditStatus.AWAITING_APPROVAL)
    recovery = Recovery.objects.create(
        audit=approval, route="invoice", closing_balance=Decimal("6100.00"), liabilities=Decimal("600.00"),
        weekly_budget=Decimal("420.00"), contingency_weeks=4, contingency=Decimal("1680.00"),
        contribution_refund=Decimal("0.00"), amount=Decimal("3820.00"), requested_by=requester)
    return {
        "dp_agreement": agreement, "dp_payment": payment, "dp_audit": audit, "dp_upload": upload,
        "dp_flag": Flag.objects.create(audit=audit, payment=payment, rule="missing_payment", message="Missing"),
        "dp_liability": Liability.objects.create(audit=audit, kind="wages", description="PA wages",
                                                 amount=Decimal("480.00"), added_by=audit.officer),
        "dp_recovery": recovery, "dp_rule": CategoryRule.objects.order_by("pk").first(),
    }


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name.startswith("api:"):
        api = {"dpagreement-detail": "dp_agreement", "directpayment-detail": "dp_payment",
               "dpaudit-detail": "dp_audit", "dpstatement-detail": "dp_upload"}
        short = name.removeprefix("api:")
        if short in api:
            return {"pk": objects[api[short]].pk}
        return {} if short.removesuffix("-list") in ("dpagreement", "directpayment", "dpaudit", "dpstatement") else None
    if not name.startswith("direct_payments:"):
        return None
    short = name.removeprefix("direct_payments:")
    by_object = {
        "dp_agreement": ["agreement_detail", "agreement_status", "payment_create", "audit_create"],
        "dp_audit": ["audit_detail", "line_list", "statement_upload", "liability_add", "audit_reanalyse",
                     "audit_outcome", "surplus_waive"],
        "dp_flag": ["flag_review"], "dp_liability": ["liability_remove"], "dp_recovery": ["recovery_decide"],
        "dp_rule": ["rule_edit"],
    }
    for key, names in by_object.items():
        if short in names:
            return {"pk": objects[key].pk}
    return {}
