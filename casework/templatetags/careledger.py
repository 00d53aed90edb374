from django import template

from casework.money import format_pounds

register = template.Library()


@register.filter
def money(value) -> str:
    """£1,234.50 (negative: -£12.00). The only place amounts become text."""
    if value is None or value == "":
        return ""
    return format_pounds(value)


@register.filter
def balance_words(value) -> str:
    """'owes £12.00', 'in credit by £3.00' or 'nothing owed'."""
    if value is None:
        return ""
    if value > 0:
        return f"owes {format_pounds(value)}"
    if value < 0:
        return f"in credit by {format_pounds(-value)}"
    return "nothing owed"


@register.filter
def status_tag(status: str) -> str:
    """The GOV.UK tag colour for a case status."""
    return {
        "open": "govuk-tag--blue",
        "in_progress": "govuk-tag--light-blue",
        "awaiting_response": "govuk-tag--yellow",
        "escalated": "govuk-tag--red",
        "closed": "govuk-tag--grey",
    }.get(status, "")


@register.filter
def is_overdue(case, today) -> bool:
    return case.is_overdue(today)


@register.filter
def absolute(value):
    return abs(value) if value is not None else value
