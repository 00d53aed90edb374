"""URL patterns of the writeoffs pages, included by debt/urls.py."""
urlpatterns: list = []
