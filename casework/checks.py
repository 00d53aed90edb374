"""Deployment checks on the council's details (`manage.py check --deploy`), and the refusal to
start in production without them (config/wsgi.py and the Celery workers call
`require_council_details`).

careledger.E020: the council's name or address is missing (every letter is headed with them).
careledger.E021: the income bank account is missing (every letter that asks for money prints it).
careledger.E022: the remittance contact is missing (every remittance advice names them).
"""
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

CHECKS = (
    ("identity", "careledger.E020", "The council's name and address are missing ({})",
     "Every letter is headed with them."),
    ("bank", "careledger.E021", "The council's income bank details are missing ({})",
     "Every letter that asks for money tells people where to pay."),
    ("remittance", "careledger.E022", "The council's remittance contact is missing ({})",
     "Every remittance advice tells providers whom to ask about it."),
)
HINT = "A system administrator fills them in on the council details page (/council/), or run " \
       "`manage.py council_details --from-file <file>`."


def council_problems() -> list[tuple[str, str]]:
    """(check id, message) for each group of details missing; one problem if the table cannot be read."""
    from casework.models.council import CouncilDetails

    try:
        details = CouncilDetails.objects.filter(pk=1).first()
    except DatabaseError as exc:
        return [("careledger.E020", f"The council's details cannot be read ({exc.__class__.__name__}): "
                                    "run `manage.py migrate`, then enter them")]
    details = details or CouncilDetails()
    missing = details.missing()
    return [(check_id, message.format(", ".join(missing[group]))) for group, check_id, message, _ in CHECKS
            if missing[group]]


@register("careledger", deploy=True)
def council_details_check(app_configs=None, **kwargs) -> list[Error]:
    hints = {check_id: why for _, check_id, _, why in CHECKS}
    return [Error(message, hint=f"{hints.get(check_id, '')} {HINT}".strip(), id=check_id)
            for check_id, message in council_problems()]


def require_council_details() -> None:
    """In production, refuse to start without the council's details, naming what is missing."""
    from django.conf import settings

    if not getattr(settings, "PRODUCTION", False):
        return
    problems = council_problems()
    if problems:
        raise ImproperlyConfigured("Careledger will not start without the council's details. "
                                   + " ".join(f"{message} [{check_id}]." for check_id, message in problems)
                                   + " " + HINT)
