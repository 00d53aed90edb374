"""The income API's collections, for /api/v1/. debt/apps.py hands this router's registry to
casework.api.registry, so they share the API root and the `api:` namespace: api:assessedcharge-list,
api:payment-list, api:invoice-list, api:creditnote-list, api:refund-list, api:debt-list,
api:moratorium-list and their -detail pages."""
from rest_framework.routers import SimpleRouter

from .views import (
    AssessedChargeViewSet,
    CreditNoteViewSet,
    DebtViewSet,
    InvoiceViewSet,
    MoratoriumViewSet,
    PaymentViewSet,
    RefundViewSet,
)

router = SimpleRouter(trailing_slash=True)
router.register("assessed-charges", AssessedChargeViewSet, basename="assessedcharge")
router.register("payments", PaymentViewSet, basename="payment")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit-notes", CreditNoteViewSet, basename="creditnote")
router.register("refunds", RefundViewSet, basename="refund")
router.register("debts", DebtViewSet, basename="debt")
router.register("breathing-space", MoratoriumViewSet, basename="moratorium")

