"""The user that scheduled runs and generated data act as when no person did. It cannot sign in."""
from django.contrib.auth import get_user_model

SYSTEM_USERNAME = "careledger-system"


def system_user():
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "Careledger", "last_name": "system", "is_active": False})
    if created or user.has_usable_password() or user.is_active:
        user.set_unusable_password()
        user.is_active = False
        user.save()
    return user
