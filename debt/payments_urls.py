"""URL patterns of the payments pages, included by debt/urls.py (mounted at /income/)."""
from django.urls import path

from .views import payments as views

urlpatterns = [
    path("clients/<int:client_pk>/payments/new/", views.payment_create, name="payment_create"),
    path("clients/<int:client_pk>/refunds/new/", views.refund_create, name="refund_create"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/import/", views.payment_import, name="payment_import"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("payments/<int:pk>/reallocate/", views.payment_reallocate, name="payment_reallocate"),
    path("payments/imports/", views.import_list, name="payment_import_list"),
    path("payments/imports/<int:pk>/file/", views.import_file, name="payment_import_file"),
    path("suspense/", views.suspense_list, name="suspense_list"),
    path("suspense/<int:pk>/match/", views.suspense_match, name="suspense_match"),
    path("suspense/<int:pk>/return/", views.suspense_return, name="suspense_return"),
]
