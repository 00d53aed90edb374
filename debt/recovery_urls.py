"""URL patterns of the recovery pages, included by debt/urls.py."""
urlpatterns: list = []
