"""URL patterns of the billing pages, included by debt/urls.py."""
urlpatterns: list = []
