from .billing_urls import urlpatterns as billing
from .payments_urls import urlpatterns as payments

app_name = "debt"
urlpatterns = [*billing, *payments]
