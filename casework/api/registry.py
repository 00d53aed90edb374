"""How other apps add collections to /api/v1/ without casework importing them: in their
AppConfig.ready() they call register_api_routes(router.registry) with their own router's entries,
and casework/api/urls.py registers them on the one router (one API root, one `api:` namespace)."""

API_ROUTES: list[tuple] = []


def register_api_routes(routes) -> None:
    """routes: (prefix, viewset, basename) tuples, as a DRF router's `registry` holds them."""
    API_ROUTES.extend(routes)
