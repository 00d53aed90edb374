"""URL patterns of the payments pages, included by debt/urls.py."""
urlpatterns: list = []
