from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from casework.views import errors

urlpatterns = [
    path("", include("casework.urls")),
    path("accounts/", include("casework.auth_urls")),
    path("api/v1/", include("casework.api.urls")),
    # The admin signs in through the same two-factor sign-in as every other page.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
]

handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
