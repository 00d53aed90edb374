"""The live test server for the API tests (tests/test_api_schemathesis.py, tests/test_api_generated_client.py).

The app sets MEDIA_URL = None (documents are only served through access-checked views), but
Django's LiveServerThread wraps every request in _MediaFilesHandler, which does
urlparse(settings.MEDIA_URL): with None that yields bytes and every request fails with
"startswith first arg must be str ... not bytes". While the live server runs, MEDIA_URL is a
prefix nothing links to (as tests/browser/conftest.py does for the browser tests).
"""
import pytest


@pytest.fixture(scope="session")
def _live_server_media_url():
    from django.conf import settings

    original = settings.MEDIA_URL
    if original is None:
        settings.MEDIA_URL = "/__live-server-media__/"
    yield
    settings.MEDIA_URL = original


@pytest.fixture(scope="session")
def live_server(_live_server_media_url, live_server):
    return live_server
