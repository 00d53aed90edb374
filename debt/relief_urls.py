"""URL patterns of the relief pages, included by debt/urls.py."""
urlpatterns: list = []
