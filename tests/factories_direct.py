"""Factories for the direct payments app, and statement files built line by line."""
import csv
import io
from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from direct_payments.constants import AuditStatus
from direct_payments.models import Agreement, Audit, BankFormat

from .factories import ClientFactory, TeamFactory, UserFactory


class AgreementFactory(DjangoModelFactory):
    """An active agreement: £420 a week gross, £40 contribution, four-weekly, 4 weeks' contingency."""

    class Meta:
        model = Agreement

    client = factory.SubFactory(ClientFactory)
    team = factory.SubFactory(TeamFactory, name="Direct payments monitoring")
    weekly_budget = Decimal("420.00")
    weekly_contribution = Decimal("40.00")
    start_date = date(2026, 1, 5)
    contingency_weeks = 4
    first_audit_weeks = 12
    audit_interval_months = 12
    created_by = factory.SubFactory(UserFactory)


class AuditFactory(DjangoModelFactory):
    """An audit of 5 January to 29 March 2026 (84 days, 12 weeks), statements requested."""

    class Meta:
        model = Audit

    agreement = factory.SubFactory(AgreementFactory)
    period_start = date(2026, 1, 5)
    period_end = date(2026, 3, 29)
    officer = factory.SubFactory(UserFactory)
    status = AuditStatus.REQUESTED
    requested_on = date(2026, 4, 1)
    statements_due_on = date(2026, 4, 29)


class BankFormatFactory(DjangoModelFactory):
    """A bank that exports paid in and paid out columns with UK dates."""

    class Meta:
        model = BankFormat
        django_get_or_create = ("name",)

    name = "Northmoor Building Society"
    date_column = "Date"
    date_format = "%d/%m/%Y"
    description_column = "Description"
    paid_in_column = "Money In"
    paid_out_column = "Money Out"
    balance_column = "Balance"
    created_by = factory.SubFactory(UserFactory)


def bank_csv(rows: list[tuple], *, opening: Decimal = Decimal("1000.00"), header=None, balances=None) -> bytes:
    """Rows of (date, description, amount) as the Northmoor Building Society exports them, with
    running balances from `opening` (or the `balances` given, to test the chain)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or ["Date", "Description", "Money In", "Money Out", "Balance"])
    balance = opening
    for i, (on, text, amount) in enumerate(rows):
        amount = Decimal(amount)
        balance += amount
        shown = balances[i] if balances else f"{balance:.2f}"
        writer.writerow([on.strftime("%d/%m/%Y") if isinstance(on, date) else on, text,
                         f"{amount:.2f}" if amount > 0 else "", f"{-amount:.2f}" if amount < 0 else "", shown])
    return buffer.getvalue().encode()


def signed_csv(rows: list[tuple], *, opening: Decimal = Decimal("1000.00")) -> bytes:
    """A different bank's export: ISO dates, a signed Amount column, a Payee column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Posted", "Payee", "Details", "Amount", "Running balance"])
    balance = opening
    for on, payee, text, amount in rows:
        balance += Decimal(amount)
        writer.writerow([on.isoformat(), payee, text, f"{Decimal(amount):.2f}", f"{balance:.2f}"])
    return buffer.getvalue().encode()


def prepaid_csv(rows: list[tuple], *, opening: Decimal = Decimal("500.00")) -> bytes:
    """The prepaid card provider's export: Transaction Date, Merchant, Description, Debit, Credit, Balance."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Transaction Date", "Merchant", "Description", "Debit", "Credit", "Balance"])
    balance = opening
    for on, merchant, text, amount in rows:
        amount = Decimal(amount)
        balance += amount
        writer.writerow([on.strftime("%d/%m/%Y"), merchant, text, f"{-amount:.2f}" if amount < 0 else "",
                         f"{amount:.2f}" if amount > 0 else "", f"{balance:.2f}"])
    return buffer.getvalue().encode()
