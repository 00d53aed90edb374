"""provider_payments pages, mounted by config/urls.py."""
app_name = "provider_payments"

urlpatterns: list = []
