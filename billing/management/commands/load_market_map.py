"""`load_market_map FILE.csv [--effective YYYY-MM-DD]`: Meta's country-to-market map."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.exceptions import LoadError
from billing.loaders import market_map_load
from billing.management.commands.load_rate_card import _day


class Command(BaseCommand):
    help = "Load Meta's 'Country Calling Codes and Regional Rate Mapping' CSV."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--effective", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, file: str, effective: str | None = None, **options):
        try:
            count = market_map_load(file=file, effective=_day(effective) if effective else None)
        except LoadError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from exc
        self.stdout.write(f"Mapped {count} countries and calling codes to markets.")
