from django.db import models


class ImmutableError(Exception):
    """Raised when code tries to change or delete a record that may only be added to."""


class AppendOnlyModel(models.Model):
    """A record that is written once: updates and deletes are refused.

    On PostgreSQL a trigger refuses UPDATE and DELETE on the table as well (see the migrations),
    so raw SQL cannot change history either.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError(f"{self._meta.verbose_name} records cannot be changed once written")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{self._meta.verbose_name} records cannot be deleted")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("Append-only records cannot be updated")

    def delete(self):
        raise ImmutableError("Append-only records cannot be deleted")
