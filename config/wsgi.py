import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Production (settings.PRODUCTION) refuses to serve without the council's details: every letter
# and remittance advice prints them. ImproperlyConfigured names what is missing.
from casework.checks import require_council_details  # noqa: E402

require_council_details()
