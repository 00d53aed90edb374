"""URL pattern of the unbilled provision queues, included by debt/urls.py."""
from django.urls import path

from .views import unbilled as views

urlpatterns = [
    path("unbilled/", views.unbilled_queue, name="unbilled"),
]
