"""Every change to direct payment data goes through a function here."""
from .agreements import agreement_create, agreement_transition, payment_for_period, payment_record, recovery_remaining
from .audits import (
    audit_analyse,
    audit_record_outcome,
    audit_request,
    audit_transition,
    flag_review,
    liability_add,
    liability_remove,
    statement_upload,
    working_for,
)
from .common import policy_on
from .recovery import recovery_approve, recovery_reject

__all__ = [
    "agreement_create", "agreement_transition", "audit_analyse", "audit_record_outcome", "audit_request",
    "audit_transition", "flag_review", "liability_add", "liability_remove", "payment_for_period", "payment_record",
    "policy_on", "recovery_approve", "recovery_reject", "recovery_remaining", "statement_upload", "working_for",
]
from .rules import audit_recategorise, category_rule_save  # noqa: E402
from .waivers import surplus_waiver_request, waiting_waiver  # noqa: E402

__all__ += ["audit_recategorise", "category_rule_save", "surplus_waiver_request", "waiting_waiver"]
