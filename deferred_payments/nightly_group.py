"""The nightly accrual for a group of agreements in a handful of statements (the runs engine's
`process_group`): the usual night of an agreement is a weekly deferral and, at a half-year end,
its interest. Anything else (a death to act on, an annual fee, the equity limit reached, a new
alert, a missing rate, a posted figure to correct, a referral to recovery) is left out of the
answer, so the engine does that agreement alone with `services.nightly`, the same rules one by one.

The figures come from the same functions: `interest.interest_postings` and `redemption_amount`
on the agreement's movements, `services.equity_limit` on the same reference data.
"""
from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.models import LedgerEntry, TimelineEntry
from casework.money import ZERO, to_pennies
from casework.services.ledger import ledger_rows, ledger_save

from . import interest as engine
from . import services
from .models import (
    Agreement,
    Alert,
    AlertKind,
    DeferralPosting,
    ExistingCharge,
    FeeKind,
    FeePosting,
    InterestPosting,
    State,
    Valuation,
)
from .reference import capital_limits_on, fee_on, rule_on

ONE_DAY = timedelta(days=1)


def process_group(run, items, prepared: dict) -> dict:
    business_date = run.business_date
    through = business_date - ONE_DAY
    rates, actor = prepared["rates"], prepared["actor"]
    by_pk = {int(item.subject.split(":", 1)[1]): item for item in items}
    agreements = {a.pk: a for a in Agreement.objects.select_for_update(of=("self",)).filter(pk__in=by_pk)
                  .select_related("client", "case", "account")}
    simple = [a for a in agreements.values() if a.state in (State.ACTIVE, State.SUSPENDED)
              and not (a.client.date_of_death and a.client.date_of_death <= through)]
    if not simple:
        return {}
    accounts = [a.account_id for a in simple]
    movements = defaultdict(list)
    for account_id, on, amount, kind in LedgerEntry.objects.filter(account_id__in=accounts).values_list(
            "account_id", "effective_date", "amount", "kind"):
        movements[account_id].append((on, amount, kind))
    postings = defaultdict(dict)
    for posting in InterestPosting.objects.filter(agreement__in=simple, reversal__isnull=True):
        postings[posting.agreement_id][posting.period_start] = posting
    annual_years = defaultdict(set)
    for agreement_id, year in FeePosting.objects.filter(agreement__in=simple, kind=FeeKind.ANNUAL).values_list(
            "agreement_id", "year"):
        annual_years[agreement_id].add(year)
    alerts = set(Alert.objects.filter(agreement__in=simple, kind=AlertKind.NEARING_LIMIT).values_list("agreement_id", "key"))
    valuations = {}
    for valuation in Valuation.objects.filter(property__agreement__in=simple, valued_on__lte=through).select_related(
            "property").order_by("property__agreement_id", "-valued_on", "-id"):
        valuations.setdefault(valuation.property.agreement_id, valuation)
    charges = dict(ExistingCharge.objects.filter(property__agreement__in=simple, as_at__lte=through)
                   .exclude(ended_on__lte=through).values("property__agreement_id")
                   .annotate(t=Sum("amount")).values_list("property__agreement_id", "t"))
    rule, lcl = rule_on(through), capital_limits_on(through).lower_limit
    annual_fee = fee_on(FeeKind.ANNUAL, through)

    rows, deferrals, interest, summaries, answers, advanced = [], [], [], [], {}, []
    for agreement in simple:
        plan = _plan(agreement, through, movements[agreement.account_id], postings[agreement.pk],
                     annual_years[agreement.pk], alerts, valuations.get(agreement.pk), charges.get(agreement.pk) or ZERO,
                     rule, lcl, annual_fee, rates)
        if plan is None:
            continue  # done alone by services.nightly
        new_deferrals, new_interest = plan
        for start, end, amount in new_deferrals:
            entry, timeline = ledger_rows(account=agreement.account, kind=EntryKind.CHARGE, amount=amount,
                                          effective_date=end, actor=actor, case=agreement.case,
                                          reference=f"{agreement.reference}-DEF-{start:%Y%m%d}",
                                          description=f"Care costs deferred {start:%-d %b %Y} to {end:%-d %b %Y}")
            rows.append((entry, timeline))
            deferrals.append((agreement, start, end, amount, entry))
        for posting in new_interest:
            rate_text = ", ".join(f"{r[2]}%" for r in posting.rates)
            entry, timeline = ledger_rows(
                account=agreement.account, kind=EntryKind.INTEREST, amount=posting.amount,
                effective_date=posting.period_end, actor=actor, case=agreement.case,
                reference=f"{agreement.reference}-INT-{posting.period_end:%Y%m%d}",
                description=f"Interest {posting.period_start:%-d %b %Y} to {posting.period_end:%-d %b %Y} at "
                            f"{rate_text} ({agreement.get_compounding_display().lower()} compounding)")
            rows.append((entry, timeline))
            interest.append((agreement, posting, entry))
        done = []
        if new_deferrals:
            agreement.deferred_through = new_deferrals[-1][1]
            advanced.append(agreement)
            total = sum((d[2] for d in new_deferrals), ZERO)
            done.append(f"{len(new_deferrals)} deferral(s)")
            summaries.append(TimelineEntry(
                client_id=agreement.client_id, case_id=agreement.case_id, kind=TimelineKind.LEDGER,
                action="dpa.deferral.posted", actor=actor, occurred_at=timezone.now(),
                summary=f"{agreement.reference}: {len(new_deferrals)} deferral{'s' if len(new_deferrals) != 1 else ''} "
                        f"posted, £{total:,.2f}, to {agreement.deferred_through:%-d %B %Y}"))
        if new_interest:
            done.append(f"interest: {len(new_interest)} posted, 0 reversed")
        answers[by_pk[agreement.pk].pk] = "; ".join(done) or "Nothing due"
    ledger_save(rows)
    DeferralPosting.objects.bulk_create([DeferralPosting(agreement=a, period_start=s, period_end=e, amount=m, entry=en)
                                         for a, s, e, m, en in deferrals])
    InterestPosting.objects.bulk_create([
        InterestPosting(agreement=a, period_start=p.period_start, period_end=p.period_end, amount=p.amount,
                        rates=p.rates, entry=en) for a, p, en in interest])
    Agreement.objects.bulk_update(advanced, ["deferred_through"])
    TimelineEntry.objects.bulk_create(summaries)
    return answers


def _plan(agreement, through, entries, posted, annual_years, alerts, valuation, charges, rule, lcl, annual_fee, rates):
    """(new deferrals, new interest postings) for an ordinary night, or None to do it alone."""
    if annual_fee is not None and annual_fee.amount and any(
            year not in annual_years for year, _ in services.annual_fees_due(agreement, through)):
        return None
    movements = [(d, a) for d, a, k in entries if k != EntryKind.INTEREST]
    limit = ZERO
    if valuation is not None:
        _, _, limit = services.equity_limit(value=valuation.value, share_percent=valuation.property.share_percent,
                                            value_percent=rule.value_percent, lower_capital_limit=lcl,
                                            existing_charges=charges)
    new_deferrals = []
    if agreement.state == State.ACTIVE and agreement.start_date:
        first = (agreement.deferred_through + ONE_DAY) if agreement.deferred_through else agreement.start_date
        weekly = agreement.weekly_deferral
        for start, end in services._deferral_periods(first, through):
            amount = to_pennies(weekly)
            try:
                principal, accrued = engine.redemption_amount(movements=movements, on=end + ONE_DAY, rate_for=rates,
                                                              compounding=agreement.compounding,
                                                              basis=agreement.day_basis)
            except engine.MissingRate:
                return None
            if principal + accrued + amount > limit:
                return None  # the limit: cut, suspend and alert, one by one
            if amount > 0:
                new_deferrals.append((start, end, amount))
                movements.append((end, amount))
    try:
        expected = engine.interest_postings(movements=movements, through=through, rate_for=rates,
                                            compounding=agreement.compounding, basis=agreement.day_basis)
    except engine.MissingRate:
        return None
    wanted = {(p.period_start, p.period_end, p.amount): p for p in expected}
    for posting in posted.values():
        if posting.period_end > through:
            continue
        if (posting.period_start, posting.period_end, posting.amount) not in wanted:
            return None  # a correction: reversal and repost, one by one
        del wanted[(posting.period_start, posting.period_end, posting.amount)]
    new_interest = list(wanted.values())
    # The nearing-the-limit alert, raised once per valuation, is left to the one-by-one path.
    if valuation is not None and (agreement.pk, f"valuation:{valuation.pk}") not in alerts:
        try:
            principal, accrued = engine.redemption_amount(movements=movements, on=through + 2 * ONE_DAY, rate_for=rates,
                                                          compounding=agreement.compounding, basis=agreement.day_basis)
        except engine.MissingRate:
            return None
        if limit <= 0 or (principal + accrued) * 100 >= limit * rule.alert_percent:
            return None
    return new_deferrals, new_interest
