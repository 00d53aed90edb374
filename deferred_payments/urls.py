"""Deferred payments pages, mounted by config/urls.py at /deferred-payments/."""
from django.urls import path

from . import money_views, views

app_name = "deferred_payments"

urlpatterns = [
    path("", views.agreement_list, name="agreement_list"),
    path("clients/<int:client_pk>/new/", views.agreement_create, name="agreement_create"),
    path("<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("<int:pk>/state/", views.agreement_transition, name="transition"),
    path("<int:pk>/terms/", views.agreement_terms, name="terms"),
    path("<int:pk>/eligibility/", views.eligibility, name="eligibility"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
    path("<int:pk>/property/", views.property_edit, name="property"),
    path("<int:pk>/valuations/new/", views.valuation, name="valuation"),
    path("<int:pk>/existing-charges/new/", views.existing_charge, name="existing_charge"),
    path("<int:pk>/legal-charge/", views.legal_charge, name="legal_charge"),
    path("<int:pk>/fees/new/", views.fee, name="fee"),
    path("<int:pk>/end/", views.terminate, name="terminate"),
    path("<int:pk>/redemption/", views.redemption, name="redemption"),
    path("<int:pk>/repayments/new/", views.repayment, name="repayment"),
    path("<int:pk>/statements/new/", views.statement, name="statement"),
    path("fees/<int:pk>/waive/", money_views.fee_waive, name="fee_waive"),
    path("entries/<int:pk>/reverse/", money_views.entry_reverse, name="entry_reverse"),
]
