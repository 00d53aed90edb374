"""The client search finds a client by one of their invoice or credit note numbers."""
import pytest
from django.urls import reverse
from django.utils.html import escape

from casework.roles import Role

from .factories_debt import InvoiceFactory


@pytest.mark.django_db
def test_search_finds_a_client_by_invoice_number(client_as):
    invoice = InvoiceFactory(number="INV00004242", client__last_name="Pemberton")
    InvoiceFactory(number="INV00004243")
    body = client_as(Role.INCOME_OFFICER).get(reverse("casework:search"), {"q": "inv 00004242"}).content.decode()
    assert "1 client found" in body and escape(invoice.client.full_name) in body
