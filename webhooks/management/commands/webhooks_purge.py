from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webhooks.retention import events_purge


class Command(BaseCommand):
    help = "Delete stored webhook events older than --days (default: WEBHOOK_RETENTION_DAYS, 90)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.WEBHOOK_RETENTION_DAYS)

    def handle(self, *args, days: int, **options):
        try:
            deleted = events_purge(older_than_days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} webhook events older than {days} days."))
