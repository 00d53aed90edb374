from .billing_urls import urlpatterns as billing
from .payments_urls import urlpatterns as payments
from .recovery_urls import urlpatterns as recovery
from .relief_urls import urlpatterns as relief
from .writeoffs_urls import urlpatterns as writeoffs

app_name = "debt"
urlpatterns = [*billing, *payments, *recovery, *relief, *writeoffs]
