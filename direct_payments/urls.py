"""direct_payments pages, mounted by config/urls.py."""
app_name = "direct_payments"

urlpatterns: list = []
