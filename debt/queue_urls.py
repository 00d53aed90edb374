"""URL pattern of the team leader's decisions queue, included by debt/urls.py."""
from django.urls import path

from .views import queue as views

urlpatterns = [
    path("decisions/", views.decisions, name="decisions"),
]
