"""The income and debt part of the integration API (/api/v1/), registered by debt/api/urls.py."""
