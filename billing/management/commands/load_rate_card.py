"""`load_rate_card FILE.csv --effective YYYY-MM-DD`: Meta's rates CSV as a new card."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing.exceptions import LoadError
from billing.loaders import rate_card_load


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--effective must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Load Meta's rates CSV (title row, Market, Currency, Marketing, ...) as a card in force from a date."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--effective", required=True, help="YYYY-MM-DD: the first day the card applies")

    def handle(self, *args, file: str, effective: str, **options):
        try:
            card = rate_card_load(file=file, effective=_day(effective), source=file)
        except LoadError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from exc
        self.stdout.write(
            f"Loaded {card.rates.count()} prices in {card.currency}, in force from {card.effective_from}."
        )
