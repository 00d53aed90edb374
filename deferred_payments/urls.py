"""deferred_payments pages, mounted by config/urls.py."""
app_name = "deferred_payments"

urlpatterns: list = []
