"""Financial affairs pages, mounted under the casework namespace at affairs/."""
from django.urls import path

from . import panels  # noqa: F401 - registers the navigation entry, case panel and demo seeder
from . import views

urlpatterns = [
    path("", views.affairs_list, name="affairs_list"),
    path("<int:pk>/", views.affairs_detail, name="affairs_detail"),
    path("<int:pk>/steps/<slug:code>/", views.affairs_step, name="affairs_step"),
    path("<int:pk>/costs/", views.affairs_costs, name="affairs_costs"),
    path("<int:pk>/status/", views.affairs_status, name="affairs_status"),
    path("clients/<int:pk>/", views.affairs_client, name="affairs_client"),
    path("clients/<int:pk>/start/", views.affairs_start, name="affairs_start"),
    path("clients/<int:pk>/capacity/new/", views.capacity_record, name="capacity_record"),
]
