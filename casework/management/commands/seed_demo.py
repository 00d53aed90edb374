"""Seed realistic demo data for the embedded demo. Safe to run again: nothing is duplicated.

Creates one login per role (password demo-careledger-2026, two-factor relaxed in the demo only),
the finance teams, and about 150 clients with representatives, cases, timelines, tasks and a
ledger of four-weekly charges and payments, all written through the services as an officer would.
"""
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from faker import Faker

from casework import services
from casework.constants import (
    Capacity,
    CaseStatus,
    CaseType,
    CommunicationNeed,
    EntryKind,
    Priority,
    RepresentativeKind,
    TimelineKind,
)
from casework.models import Area, Client, Team
from casework.models.accounts import DEMO_GROUP
from casework.models.clients import nhs_check_digit
from casework.roles import Role
from casework.views.auth import DEMO_PASSWORD

DEMO_USERS = [
    # username, first, last, role, team
    ("income", "Priya", "Shah", Role.INCOME_OFFICER, "Income and debt recovery"),
    ("deferred", "Tom", "Hughes", Role.DEFERRED_PAYMENT_OFFICER, "Deferred payments"),
    ("directpay", "Grace", "Okafor", Role.DIRECT_PAYMENT_OFFICER, "Direct payments monitoring"),
    ("provider", "Daniel", "Murphy", Role.PROVIDER_PAYMENT_OFFICER, "Provider payments"),
    ("resource", "Helen", "Walsh", Role.RESOURCE_MANAGEMENT_OFFICER, "Resource management"),
    ("teamleader", "Marcus", "Bennett", Role.TEAM_LEADER, None),
    # A second leader: what needs two (an erasure of personal data) can be tried end to end.
    ("teamleader2", "Aisha", "Khan", Role.TEAM_LEADER, None),
    ("financeadmin", "Lucy", "Chen", Role.FINANCE_ADMINISTRATOR, None),
    ("auditor", "Robert", "Ellis", Role.AUDITOR, None),
    ("sysadmin", "Sam", "Taylor", Role.SYSTEM_ADMINISTRATOR, None),
    ("integration", "Finance", "System", Role.SYSTEM_ACCOUNT, None),
]
TEAM_FOR_CASE = {
    CaseType.DEBT_RECOVERY: "Income and debt recovery",
    CaseType.FINANCE_ONLY: "Resource management",
    CaseType.DEFERRED_PAYMENT: "Deferred payments",
    CaseType.DIRECT_PAYMENT_AUDIT: "Direct payments monitoring",
    CaseType.PROVIDER_DISPUTE: "Provider payments",
    CaseType.DECEASED_ESTATE: "Resource management",
    CaseType.FINANCIAL_AFFAIRS: "Resource management",
    CaseType.PROTECTION_OF_PROPERTY: "Resource management",
    CaseType.HIGH_COST_EXCEPTION: "Resource management",
}
CASE_TITLES = {
    CaseType.DEBT_RECOVERY: ["Arrears on care charges", "Unpaid residential contribution", "Missed repayment plan instalments"],
    CaseType.FINANCE_ONLY: ["Self-funder arranging care through the council", "Finance only: top-up arrangement"],
    CaseType.DEFERRED_PAYMENT: ["Deferred payment application", "Six-monthly review of deferred payment"],
    CaseType.DIRECT_PAYMENT_AUDIT: ["First audit after 12 weeks", "Annual direct payment audit"],
    CaseType.PROVIDER_DISPUTE: ["Provider disputes reduced invoice", "Call monitoring shows missed visits"],
    CaseType.DECEASED_ESTATE: ["Debt owed by the estate", "Claim against the estate"],
    CaseType.FINANCIAL_AFFAIRS: ["Appointeeship: benefits management", "Court of Protection deputyship application"],
    CaseType.PROTECTION_OF_PROPERTY: ["Secure the home while in hospital", "Protection of property: pets and valuables"],
    CaseType.HIGH_COST_EXCEPTION: ["Package cost above guide price", "Review of 1:1 support hours"],
}
NOTES = [
    (TimelineKind.CALL, "Called the client's daughter", "She will discuss the arrears with her mother and call back on Friday."),
    (TimelineKind.NOTE, "Checked benefits entitlement", "Attendance Allowance at the higher rate is in payment; financial assessment is correct."),
    (TimelineKind.LETTER, "Sent a letter explaining the charge", "Explained how the weekly contribution was worked out."),
    (TimelineKind.VISIT, "Home visit with social worker", "Client understands the charge; agreed to set up a Direct Debit."),
    (TimelineKind.EMAIL, "Email from the care home", "The home confirms the client's room is now permanent."),
]
POSTCODES = ["NM1 2AB", "NM2 4JX", "NM3 6PL", "NM4 1QT", "NM5 9RD", "NM6 3HS", "NM7 8UW", "NM8 5YB"]
CLIENT_COUNT = 150
#: The council's localities, by postcode district (for reports, guide prices and the spend forecast).
AREA_FOR_DISTRICT = {"NM1": "Northmoor Town", "NM2": "Northmoor Town", "NM3": "Eastfield", "NM4": "Eastfield",
                     "NM5": "Southdale", "NM6": "Southdale", "NM7": "Westbury", "NM8": "Westbury"}


class Command(BaseCommand):
    help = "Seed realistic demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        from casework.demo import refuse_without_demo_data

        refuse_without_demo_data("seed_demo")
        users = self._users()
        self._council_details()
        if Client.objects.filter(reference__startswith="SC2").exists():
            self.stdout.write("Demo clients already present: not adding more.")
        else:
            self._clients(users)
            self.stdout.write(self.style.SUCCESS(f"Seeded {CLIENT_COUNT} demo clients."))
        self._billing(users)
        from casework.demo import demo_seeders

        for seeder in demo_seeders():
            seeder(users, self.stdout)
        self._approvals(users)
        self._statement_run()
        self._print_logins()

    def _council_details(self) -> None:
        """The invented council's details from config/council_details.example.json (name, address,
        income bank account, ways to pay, remittance contact), so letters and remittance advices show
        real-looking details. Details a system administrator has already saved are left as they are."""
        from django.conf import settings

        from casework.models.council import CouncilDetails, details_from_file
        from casework.services.council import council_details_save

        if CouncilDetails.objects.filter(pk=1).exists():
            return
        council_details_save(data=details_from_file(settings.BASE_DIR / "config" / "council_details.example.json"))
        self.stdout.write("Loaded the example council details.")

    def _billing(self, users: dict) -> None:
        """Assessed charges for forty home-care clients, and a completed billing run raising their
        invoices (with letters) for the latest period due. Other apps' data arrives with their issues."""
        from django.test.utils import override_settings

        from casework.runs.services import run_counts, run_start
        from debt.models import AssessedCharge, ChargeableService
        from debt.services.billing import charge_create, due_period

        period = due_period(timezone.localdate())
        if not AssessedCharge.objects.exists():
            rnd = random.Random(40)
            home_care = ChargeableService.objects.get(code="home_care")
            for client in Client.objects.filter(reference__startswith="SC2", date_of_death__isnull=True)[:40]:
                charge_create(client=client, service=home_care, weekly_amount=Decimal(rnd.choice(
                    ["32.15", "48.90", "75.40", "99.85", "112.60", "187.25"])),
                    effective_from=period.start - timedelta(days=rnd.choice([0, 0, 28, 56, -10])),
                    assessment_reference=f"FA-{rnd.randint(10000, 99999)}", actor=users["income"])
        with override_settings(RUNS_IN_BACKGROUND_THREAD=False):
            run = run_start(job="billing", business_date=timezone.localdate(), trigger="command")
        run.refresh_from_db()
        self.stdout.write(f"Billing run {run.pk} for {period.start:%d %b} to {period.end:%d %b %Y}: "
                          f"{run.get_status_display()}, {run_counts(run)['done']} invoices.")

    def _approvals(self, users: dict) -> None:
        """Money controls at work: an income officer's goodwill credit waiting for a team leader, and
        an earlier one approved by a team leader (so the separation report has a maker and a checker)."""
        from casework.models import ControlRequest
        from casework.selectors import account_balance
        from casework.services.controls import control_request_transition

        if ControlRequest.objects.exists():
            return
        owing = [c for c in Client.objects.filter(reference__startswith="SC2", date_of_death__isnull=True)
                 .order_by("reference")[:60] if account_balance(services.account_for_client(c)) > 40][:2]
        if len(owing) < 2:
            return
        today = timezone.localdate()
        approved = services.ledger_post_by_hand(
            account=services.account_for_client(owing[0]), kind=EntryKind.CREDIT, amount=Decimal("25.00"),
            effective_date=today - timedelta(days=6), reference="GW-0001", description="Goodwill credit: late visit",
            reason="Complaint upheld: two home care visits were more than an hour late", actor=users["income"])
        control_request_transition(request=approved, to="approved", actor=users["teamleader"],
                                   note="Checked the provider's visit log")
        waiting = services.ledger_post_by_hand(
            account=services.account_for_client(owing[1]), kind=EntryKind.CREDIT, amount=Decimal("40.00"),
            effective_date=today, reference="GW-0002", description="Goodwill credit: missed visit",
            reason="Daughter reports a missed visit on the 3rd; the provider confirms", actor=users["income"])
        self.stdout.write(f"Approvals: {approved.reference} approved, {waiting.reference} waiting for a team leader.")

    def _statement_run(self) -> None:
        """A completed statements run for today, with letters and a print batch to open."""
        from django.test.utils import override_settings

        from casework.runs.services import run_counts, run_start

        with override_settings(RUNS_IN_BACKGROUND_THREAD=False):  # finish before the command ends
            run = run_start(job="statements", business_date=timezone.localdate(), trigger="command")
        run.refresh_from_db()
        counts = run_counts(run)
        self.stdout.write(f"Statements run {run.pk} for {run.business_date}: {run.get_status_display()}, "
                          f"{counts['done']} letters, {counts['skipped']} skipped.")

    def _users(self) -> dict:
        demo_group, _ = Group.objects.get_or_create(name=DEMO_GROUP)
        for role in Role:
            Group.objects.get_or_create(name=role.value)
        self._admin_permissions()
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in set(TEAM_FOR_CASE.values())}
        User = get_user_model()
        users = {}
        for username, first, last, role, team in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
            user.email = f"{username}@northmoor.example.gov.uk"
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role in (Role.SYSTEM_ADMINISTRATOR, Role.FINANCE_ADMINISTRATOR)
            user.is_superuser = role == Role.SYSTEM_ADMINISTRATOR
            user.save()
            user.groups.add(Group.objects.get(name=role.value), demo_group)
            if team:
                teams[team].members.add(user)
            if role == Role.TEAM_LEADER:
                for t in teams.values():
                    t.leaders.add(user)
            if role == Role.SYSTEM_ACCOUNT:
                from rest_framework.authtoken.models import Token

                Token.objects.get_or_create(user=user)
            users[username] = user
        users["teams"] = teams
        return users

    def _admin_permissions(self) -> None:
        """The finance administrator keeps reference data: teams, the nightly schedules, and the
        income figures (services, billing cycle, recovery ladder and thresholds, limitation and
        write-off levels). Letter wording has its own pages."""
        group = Group.objects.get(name=Role.FINANCE_ADMINISTRATOR.value)
        group.permissions.set(Permission.objects.filter(
            Q(content_type__app_label="casework", content_type__model="team")
            | Q(content_type__app_label="django_celery_beat",
                content_type__model__in=["periodictask", "crontabschedule"])
            | Q(content_type__app_label="debt", content_type__model__in=[
                "chargeableservice", "billingcycle", "recoverystage", "recoverythreshold", "limitationrule",
                "writeofflevel", "breathingspacerule", "planrule", "spendingguideline", "courtfeeband",
                "claiminterestrule", "estatefollowuprule"])))

    @transaction.atomic
    def _clients(self, users: dict) -> None:
        fake = Faker("en_GB")
        Faker.seed(2026)
        rnd = random.Random(2026)
        today = timezone.localdate()
        teams = users["teams"]
        officers = {team: [u for u in users.values() if hasattr(u, "teams") and u.teams.filter(name=team).exists()]
                    for team in teams}
        income = users["income"]
        areas = {name: Area.objects.get_or_create(name=name)[0] for name in set(AREA_FOR_DISTRICT.values())}
        for i in range(CLIENT_COUNT):
            body = f"{(700000000 + i * 9973) % 1000000000:09d}"
            check = nhs_check_digit(body)
            nhs_number = body + check if check else ""
            lacks = rnd.random() < 0.2
            needs = rnd.sample([c.value for c in CommunicationNeed if c != CommunicationNeed.NAMED_CONTACT_ONLY], k=rnd.choice([0, 0, 0, 1]))
            gender = rnd.choice(["female", "male"])
            first = fake.first_name_female() if gender == "female" else fake.first_name_male()
            client = services.client_create(
                actor=income,
                reference=f"SC{200000 + i}",
                nhs_number=nhs_number,
                title=rnd.choice(["Mrs", "Ms", "Miss"]) if gender == "female" else "Mr",
                first_name=first,
                last_name=fake.last_name(),
                date_of_birth=today - timedelta(days=rnd.randint(65 * 365, 98 * 365)),
                address_line_1=fake.street_address().replace("\n", ", "),
                town="Northmoor",
                county="Northmoorshire",
                postcode=(postcode := rnd.choice(POSTCODES)),
                area=areas[AREA_FOR_DISTRICT[postcode.split()[0]]],
                phone=f"01632 {rnd.randint(100000, 999999)}",
                capacity=Capacity.LACKS if lacks else Capacity.HAS,
                capacity_assessed_on=today - timedelta(days=rnd.randint(30, 900)) if lacks else None,
                capacity_assessor="Dr S Morgan, Northmoor Community Mental Health Team" if lacks else "",
                communication_needs=needs,
                safeguarding_flag=rnd.random() < 0.05,
                safeguarding_note="Concern about a relative's use of the client's bank card; referred to safeguarding.",
            )
            self._representatives(client, lacks, fake, rnd, income, today)
            self._ledger(client, rnd, income, today)
            self._cases(client, rnd, users, officers, teams, today)
            if rnd.random() < 0.04:
                services.client_record_death(client=client, date_of_death=today - timedelta(days=rnd.randint(5, 200)),
                                             source="registrar", verified=True, actor=users["resource"])

    def _representatives(self, client, lacks, fake, rnd, actor, today) -> None:
        if lacks:
            kind = rnd.choice([RepresentativeKind.DEPUTY, RepresentativeKind.ATTORNEY, RepresentativeKind.APPOINTEE])
            services.representative_add(
                client=client, actor=actor, kind=kind, name=fake.name(), relationship=rnd.choice(["Son", "Daughter", "Solicitor"]),
                address_line_1=fake.street_address().replace("\n", ", "), town="Northmoor", postcode=rnd.choice(POSTCODES),
                phone=f"07700 {rnd.randint(900000, 900999)}", authority_reference=f"{'COP' if kind == 'deputy' else 'LPA'}-{rnd.randint(10000, 99999)}",
                start_date=today - timedelta(days=rnd.randint(100, 1500)),
            )
        elif rnd.random() < 0.3:
            services.representative_add(
                client=client, actor=actor, kind=RepresentativeKind.FAMILY, name=fake.name(), relationship="Daughter",
                address_line_1=fake.street_address().replace("\n", ", "), town="Northmoor", postcode=rnd.choice(POSTCODES),
                start_date=today - timedelta(days=rnd.randint(100, 1500)),
            )

    def _ledger(self, client, rnd, actor, today) -> None:
        account = services.account_for_client(client)
        weekly = Decimal(rnd.choice(["32.15", "48.90", "75.40", "112.60", "187.25", "243.10"]))
        periods = rnd.randint(2, 7)
        pays = rnd.random()
        for p in range(periods, 0, -1):
            end = today - timedelta(days=28 * p - 27)
            services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=weekly * 4, effective_date=end,
                                 reference=f"INV{client.reference[2:]}{p:02d}",
                                 description=f"Assessed contribution, 4 weeks to {end:%d %B %Y}", actor=actor)
            if pays > 0.35 or p > 3:
                services.ledger_post(account=account, kind=EntryKind.PAYMENT, amount=weekly * 4,
                                     effective_date=end + timedelta(days=rnd.randint(10, 25)),
                                     reference=f"DD{rnd.randint(100000, 999999)}", description="Direct Debit", actor=actor)

    def _cases(self, client, rnd, users, officers, teams, today) -> None:
        if rnd.random() < 0.25:
            return
        case_type = rnd.choices(list(TEAM_FOR_CASE), weights=[40, 6, 10, 12, 6, 6, 6, 4, 4])[0]
        team_name = TEAM_FOR_CASE[case_type]
        pool = officers.get(team_name) or []
        officer = pool[0] if pool and rnd.random() < 0.7 else None
        case = services.case_create(
            client=client, case_type=case_type, title=rnd.choice(CASE_TITLES[case_type]), team=teams[team_name],
            actor=users["teamleader"], assigned_officer=officer, priority=rnd.choice(list(Priority.values)),
            due_date=today + timedelta(days=rnd.randint(-10, 40)),
        )
        actor = officer or users["teamleader"]
        for kind, summary, body in rnd.sample(NOTES, k=rnd.randint(1, 3)):
            services.timeline_add(case=case, kind=kind, summary=summary, body=body, actor=actor,
                                  occurred_at=timezone.now() - timedelta(days=rnd.randint(1, 60), hours=rnd.randint(0, 8)))
        if officer and rnd.random() < 0.6:
            services.task_create(case=case, title=rnd.choice(["Chase reply to reminder", "Check payment received",
                                                              "Review repayment plan", "Call the appointee"]),
                                 due_date=today + timedelta(days=rnd.randint(-5, 14)), actor=officer)
        roll = rnd.random()
        if roll < 0.3:
            services.case_transition(case=case, to_status=CaseStatus.IN_PROGRESS, actor=actor)
        elif roll < 0.4:
            services.case_transition(case=case, to_status=CaseStatus.ESCALATED, actor=actor,
                                     reason="Needs a team leader's decision")
        elif roll < 0.45:
            services.case_hold(case=case, reason="Awaiting the outcome of a benefits appeal",
                               review_date=today + timedelta(days=rnd.randint(7, 60)), actor=actor)

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (password for all: %s)" % DEMO_PASSWORD)
        self.stdout.write("Two-factor sign-in is relaxed for these demo logins only.")
        for username, first, last, role, _ in DEMO_USERS:
            if role == Role.SYSTEM_ACCOUNT:
                continue
            self.stdout.write(f"  {role.value:<30} {username}")
        from rest_framework.authtoken.models import Token

        token = Token.objects.filter(user__username="integration").first()
        if token:
            self.stdout.write(f"  API token for the 'integration' system account: {token.key}")
