"""Provider payments in the integration API, read only: providers, rates, packages, claims with
their line results, and payment runs. Changes are made through the web pages' services."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.viewsets import GenericViewSet

from casework.api.views import API_READERS

from ..models import CarePackage, Claim, PaymentRun, Provider, Rate
from . import serializers as s


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    read_roles = API_READERS
    write_roles: frozenset = frozenset()
    lookup_value_regex = r"\d+"


@extend_schema_view(list=extend_schema(summary="List providers"), retrieve=extend_schema(summary="A provider"))
class ProviderViewSet(ReadOnlyViewSet):
    serializer_class = s.ProviderSerializer
    queryset = Provider.objects.order_by("name", "id")


@extend_schema_view(list=extend_schema(summary="List rates (every version, withdrawn ones marked)"),
                    retrieve=extend_schema(summary="A rate"))
class RateViewSet(ReadOnlyViewSet):
    serializer_class = s.ProviderRateSerializer
    queryset = Rate.objects.select_related("service_type", "band").order_by("provider_id", "service_type_id", "band_id",
                                                                           "effective_from", "id")


@extend_schema_view(list=extend_schema(summary="List care packages"), retrieve=extend_schema(summary="A care package"))
class CarePackageViewSet(ReadOnlyViewSet):
    serializer_class = s.CarePackageSerializer
    queryset = CarePackage.objects.select_related("client", "service_type", "band").order_by("id")


@extend_schema_view(list=extend_schema(summary="List provider claims with line results"),
                    retrieve=extend_schema(summary="A claim with its line results"))
class ClaimViewSet(ReadOnlyViewSet):
    serializer_class = s.ClaimSerializer
    queryset = Claim.objects.prefetch_related("lines").order_by("-id")


@extend_schema_view(list=extend_schema(summary="List provider payment runs"),
                    retrieve=extend_schema(summary="A payment run and its payments"))
class PaymentRunViewSet(ReadOnlyViewSet):
    serializer_class = s.PaymentRunSerializer
    queryset = PaymentRun.objects.prefetch_related("payments__provider").order_by("-payment_date", "-id")
