"""URL patterns of the estate case pages, included by debt/urls.py."""
from django.urls import path

from .views import estates as views

urlpatterns = [
    path("estates/", views.estate_list, name="estate_list"),
    path("estates/follow-up/", views.estate_queue, name="estate_queue"),
    path("estates/clients/<int:client_pk>/new/", views.estate_open, name="estate_open"),
    path("estates/<int:pk>/", views.estate_detail, name="estate_detail"),
    path("estates/<int:pk>/details/", views.estate_details, name="estate_details"),
    path("estates/<int:pk>/probate/", views.estate_probate, name="estate_probate"),
    path("estates/<int:pk>/claim/", views.estate_claim, name="estate_claim"),
    path("estates/<int:pk>/follow-up/", views.estate_follow_up, name="estate_follow_up"),
    path("estates/<int:pk>/outcome/", views.estate_outcome, name="estate_outcome"),
]
