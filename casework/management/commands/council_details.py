"""Loads the council's details (name, address, income bank account, ways to pay, remittance
contact) from a JSON file, or shows what is held.

    python manage.py council_details --from-file config/council_details.example.json
    python manage.py council_details            # show the details held and what is missing

The file holds one object with the fields of casework.models.council.DETAIL_FIELDS; each is checked
as the council details page checks it, and a refusal names the field. The change is kept in the
details' history, as a change made on the page is.
"""
import json

from django.core.management.base import BaseCommand, CommandError

from casework.models.council import CouncilDetails, details_from_file
from casework.services.council import council_details_save
from casework.services.errors import DomainError


class Command(BaseCommand):
    help = "Load the council's details from a JSON file (or show those held)"

    def add_arguments(self, parser):
        parser.add_argument("--from-file", dest="path", help="A JSON file such as config/council_details.example.json")

    def handle(self, *args, path=None, **options):
        if path:
            try:
                data = details_from_file(path)
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            try:
                details = council_details_save(data=data)
            except DomainError as exc:
                raise CommandError(f"{path}: {exc.field}: {exc.message}") from exc
            self.stdout.write(f"Council details loaded from {path}: {details.name}.")
            return
        details = CouncilDetails.objects.filter(pk=1).first()
        if details is None:
            self.stdout.write("No council details are held. Load them with --from-file.")
            return
        from casework.models.council import DETAIL_FIELDS

        self.stdout.write(json.dumps({f: getattr(details, f) for f in DETAIL_FIELDS}, indent=2))
        missing = [label for labels in details.missing().values() for label in labels]
        if missing:
            self.stdout.write(f"Missing: {', '.join(missing)}")
