from django.contrib.auth import views as auth_views
from django.urls import path

from casework.views import auth

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", auth.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", auth.two_factor_setup, name="two_factor_setup"),
]
