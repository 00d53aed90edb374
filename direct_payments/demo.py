"""Demo data: three direct payment agreements a new officer can work with.

- a bank account agreement with an audit in progress: a realistic twelve-week statement uploaded,
  reconciled and flagged (a large cash withdrawal, a betting shop), ready to review;
- a prepaid card agreement whose statements were requested and are awaited;
- an agreement whose first audit is due.
Idempotent: nothing is added when any agreement exists.
"""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from casework.models import Client, Team
from casework.money import to_pennies
from casework.roles import Role

from .constants import AccountType, Category, RecipientKind
from .models import Agreement, Audit

DEMO_BANK = {"name": "Northmoor Building Society", "date_column": "Date", "date_format": "%d/%m/%Y",
             "description_column": "Description", "payee_column": "", "amount_column": "",
             "paid_in_column": "Money In", "paid_out_column": "Money Out", "balance_column": "Balance"}


def statement_rows(audit: Audit, *, opening: Decimal = Decimal("1250.00")) -> list[tuple[date, str, Decimal]]:
    """A believable statement for the audit period: council payments as made, the client's
    contribution, weekly PA wages, monthly HMRC and payroll, insurance, bank fees and two lines
    an officer should look at (a £300 cash withdrawal and a betting shop)."""
    agreement = audit.agreement
    rows: list[tuple[date, str, Decimal]] = []
    for payment in agreement.payments.filter(paid_on__range=(audit.period_start, audit.period_end)):
        rows.append((payment.paid_on, "NORTHMOOR COUNCIL DP " + agreement.reference, payment.amount))
        if agreement.weekly_contribution:
            rows.append((payment.paid_on + timedelta(days=1), f"TRANSFER FROM {agreement.client.last_name.upper()} "
                                                              "CONTRIBUTION",
                         to_pennies(agreement.weekly_contribution * 4)))
    day = audit.period_start + timedelta(days=4)
    while day <= audit.period_end:
        rows.append((day, "K BROWN PA WAGES", Decimal("-252.00")))
        day += timedelta(days=7)
    day = audit.period_start + timedelta(days=18)
    while day <= audit.period_end:
        rows += [(day, "HMRC CUMBERNAULD PAYE", Decimal("-48.20")), (day, "PAYROLL BUREAU LTD", Decimal("-15.00")),
                 (day, "ACCOUNT FEE", Decimal("-5.00"))]
        day += timedelta(days=30)
    rows += [(audit.period_start + timedelta(days=9), "MORTON MICHEL EMPLOYERS INSURANCE", Decimal("-126.50")),
             (audit.period_start + timedelta(days=23), "CASH ATM NORTHMOOR HIGH ST", Decimal("-300.00")),
             (audit.period_start + timedelta(days=37), "BETFRED 1123 NORTHMOOR", Decimal("-45.00"))]
    return sorted(rows, key=lambda r: (r[0], -r[2]))


def statement_csv(rows: list[tuple[date, str, Decimal]], opening: Decimal = Decimal("1250.00")) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Date", "Description", "Money In", "Money Out", "Balance"])
    balance = opening
    for on, text, amount in rows:
        balance += amount
        writer.writerow([on.strftime("%d/%m/%Y"), text, f"{amount:.2f}" if amount > 0 else "",
                         f"{-amount:.2f}" if amount < 0 else "", f"{balance:.2f}"])
    return buffer.getvalue().encode()


def _grant_admin_permissions() -> None:
    """The finance administrator keeps the direct payment reference data in the admin."""
    group = Group.objects.filter(name=Role.FINANCE_ADMINISTRATOR.value).first()
    if group:
        group.permissions.add(*Permission.objects.filter(
            content_type__app_label="direct_payments",
            content_type__model__in=["policy", "categoryrule", "irregularityrule", "bankformat"]))


def seed_direct_payments(users: dict, stdout) -> None:
    from .services import agreement_create, audit_request, payment_for_period, statement_upload

    _grant_admin_permissions()
    if Agreement.objects.exists():
        return
    officer, today = users["directpay"], timezone.localdate()
    team = Team.objects.filter(name="Direct payments monitoring").first() or Team.objects.first()
    living = Client.objects.filter(date_of_death__isnull=True).order_by("reference")
    clients = list(living[40:43]) or list(living[:3])  # clear of the income demo's first clients
    if len(clients) < 3 or team is None:
        return
    start = today - timedelta(days=7 * 16)
    with transaction.atomic():
        first = agreement_create(client=clients[0], team=team, weekly_budget=Decimal("420.00"),
                                 weekly_contribution=Decimal("40.00"), start_date=start, actor=officer,
                                 support_plan_categories=[Category.PA_WAGES, Category.HMRC, Category.PAYROLL,
                                                          Category.INSURANCE])
        second = agreement_create(client=clients[1], team=team, weekly_budget=Decimal("186.50"), start_date=start,
                                  account_type=AccountType.PREPAID_CARD, recipient_kind=RecipientKind.NOMINATED,
                                  recipient_name="Susan Whitfield", actor=officer)
        agreement_create(client=clients[2], team=team, weekly_budget=Decimal("310.00"),
                         start_date=today - timedelta(weeks=13), actor=officer)
        for agreement in (first, second):
            period = agreement.start_date
            while period <= today:
                payment_for_period(agreement=agreement, period_start=period, paid_on=period, actor=officer)
                period += timedelta(days=agreement.period_days)
    period_end = start + timedelta(days=83)
    audit = audit_request(agreement=first, period_start=start, period_end=period_end, actor=officer,
                          on=period_end + timedelta(days=3))
    upload = ContentFile(statement_csv(statement_rows(audit)), name="northmoor-bs-statement.csv")
    statement_upload(audit=audit, kind="bank_csv", file=upload, actor=officer, new_bank=DEMO_BANK)
    audit_request(agreement=second, period_start=start, period_end=today - timedelta(days=1), actor=officer)
    stdout.write(f"Direct payments: 3 agreements, audit {audit.reference} in review with a statement uploaded.")
