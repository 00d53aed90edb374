"""URL patterns of the write-off, limitation and aged debt pages, included by debt/urls.py."""
from django.urls import path

from .views import writeoffs as views

urlpatterns = [
    path("clients/<int:client_pk>/write-offs/new/", views.writeoff_create, name="writeoff_create"),
    path("write-offs/", views.writeoff_list, name="writeoff_list"),
    path("write-offs/<int:pk>/", views.writeoff_detail, name="writeoff_detail"),
    path("write-offs/<int:pk>/approve/", views.writeoff_approve, name="writeoff_approve"),
    path("write-offs/<int:pk>/reject/", views.writeoff_reject, name="writeoff_reject"),
    path("limitation/", views.limitation_list, name="limitation_list"),
    path("reports/aged-debt/", views.aged_debt, name="aged_debt"),
]
