"""Loads the published England and Wales bank holidays into the working-day calendar.

    python manage.py load_bank_holidays --from 2020 --to 2035

Idempotent: a day already held (or withdrawn by a finance administrator) is left as it is."""
from datetime import date

from django.core.management.base import BaseCommand

from casework.services.working_days import load_bank_holidays


class Command(BaseCommand):
    help = "Load England and Wales bank holidays into the working-day calendar"

    def add_arguments(self, parser):
        this_year = date.today().year
        parser.add_argument("--from", dest="first", type=int, default=this_year - 1)
        parser.add_argument("--to", dest="last", type=int, default=this_year + 3)

    def handle(self, *args, first, last, **options):
        added, held = load_bank_holidays(first, last)
        self.stdout.write(f"Bank holidays {first} to {last}: {added} added, {held} already held.")
