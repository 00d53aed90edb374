from django.contrib import admin
from django.urls import include, path

from casework.views import errors

urlpatterns = [
    path("", include("casework.urls")),
    path("accounts/", include("casework.auth_urls")),
    path("letters/", include("casework.letters.urls")),
    path("income/", include("debt.urls")),
    path("deferred-payments/", include("deferred_payments.urls")),
    path("direct-payments/", include("direct_payments.urls")),
    path("provider-payments/", include("provider_payments.urls")),
    path("api/v1/", include("casework.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
