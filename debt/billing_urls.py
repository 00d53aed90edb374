"""URL patterns of the billing pages, included by debt/urls.py (mounted at /income/, namespace debt)."""
from django.urls import path

from .views import billing as views

urlpatterns: list = [
    path("clients/<int:client_pk>/charges/", views.charge_list, name="charge_list"),
    path("clients/<int:client_pk>/charges/add/", views.charge_create, name="charge_create"),
    path("charges/import/", views.charge_import, name="charge_import"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_create, name="credit_note_create"),
    path("billing/preview/", views.billing_preview, name="billing_preview"),
    path("billing/preview/<int:client_pk>/<str:period_start>/suppress/", views.billing_suppress,
         name="billing_suppress"),
    path("billing/preview/<int:client_pk>/<str:period_start>/unsuppress/", views.billing_unsuppress,
         name="billing_unsuppress"),
]
