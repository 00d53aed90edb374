"""Factories for the debt app's models."""
from datetime import date
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from casework.constants import EntryKind
from debt.constants import PaymentMethod
from debt.models import AssessedCharge, BillingSuppression, ChargeableService, Invoice, InvoiceLine, Payment, SuspensePayment

from .factories import AccountFactory, ClientFactory, LedgerEntryFactory, UserFactory


class ChargeableServiceFactory(DjangoModelFactory):
    class Meta:
        model = ChargeableService
        django_get_or_create = ("code",)

    code = "home_care"
    name = "Home care"


class AssessedChargeFactory(DjangoModelFactory):
    class Meta:
        model = AssessedCharge

    client = factory.SubFactory(ClientFactory)
    service = factory.SubFactory(ChargeableServiceFactory)
    version = 1
    weekly_amount = Decimal("99.85")
    effective_from = date(2026, 4, 6)
    created_by = factory.SubFactory(UserFactory)


class InvoiceFactory(DjangoModelFactory):
    """An issued invoice with its ledger charge (lines: add InvoiceLineFactory)."""

    class Meta:
        model = Invoice

    client = factory.SubFactory(ClientFactory)
    account = factory.SubFactory(AccountFactory, client=factory.SelfAttribute("..client"))
    number = factory.Sequence(lambda n: f"INV{n + 1:08d}")
    period_start = date(2026, 10, 5)
    period_end = date(2026, 11, 1)
    issue_date = date(2026, 11, 2)
    due_date = date(2026, 11, 16)
    total = Decimal("399.40")
    created_by = factory.SubFactory(UserFactory)
    ledger_entry = factory.SubFactory(
        LedgerEntryFactory, account=factory.SelfAttribute("..account"), amount=factory.SelfAttribute("..total"),
        kind=EntryKind.CHARGE, reference=factory.SelfAttribute("..number"),
        effective_date=factory.SelfAttribute("..issue_date"))


class InvoiceLineFactory(DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    service = factory.SubFactory(ChargeableServiceFactory)
    date_from = date(2026, 10, 5)
    date_to = date(2026, 11, 1)
    days = 28
    weekly_rate = Decimal("99.85")
    amount = Decimal("399.40")
    explanation = "Home care, 5 October to 1 November 2026: 28 days at £99.85 a week"


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    client = factory.SubFactory(ClientFactory)
    account = factory.SubFactory(AccountFactory, client=factory.SelfAttribute("..client"))
    amount = Decimal("50.00")
    method = PaymentMethod.BANK_TRANSFER
    received_on = date(2026, 11, 20)
    reference = factory.Sequence(lambda n: f"BT{n:06d}")
    created_by = factory.SubFactory(UserFactory)
    ledger_entry = factory.SubFactory(
        LedgerEntryFactory, account=factory.SelfAttribute("..account"), kind=EntryKind.PAYMENT,
        amount=factory.LazyAttribute(lambda o: -o.factory_parent.amount), reference=factory.SelfAttribute("..reference"),
        effective_date=factory.SelfAttribute("..received_on"))


class SuspensePaymentFactory(DjangoModelFactory):
    class Meta:
        model = SuspensePayment

    amount = Decimal("25.00")
    method = PaymentMethod.BANK_TRANSFER
    received_on = date(2026, 11, 20)
    reference = "UNKNOWN REF"
    payer = "J SMITH"


class BillingSuppressionFactory(DjangoModelFactory):
    class Meta:
        model = BillingSuppression

    client = factory.SubFactory(ClientFactory)
    period_start = date(2026, 10, 5)
    reason = "Charge under review"
    created_by = factory.SubFactory(UserFactory)
