"""The deferred payment letters: the six-monthly (or requested) statement, the redemption
statement, the refusal with its reasons and the letter to the executor after a death. Each is a
casework letter type, so its wording is versioned and edited by the finance administrator."""
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils.html import format_html, format_html_join

from casework.correspondence import Recipient
from casework.letters.types import LetterType, long_date, register_letter_type
from casework.models import Client
from casework.money import format_pounds

STATEMENT_LETTER = "dpa_statement"
REDEMPTION_LETTER = "dpa_redemption"
REFUSAL_LETTER = "dpa_refusal"
DEATH_LETTER = "dpa_death"

_HELP = """\
## Questions

Call us on {{ council_phone }} or email {{ council_email }}, quoting {{ agreement_reference }}.

If you would like this letter in large print, Braille or another language, please tell us.
"""


def statement_table(figures: dict) -> str:
    """The statement's figures as an HTML table (every value escaped here)."""
    rows = [
        ("Owed at the start of the period", figures["opening"]),
        ("Care costs deferred", figures["deferred"]),
        ("Administration fees", figures["fees"]),
        # Statements before fee waivers existed have no such figure.
        *([("Administration fees waived", figures["fees_waived"])] if Decimal(figures.get("fees_waived") or 0) else []),
        ("Interest", figures["interest"]),
        ("Repayments and credits", figures["repaid"]),
        ("Total owed at the end of the period", figures["closing"]),
        ("Equity limit", figures["equity_limit"]),
        ("Equity headroom remaining", figures["headroom"]),
    ]
    body = format_html_join("\n", '<tr><th scope="row">{}</th><td class="num">{}</td></tr>',
                            ((label, format_pounds(Decimal(value))) for label, value in rows))
    return format_html('<table class="statement"><caption>Your deferred payment account, {} to {}</caption>'
                       '<tbody>{}</tbody></table>', long_date(date.fromisoformat(figures["period_start"])),
                       long_date(date.fromisoformat(figures["period_end"])), body)


def statement_interest_sentence(figures: dict) -> str:
    """The statement's sentence on interest, as recorded with its figures (statements recorded
    before the sentence was kept say the rates they applied, and nothing when none was)."""
    if figures.get("interest_sentence"):
        return figures["interest_sentence"]
    text = figures.get("rates_text", "")
    if text and not text.startswith("no interest"):
        return f"Interest was charged at {text}."
    return "No interest was added in this period."


def _statement(client: Client, on: date, *, recipient: Recipient, agreement=None, figures=None) -> dict[str, Any]:
    projected = figures.get("projected_date")
    return {
        "agreement_reference": agreement.reference,
        "period_start": long_date(date.fromisoformat(figures["period_start"])),
        "period_end": long_date(date.fromisoformat(figures["period_end"])),
        "total_owed": format_pounds(Decimal(figures["closing"])),
        "headroom": format_pounds(Decimal(figures["headroom"])),
        "projection": (f"At the current weekly deferral of {format_pounds(Decimal(figures['weekly_deferral']))}, "
                       f"the equity limit would be reached around {long_date(date.fromisoformat(projected))}."
                       if projected else "No further care costs are being deferred."),
        "rates": figures.get("rates_text", ""),
        "interest_sentence": statement_interest_sentence(figures),
        "statement_table": statement_table(figures),
    }


SAMPLE_FIGURES = {"period_start": "2026-01-01", "period_end": "2026-06-30", "opening": "40000.00",
                  "deferred": "3120.00", "fees": "281.90", "interest": "938.23", "repaid": "0.00",
                  "closing": "44340.13", "equity_limit": "190750.00", "headroom": "146409.87",
                  "weekly_deferral": "120.00", "projected_date": "2049-10-01",
                  "rates_text": "4.65% a year, compounded daily",
                  "interest_sentence": "Interest was charged at 4.65% a year from 1 January 2026 to 30 June 2026, "
                                       "compounded daily."}


def _sample_agreement():
    return SimpleNamespace(reference="DPA-000001")


register_letter_type(LetterType(
    code=STATEMENT_LETTER, name="Deferred payment: statement",
    description="The six-monthly statement of a deferred payment agreement (also sent on request).",
    fields={"agreement_reference": "The agreement reference, such as DPA-000001",
            "period_start": "First day of the statement period", "period_end": "Last day of the statement period",
            "total_owed": "Total owed at the end of the period", "headroom": "Equity headroom remaining",
            "projection": "A sentence on when the equity limit would be reached",
            "rates": "The interest rates applied in the period (empty when none was)",
            "interest_sentence": "The sentence on interest: each rate and the dates it applied, or that the rate "
                                 "for a half-year is not yet published and no interest was added",
            "statement_table": "The statement figures (must be on a line of its own)"},
    block_fields=frozenset({"statement_table"}),
    builder=_statement,
    sample=lambda: _statement(None, date(2026, 7, 1), recipient=None, agreement=_sample_agreement(),
                              figures=SAMPLE_FIGURES),
    default_subject="Deferred payment statement {{ period_start }} to {{ period_end }}",
    default_body=("This is the statement of deferred payment agreement {{ agreement_reference }} for "
                  "{{ client_name }}.\n\n{{ statement_table }}\n\nAt {{ period_end }} the total owed was "
                  "{{ total_owed }}. {{ interest_sentence }} {{ projection }}\n\n"
                  "The amount is secured by a legal charge on the property and is repaid when the property is "
                  "sold, or from the estate. You can repay all or part of it at any time.\n\n" + _HELP),
))


def _redemption(client: Client, on: date, *, recipient: Recipient, agreement=None, figures=None) -> dict[str, Any]:
    return {
        "agreement_reference": agreement.reference,
        "redemption_date": long_date(figures["on"]),
        "principal": format_pounds(figures["principal"]),
        "interest": format_pounds(figures["interest"]),
        "amount_due": format_pounds(figures["total"]),
        "amount_due_value": figures["total"],
        "payment_reference": agreement.reference,
    }


register_letter_type(LetterType(
    code=REDEMPTION_LETTER, name="Deferred payment: redemption statement",
    description="The exact amount that repays a deferred payment agreement on a chosen date (sale or repayment).",
    fields={"agreement_reference": "The agreement reference", "redemption_date": "The date the figure is for",
            "principal": "Care costs and fees deferred, less repayments", "interest": "Interest to the day before",
            "amount_due": "The amount that clears the debt on the date", "payment_reference": "Reference to quote"},
    builder=_redemption,
    sample=lambda: _redemption(None, date(2026, 7, 1), recipient=None, agreement=_sample_agreement(),
                               figures={"on": date(2026, 7, 1), "principal": Decimal("40000.00"),
                                        "interest": Decimal("938.23"), "total": Decimal("40938.23")}),
    default_subject="Redemption statement for {{ agreement_reference }} on {{ redemption_date }}",
    default_body=("To repay deferred payment agreement {{ agreement_reference }} for {{ client_name }} in full on "
                  "{{ redemption_date }}, please pay {{ amount_due }}.\n\n"
                  "- Care costs and fees deferred, less repayments: {{ principal }}\n"
                  "- Interest to the day before: {{ interest }}\n\n"
                  "Interest is charged for each further day until we receive the payment, so please ask for a new "
                  "figure if you will pay on another date. Once it is paid we will apply to remove the legal "
                  "charge from the property.\n\n" + _HELP),
    asks_for_payment=lambda context: context["amount_due_value"] > 0,
))


def _refusal(client: Client, on: date, *, recipient: Recipient, agreement=None, failed=()) -> dict[str, Any]:
    from .models import Criterion

    reasons = [(Criterion(c.criterion).label, c.evidence) for c in failed]
    return {
        "agreement_reference": agreement.reference,
        "reasons_list": format_html('<ul>{}</ul>', format_html_join("", "<li>{}: {}</li>", reasons)),
    }


register_letter_type(LetterType(
    code=REFUSAL_LETTER, name="Deferred payment: refusal",
    description="Tells the person why a deferred payment agreement cannot be offered, and how to ask for a review.",
    fields={"agreement_reference": "The application reference",
            "reasons_list": "The reasons, one per failed check (must be on a line of its own)"},
    block_fields=frozenset({"reasons_list"}),
    builder=_refusal,
    sample=lambda: {"agreement_reference": "DPA-000001",
                    "reasons_list": format_html("<ul><li>{}</li></ul>", "The home is disregarded: spouse lives there")},
    default_subject="Your application for a deferred payment agreement",
    default_body=("We have considered the application for a deferred payment agreement ({{ agreement_reference }}) "
                  "for {{ client_name }}. We are sorry that we cannot offer an agreement, for these reasons:\n\n"
                  "{{ reasons_list }}\n\n## If you disagree\n\nYou can ask us to review this decision within 28 "
                  "days. Tell us why, and send any evidence we have not seen. If you are still unhappy you can "
                  "complain to the Local Government and Social Care Ombudsman.\n\n" + _HELP),
))


def _death(client: Client, on: date, *, recipient: Recipient, agreement=None, owed=None) -> dict[str, Any]:
    return {
        "agreement_reference": agreement.reference,
        "date_of_death": long_date(client.date_of_death) if client and client.date_of_death else "",
        "due_date": long_date(agreement.due_date) if agreement.due_date else "",
        "amount_owed": format_pounds(owed),
        "payment_reference": agreement.reference,
    }


register_letter_type(LetterType(
    code=DEATH_LETTER, name="Deferred payment: after a death",
    description="To the executor or administrator: the agreement has ended and the debt falls due 90 days after the death.",
    fields={"agreement_reference": "The agreement reference", "date_of_death": "The date of death",
            "due_date": "When the debt falls due", "amount_owed": "What is owed today",
            "payment_reference": "Reference to quote"},
    builder=_death,
    sample=lambda: {"agreement_reference": "DPA-000001", "date_of_death": "10 March 2025", "due_date": "8 June 2025",
                    "amount_owed": "£41,782.59", "payment_reference": "DPA-000001"},
    default_subject="Deferred payment agreement {{ agreement_reference }}: {{ client_name }}",
    default_body=("We are sorry to hear of the death of {{ client_name }} on {{ date_of_death }}.\n\n"
                  "{{ client_name }} had a deferred payment agreement with us ({{ agreement_reference }}), secured by a "
                  "legal charge on their property. The agreement ended on their death. The amount owed today is "
                  "{{ amount_owed }}, and it falls due on {{ due_date }}, 90 days after the date of death. Interest "
                  "continues to be charged until it is repaid.\n\nWhen the property is sold, or the estate is ready to "
                  "pay, ask us for a redemption statement giving the exact figure for the day of payment. If the "
                  "debt is not paid by {{ due_date }}, we will pass it to our recovery team.\n\n" + _HELP),
    shows_how_to_pay=True,
))
