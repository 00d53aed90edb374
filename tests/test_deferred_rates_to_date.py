"""National maximum interest rates to date (DPA Regs reg 9; rules.md DP-07, DP-13): every loaded
half-year carries its source, a half-year without a published rate stays missing (never inferred),
a missing rate refuses the accrual and emails the finance administrators once a half-year, a
statement's interest sentence never builds on a missing figure, and the agreement page shows the
interest rate today."""
import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from casework.constants import EntryKind
from casework.letters.services import current_template
from casework.letters.types import get_letter_type
from casework.models import LetterTemplate
from casework.roles import Role
from casework.services import DomainError, ledger_post
from deferred_payments import rates_today, services, statements
from deferred_payments.interest import half_year_end, half_year_start
from deferred_payments.letters import STATEMENT_LETTER, statement_interest_sentence
from deferred_payments.models import Alert, AlertKind, InterestPosting, NationalMaximumRate, RateMissingNotice
from deferred_payments.rates_today import interest_sentence, rate_missing_notify, rate_today
from deferred_payments.reference import RateTable

from .factories import UserFactory
from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement, dpa_officer

pytestmark = pytest.mark.django_db
D = Decimal
MIGRATION = "deferred_payments.migrations.0004_interest_rates_to_date"
JULY_2025 = date(2025, 7, 1)


def load_migration():
    importlib.import_module(MIGRATION).load(django_apps, None)


@pytest.fixture
def finance_admin():
    return UserFactory(username="finance-admin", roles=[Role.FINANCE_ADMINISTRATOR])


def owing_agreement():
    """£39,823.90 deferred from 1 January 2024; nothing deferred weekly."""
    agreement = active_agreement(weekly_care_cost=D("0"), weekly_contribution=D("0"))
    ledger_post(account=agreement.account, kind=EntryKind.CHARGE, amount=D("39823.90"), effective_date=date(2024, 1, 1),
                reference="OPENING", description="Care costs deferred", actor=dpa_officer())
    return agreement


# --- The rates loaded, with their sources --------------------------------------------------------------


def test_every_loaded_half_year_names_the_address_of_its_source():
    load_migration()
    rows = list(NationalMaximumRate.objects.filter(period_start__lt=JULY_2025).order_by("period_start"))
    assert [r.period_start for r in rows][:1] == [date(2018, 1, 1)] and len(rows) == 15
    assert all("https://" in r.source for r in rows), [r.source for r in rows if "https://" not in r.source]
    assert NationalMaximumRate.objects.get(period_start=date(2024, 1, 1)).rate == D("4.6500")
    assert "westsussexconnecttosupport.org" in NationalMaximumRate.objects.get(period_start=date(2024, 1, 1)).source
    load_migration()  # a second run changes nothing
    assert [r.source for r in NationalMaximumRate.objects.filter(period_start__lt=JULY_2025)
            .order_by("period_start")] == [r.source for r in rows]


def test_half_years_without_a_published_rate_are_left_missing_not_inferred():
    load_migration()
    starts = set(NationalMaximumRate.objects.values_list("period_start", flat=True))
    assert not {date(2015, 4, 1), date(2015, 7, 1), date(2016, 1, 1), date(2017, 7, 1)} & starts
    assert not any(s >= JULY_2025 for s in starts)


def test_the_statement_wording_still_saying_charged_at_rates_gets_a_new_version():
    old = get_letter_type(STATEMENT_LETTER).default_body.replace("{{ interest_sentence }}",
                                                                  "Interest was charged at {{ rates }}.")
    LetterTemplate.objects.create(letter_type=STATEMENT_LETTER, version=1, subject="Statement", body=old,
                                  created_by=None, change_note="Default wording")
    load_migration()
    template = current_template(STATEMENT_LETTER)
    assert template.version == 2
    assert "{{ interest_sentence }}" in template.body and "{{ rates }}" not in template.body
    load_migration()
    assert current_template(STATEMENT_LETTER).version == 2


# --- The interest sentence -----------------------------------------------------------------------------


def test_the_sentence_names_each_rate_and_the_dates_it_applied():
    table = RateTable(maxima={date(2025, 1, 1): D("4.25")}, council=[])
    text = interest_sentence(start=date(2025, 1, 1), end=date(2025, 6, 30), compounding="daily", rates=table,
                             applied=[["2025-01-01", "2025-06-30", "4.25", "4.25"]])
    assert text == "Interest was charged at 4.25% a year from 1 January 2025 to 30 June 2025, compounded daily."


def test_a_period_without_a_published_rate_says_so_and_that_no_interest_was_added():
    table = RateTable(maxima={date(2025, 1, 1): D("4.25")}, council=[])
    text = interest_sentence(start=JULY_2025, end=date(2025, 12, 7), compounding="daily", rates=table, applied=[])
    assert text == ("The national maximum interest rate for 1 July 2025 to 7 December 2025 has not yet been "
                    "published, so no interest was added for those days; it will be added once the rate is published.")
    assert "no interest in this period" not in text and "at no interest" not in text and "0%" not in text


def test_a_period_straddling_a_missing_half_year_names_both():
    table = RateTable(maxima={date(2025, 1, 1): D("4.25")}, council=[])
    text = interest_sentence(start=date(2025, 5, 1), end=date(2025, 8, 31), compounding="monthly", rates=table,
                             applied=[["2025-05-01", "2025-05-31", "4.25", "4.25"],
                                      ["2025-06-01", "2025-06-30", "4.25", "4.25"]])
    assert text.startswith("Interest was charged at 4.25% a year from 1 May 2025 to 30 June 2025, compounded monthly. "
                           "The national maximum interest rate for 1 July 2025 to 31 August 2025 has not yet been "
                           "published")


def test_statements_recorded_before_the_sentence_never_print_at_no_interest():
    assert statement_interest_sentence({"rates_text": "no interest in this period a year, compounded daily"}) == \
        "No interest was added in this period."
    assert statement_interest_sentence({"rates_text": "4.65% a year, compounded daily"}) == \
        "Interest was charged at 4.65% a year, compounded daily."


def test_a_statement_over_a_half_year_without_a_rate_says_it_is_not_yet_published(finance_admin):
    agreement = owing_agreement()
    yesterday = timezone.localdate() - timedelta(days=1)
    period = half_year_start(yesterday)
    NationalMaximumRate.objects.filter(period_start__gte=JULY_2025).delete()
    statement = statements.statement_on_request(agreement=agreement, actor=dpa_officer())
    sentence = statement.figures["interest_sentence"]
    assert sentence.startswith(f"The national maximum interest rate for {period.day} {period:%B %Y} to "
                               f"{yesterday.day} {yesterday:%B %Y} has not yet been published, so no interest was added")
    assert statement.figures["rates_text"] == "" and statement.figures["interest"] == "0.00"
    context = get_letter_type(STATEMENT_LETTER).build_context(agreement.client, timezone.localdate(),
                                                              agreement=agreement, figures=statement.figures)
    assert context["interest_sentence"] == sentence
    assert "{{ interest_sentence }}" in current_template(STATEMENT_LETTER).body
    assert "Interest was charged at {{ rates }}" not in current_template(STATEMENT_LETTER).body


# --- A missing rate: refused, alerted, emailed once ------------------------------------------------------


def test_a_missing_rate_refuses_the_accrual_alerts_and_emails_the_finance_administrators_once(finance_admin):
    first, second = owing_agreement(), owing_agreement()
    mail.outbox.clear()
    for agreement in (first, second, first):
        services.interest_accrue(agreement=agreement, through=date(2025, 12, 31), actor=dpa_officer())
    # Interest stops at 30 June 2025, the last half-year with a national maximum.
    assert max(InterestPosting.objects.filter(agreement=first).values_list("period_end", flat=True)) == date(2025, 6, 30)
    assert Alert.objects.filter(kind=AlertKind.RATE_MISSING, key="2025-07-01").count() == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [finance_admin.email]
    assert "1 July 2025 to 31 December 2025" in message.subject
    assert "reg 9" in message.body and "2 agreement(s)" in message.body
    notice = RateMissingNotice.objects.get()
    assert (notice.period_start, notice.recipients) == (JULY_2025, finance_admin.email) and notice.sent_at
    # The six-monthly statement for the half-year is refused, and sends no second email.
    with pytest.raises(DomainError, match="No national maximum interest rate is recorded for 1 July 2025"):
        statements.six_monthly_produce(agreement=first, business_date=date(2026, 1, 2), actor=dpa_officer())
    assert len(mail.outbox) == 1


def test_each_missing_half_year_is_its_own_email(finance_admin):
    mail.outbox.clear()
    rate_missing_notify(JULY_2025, on=date(2026, 1, 1), agreements=1)
    rate_missing_notify(date(2026, 1, 1), on=date(2026, 7, 1), agreements=1)
    rate_missing_notify(JULY_2025, on=date(2026, 7, 1), agreements=1)
    assert [m.subject.split(" for ")[1] for m in mail.outbox] == ["1 July 2025 to 31 December 2025",
                                                                 "1 January 2026 to 30 June 2026"]


def test_an_email_the_mail_server_refused_is_sent_by_the_next_run(finance_admin, monkeypatch):
    mail.outbox.clear()

    def refused(**kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(rates_today, "send_mail", refused)
    notice = rate_missing_notify(JULY_2025, on=date(2026, 1, 1), agreements=1)
    assert notice.sent_at is None and "connection refused" in notice.error
    monkeypatch.undo()
    notice = rate_missing_notify(JULY_2025, on=date(2026, 1, 2), agreements=1)
    assert notice.sent_at is not None and notice.error == "" and len(mail.outbox) == 1


# --- The interest rate today ---------------------------------------------------------------------------------


def test_rate_today_names_the_rate_and_its_half_year_or_that_it_is_not_yet_published():
    table = RateTable(maxima={date(2025, 1, 1): D("4.25")}, council=[(date(2015, 4, 1), None)])
    assert rate_today(date(2025, 3, 1), table).text == ("4.25% a year, the national maximum for 1 January 2025 "
                                                        "to 30 June 2025")
    lower = RateTable(maxima={date(2025, 1, 1): D("4.25")}, council=[(date(2025, 2, 1), D("3.50"))])
    assert rate_today(date(2025, 3, 1), lower).text == ("3.5% a year (the national maximum for 1 January 2025 to "
                                                        "30 June 2025 is 4.25%)")
    missing = rate_today(date(2025, 9, 1), table)
    assert missing.rate is None and missing.text == (
        "Not yet published: the national maximum for 1 July 2025 to 31 December 2025 has not been entered, so no "
        "interest is being added from 1 July 2025")


def test_the_agreement_page_shows_the_interest_rate_today(client_as):
    agreement = owing_agreement()
    today = timezone.localdate()
    start = half_year_start(today)
    NationalMaximumRate.objects.filter(period_start=start).delete()
    http = client_as(Role.DEFERRED_PAYMENT_OFFICER)
    page = http.get(reverse("deferred_payments:agreement_detail", args=[agreement.pk])).content.decode()
    assert "Interest rate today" in page
    assert f"Not yet published: the national maximum for {start.day} {start:%B %Y}" in page
    NationalMaximumRate.objects.create(period_start=start, rate=D("4.5"), source="entered for the test")
    page = http.get(reverse("deferred_payments:agreement_detail", args=[agreement.pk])).content.decode()
    end = half_year_end(today)
    assert f"4.5% a year, the national maximum for {start.day} {start:%B %Y} to {end.day} {end:%B %Y}" in page
