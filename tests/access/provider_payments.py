"""Access-matrix rows for the provider payments pages (provider_payments/urls.py) and API."""
from casework.roles import READERS, Role

WORKERS = frozenset({Role.PROVIDER_PAYMENT_OFFICER, Role.TEAM_LEADER})
LEADERS = frozenset({Role.TEAM_LEADER})
API_READERS = READERS | {Role.SYSTEM_ACCOUNT}

PAGES = {
    "home": READERS, "provider_list": READERS, "provider_create": WORKERS, "provider_detail": READERS,
    "provider_edit": WORKERS, "bank_change_request": WORKERS, "rate_add": WORKERS, "urgent_create": WORKERS,
    "bank_change_decide": WORKERS, "rate_list": READERS, "package_list": READERS, "package_create": WORKERS,
    "package_detail": READERS, "package_status": WORKERS, "claim_list": READERS, "claim_import": WORKERS,
    "claim_detail": READERS, "claim_approve": WORKERS, "dispute_create": WORKERS, "claim_line_override": WORKERS,
    "dispute_list": READERS, "dispute_detail": READERS, "dispute_note": WORKERS, "dispute_decide": WORKERS,
    "overpayment_list": READERS, "overpayment_create": WORKERS, "overpayment_decide": LEADERS, "overpayment_waive": WORKERS,
    "overpayment_receipt": WORKERS, "run_list": READERS, "run_start": LEADERS, "run_detail": READERS,
    "run_release": LEADERS, "run_exceptions": READERS, "run_file": READERS, "remittance": READERS, "uplift_list": READERS,
    "uplift_create": WORKERS, "uplift_detail": READERS, "uplift_decide": LEADERS, "urgent_list": READERS,
    "urgent_decide": LEADERS, "urgent_paid": WORKERS,
}
API = ["provider", "providerrate", "carepackage", "providerclaim", "paymentrun"]

MATRIX: dict = {
    **{f"provider_payments:{name}": (roles, "GET", "page") for name, roles in PAGES.items()},
    **{f"api:{name}-{view}": (API_READERS, "GET", "api") for name in API for view in ("list", "detail")},
    # Decisions through the API, under the pages' rules. The matrix posts to a claim already approved
    # and a run already released, so a role that may decide gets the unchanged record back.
    "api:providerclaim-approve": (WORKERS, "POST", "api"),
    "api:paymentrun-exceptions": (API_READERS, "GET", "api"),
    "api:paymentrun-release": (LEADERS, "POST", "api"),
}


def make_objects(base: dict) -> dict:
    from datetime import date
    from decimal import Decimal

    from django.core.files.base import ContentFile

    from casework.models import Run
    from provider_payments.constants import ClaimStatus, OverpaymentSource, RecoveryMethod, UpliftMethod, UrgentMethod
    from provider_payments.models import Payment, PaymentRun
    from provider_payments.services.claims import claim_transition
    from provider_payments.services.disputes import dispute_open
    from provider_payments.services.overpayments import overpayment_record
    from provider_payments.services.providers import bank_change_request
    from provider_payments.services.uplifts import uplift_create
    from provider_payments.services.urgent import urgent_request
    from tests.factories import ClientFactory
    from tests.factories_provider import CarePackageFactory, ProviderFactory, RateFactory, leader, officer
    from tests.test_provider_validation import invoice

    provider = ProviderFactory()
    RateFactory(provider=provider)
    package = CarePackageFactory(provider=provider, client=ClientFactory(reference="SC700001"))
    claim = invoice(provider, "SC700001,homecare,2026-03-23,2,25.00,50.00\n")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    # A prepared run made directly (the payment run's own tests run the job; rendering its PDFs for
    # every row of the matrix would only slow the matrix down).
    run = Run.objects.create(job="provider_payments", business_date=date(2026, 4, 20), trigger="test")
    payment_run = PaymentRun.objects.create(run=run, payment_date=run.business_date, total=Decimal("48.00"),
                                            payment_count=1, prepared_at=run.created_at)
    payment = Payment(payment_run=payment_run, provider=provider, gross=Decimal("48.00"), net=Decimal("48.00"),
                      sort_code=provider.sort_code, account_number=provider.account_number,
                      account_name=provider.account_name)
    payment.remittance.save("remittance-test.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    payment.save()
    earlier = Run.objects.create(job="provider_payments", business_date=date(2026, 3, 23), trigger="test")
    released = PaymentRun.objects.create(run=earlier, payment_date=earlier.business_date, status="released",
                                         prepared_at=earlier.created_at, released_by=leader(),
                                         released_at=earlier.created_at)
    return {
        "pp_provider": provider, "pp_package": package, "pp_claim": claim, "pp_line": claim.lines.get(),
        "pp_dispute": dispute_open(claim=claim, lines=[claim.lines.get()], reason="Rate", actor=officer()),
        "pp_overpayment": overpayment_record(provider=provider, amount=Decimal("5"), source=OverpaymentSource.AUDIT,
                                             description="Audit", method=RecoveryMethod.INVOICE, actor=officer()),
        "pp_run": payment_run, "pp_payment": payment, "pp_released_run": released,
        "pp_uplift": uplift_create(name="Uplift", effective_from=date(2026, 4, 1), method=UpliftMethod.PERCENTAGE,
                                   percentage=Decimal("4.1"), actor=officer()),
        "pp_urgent": urgent_request(provider=provider, amount=Decimal("100"), method=UrgentMethod.CHAPS,
                                    reason="Payroll", actor=officer()),
        "pp_bank_change": bank_change_request(provider=provider, sort_code="200000", account_number="12345678",
                                              account_name="NEW NAME", evidence="Call back", actor=officer()),
    }


OBJECT_FOR = {
    "provider_detail": "pp_provider", "provider_edit": "pp_provider", "bank_change_request": "pp_provider",
    "rate_add": "pp_provider", "urgent_create": "pp_provider", "bank_change_decide": "pp_bank_change",
    "package_detail": "pp_package", "package_status": "pp_package", "claim_detail": "pp_claim",
    "claim_approve": "pp_claim", "dispute_create": "pp_claim", "claim_line_override": "pp_line",
    "dispute_detail": "pp_dispute", "dispute_note": "pp_dispute", "dispute_decide": "pp_dispute",
    "overpayment_decide": "pp_overpayment", "overpayment_receipt": "pp_overpayment", "overpayment_waive": "pp_overpayment",
    "run_detail": "pp_run",
    "run_release": "pp_run", "run_exceptions": "pp_run", "remittance": "pp_payment", "uplift_detail": "pp_uplift", "uplift_decide": "pp_uplift",
    "urgent_decide": "pp_urgent", "urgent_paid": "pp_urgent",
    "provider-detail": "pp_provider", "providerrate-detail": None, "carepackage-detail": "pp_package",
    "providerclaim-detail": "pp_claim", "paymentrun-detail": "pp_run", "providerclaim-approve": "pp_claim",
    "paymentrun-exceptions": "pp_run", "paymentrun-release": "pp_released_run",
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX:
        return None
    short = name.split(":", 1)[1]
    if short == "run_file":
        return {"pk": objects["pp_run"].pk, "kind": "bacs"}
    if short == "providerrate-detail":
        return {"pk": objects["pp_provider"].rates.first().pk}
    if short in OBJECT_FOR:
        return {"pk": objects[OBJECT_FOR[short]].pk}
    return {}
