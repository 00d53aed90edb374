"""URL patterns of the relief pages (Breathing Space, repayment plans), included by debt/urls.py."""
from django.urls import path

from .views import relief as views

urlpatterns = [
    path("breathing-space/", views.moratorium_list, name="moratorium_list"),
    path("clients/<int:client_pk>/breathing-space/new/", views.moratorium_create, name="moratorium_create"),
    path("breathing-space/<int:pk>/", views.moratorium_detail, name="moratorium_detail"),
    path("breathing-space/<int:pk>/end/", views.moratorium_end, name="moratorium_end"),
    path("breathing-space/<int:pk>/review/", views.moratorium_review, name="moratorium_review"),
    path("breathing-space/<int:pk>/treatment/", views.moratorium_treatment, name="moratorium_treatment"),
    path("plans/", views.plan_list, name="plan_list"),
    path("clients/<int:client_pk>/plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/cancel/", views.plan_cancel, name="plan_cancel"),
]
