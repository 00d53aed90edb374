"""Demo data: three providers with rate cards, packages for some demo clients, and an ECM claim
with validation exceptions waiting for an officer. Idempotent: nothing is added a second time."""
from datetime import date, timedelta
from decimal import Decimal

from casework.models import Client

from .constants import ClaimSource, PackageStatus
from .models import Band, PaymentSchedule, Provider, ServiceType
from .services.claims import claim_import
from .services.packages import package_create, package_transition
from .services.providers import bank_change_decide, bank_change_request, provider_create
from .services.rates import rate_add

PROVIDERS = [
    ("Moorside Home Care Ltd", "SUP20001", "1-101234567", "20-45-77", "41234567", "MOORSIDE HOME CARE"),
    ("Northmoor Supported Living CIC", "SUP20002", "1-102345678", "30-90-12", "52345678", "NORTHMOOR SL CIC"),
    ("Heather Lodge Care Home", "SUP20003", "1-103456789", "40-11-62", "63456789", "HEATHER LODGE"),
]
DEMO_CLAIM = "MHC-2026-04"


def seed_provider_payments(users: dict, stdout) -> None:
    if Provider.objects.filter(supplier_number="SUP20001").exists():
        stdout.write("Demo providers already present: not adding more.")
        return
    officer, leader = users["provider"], users["teamleader"]
    schedule = PaymentSchedule.objects.get(name="Four-weekly in arrears")
    homecare, sl, residential = (ServiceType.objects.get(code=c) for c in ("homecare", "supported_living", "residential"))
    standard, complex_band = Band.objects.get(code="standard"), Band.objects.get(code="complex")
    providers = []
    for name, number, cqc, sort_code, account, account_name in PROVIDERS:
        provider = provider_create(actor=officer, name=name, supplier_number=number, cqc_location_id=cqc,
                                   payment_schedule=schedule, remittance_email=f"accounts@{number.lower()}.example.com")
        change = bank_change_request(provider=provider, sort_code=sort_code, account_number=account,
                                     account_name=account_name, evidence="Confirmed by call back to the number on the "
                                     "contract", actor=officer)
        bank_change_decide(change=change, approve=True, actor=leader)
        providers.append(provider)
    moorside, northmoor, heather = providers
    for provider, service, band, old, new in [
        (moorside, homecare, standard, "24.00", "25.20"), (moorside, homecare, complex_band, "27.50", "28.88"),
        (northmoor, sl, standard, "22.10", "23.05"), (heather, residential, standard, "850.00", "892.50"),
    ]:
        rate_add(provider=provider, service_type=service, band=band, rate=Decimal(old), effective_from=date(2025, 4, 1),
                 actor=officer, reason="2025/26 contract rate")
        rate_add(provider=provider, service_type=service, band=band, rate=Decimal(new), effective_from=date(2026, 4, 1),
                 actor=officer, reason="2026/27 contract rate")
    clients = list(Client.objects.filter(date_of_death__isnull=True).order_by("reference")[:4])
    if len(clients) < 4:
        stdout.write("Too few demo clients for care packages.")
        return
    pattern = [{"weekday": d, "start": s, "minutes": 60} for d in range(7) for s in ("08:00", "17:00")]
    packages = [
        package_create(client=clients[0], provider=moorside, service_type=homecare, band=standard,
                       start_date=date(2026, 1, 5), visit_pattern=pattern, actor=officer),
        package_create(client=clients[1], provider=moorside, service_type=homecare, band=complex_band,
                       start_date=date(2026, 2, 2), units_per_week=Decimal("10.5"), actor=officer),
        package_create(client=clients[2], provider=northmoor, service_type=sl, band=standard,
                       start_date=date(2025, 11, 3), units_per_week=Decimal("35"), agreed_rate=Decimal("24.00"),
                       agreed_rate_reason="Agreed by the commissioning panel for night support", actor=officer),
        package_create(client=clients[3], provider=heather, service_type=residential, band=standard,
                       start_date=date(2025, 9, 1), units_per_week=Decimal("1"), actor=officer),
    ]
    for package in packages:
        package_transition(package=package, to_status=PackageStatus.APPROVED, actor=leader)
    start = date(2026, 3, 23)
    rows = ["client_reference,service_code,visit_date,planned_start,planned_minutes,check_in,check_out"]
    for offset in range(14):
        day = start + timedelta(days=offset)
        rows.append(f"{clients[0].reference},homecare,{day.isoformat()},08:00,60,08:00,{'08:45' if offset == 3 else '09:00'}")
        rows.append(f"{clients[0].reference},homecare,{day.isoformat()},17:00,60,17:00,{'17:57' if offset == 5 else '18:00'}")
    rows.append(f"{clients[0].reference},homecare,2026-03-24,08:00,60,08:00,09:00")  # a duplicate visit
    rows.append(f"{clients[1].reference},homecare,2026-04-10,10:00,60,10:00,11:00")  # after the claim period
    rows.append("SC999999,homecare,2026-03-26,09:00,30,09:00,09:30")  # no such client
    claim_import(provider=moorside, source=ClaimSource.ECM, reference=DEMO_CLAIM, period_start=start,
                 period_end=start + timedelta(days=13), data=("\n".join(rows) + "\n").encode(),
                 filename="moorside-ecm.csv", actor=officer)
    stdout.write("Seeded 3 providers with rate cards, 4 care packages and a claim with validation exceptions.")
