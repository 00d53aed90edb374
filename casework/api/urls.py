"""Version 1 of the integration API, mounted at /api/v1/ by config/urls.py."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView, DefaultRouter

from .registry import API_ROUTES
from .permissions import SCHEMA_READERS, SchemaPermission
from .views import CaseViewSet, ClientViewSet, ControlRequestViewSet, LedgerEntryViewSet, RepresentativeViewSet

app_name = "api"


class RootView(APIRootView):
    """Links to each collection."""

    read_roles = SCHEMA_READERS


class Router(DefaultRouter):
    APIRootView = RootView
    include_format_suffixes = False


router = Router()
router.register("clients", ClientViewSet, basename="client")
router.register("representatives", RepresentativeViewSet, basename="representative")
router.register("cases", CaseViewSet, basename="case")
router.register("ledger-entries", LedgerEntryViewSet, basename="ledgerentry")
router.register("approval-requests", ControlRequestViewSet, basename="controlrequest")
for prefix, viewset, basename in API_ROUTES:  # other apps' collections (casework.api.registry)
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[SchemaPermission]), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the content security
    # policy (no inline scripts) does not block it.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[SchemaPermission]),
        name="docs",
    ),
    *router.urls,
]
