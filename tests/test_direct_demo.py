"""The demo seeder: three agreements, an audit in review with a realistic statement, idempotent."""
import io

import pytest

from casework.roles import Role
from direct_payments.constants import AuditStatus
from direct_payments.demo import seed_direct_payments
from direct_payments.models import Agreement, Audit, BankFormat

from .factories import ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_an_audit_in_review_with_an_uploaded_statement_once():
    for _ in range(3):
        ClientFactory()
    TeamFactory(name="Direct payments monitoring")
    users = {"directpay": UserFactory(username="directpay", roles=[Role.DIRECT_PAYMENT_OFFICER])}
    seed_direct_payments(users, io.StringIO())
    seed_direct_payments(users, io.StringIO())
    assert Agreement.objects.count() == 3
    review = Audit.objects.get(status=AuditStatus.IN_REVIEW)
    assert review.uploads.get().bank_format == BankFormat.objects.get(name="Northmoor Building Society")
    assert review.lines.count() > 20
    rules = set(review.flags.values_list("rule", flat=True))
    assert {"cash_withdrawal", "non_care_merchant"} <= rules
    assert review.lines.filter(matched_payment__isnull=False).count() == 3
    assert Audit.objects.filter(status=AuditStatus.REQUESTED).count() == 1
