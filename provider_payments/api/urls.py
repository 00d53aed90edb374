"""Provider payments' API collections, handed to casework.api.registry by provider_payments/apps.py:
api:provider-list, api:providerrate-list, api:carepackage-list, api:providerclaim-list,
api:paymentrun-list and their -detail pages; api:committedspendforecast-list (a summary, no detail)."""
from rest_framework.routers import SimpleRouter

from .forecast import CommittedSpendForecastViewSet
from .views import CarePackageViewSet, ClaimViewSet, PaymentRunViewSet, ProviderViewSet, RateViewSet

router = SimpleRouter(trailing_slash=True)
router.register("providers", ProviderViewSet, basename="provider")
router.register("provider-rates", RateViewSet, basename="providerrate")
router.register("care-packages", CarePackageViewSet, basename="carepackage")
router.register("provider-claims", ClaimViewSet, basename="providerclaim")
router.register("provider-payment-runs", PaymentRunViewSet, basename="paymentrun")
router.register("committed-spend-forecast", CommittedSpendForecastViewSet, basename="committedspendforecast")
