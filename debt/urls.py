from .billing_urls import urlpatterns as billing
from .estates_urls import urlpatterns as estates
from .legal_urls import urlpatterns as legal
from .payments_urls import urlpatterns as payments
from .queue_urls import urlpatterns as queue
from .recovery_urls import urlpatterns as recovery
from .relief_urls import urlpatterns as relief
from .unbilled_urls import urlpatterns as unbilled
from .writeoffs_urls import urlpatterns as writeoffs

app_name = "debt"
urlpatterns = [*billing, *payments, *queue, *recovery, *relief, *writeoffs, *legal, *estates, *unbilled]
