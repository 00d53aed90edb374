"""URL patterns of the recovery pages, included by debt/urls.py (mounted at /income/, namespace debt)."""
from django.urls import path

from .views import recovery as views

urlpatterns: list = [
    path("recovery/", views.recovery_list, name="recovery_list"),
    path("recovery/ladder/", views.ladder, name="ladder"),
    path("recovery/<int:client_pk>/", views.recovery_detail, name="recovery_detail"),
    path("recovery/<int:client_pk>/holds/add/", views.hold_create, name="hold_create"),
    path("recovery/holds/<int:pk>/release/", views.hold_release, name="hold_release"),
]
