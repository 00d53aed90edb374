from django.db import transaction

from casework.services import DomainError


def handle(request, form, action):
    """Run `action(cleaned_data)` for a valid POSTed form. A DomainError becomes an error on the
    field it names (or on the form), and nothing is written: the action's transaction rolls back."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        with transaction.atomic():
            return action(dict(form.cleaned_data))
    except DomainError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return None
