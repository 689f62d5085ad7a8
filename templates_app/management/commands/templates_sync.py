"""Import Meta's templates we do not have and reconcile the statuses of those we do."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from templates_app import services
from whatsapp.errors import CloudApiError


class Command(BaseCommand):
    help = "Sync templates with Meta: import unknown ones (they need internal approval) and fix stale statuses."

    def add_arguments(self, parser):
        parser.add_argument("--waba-id", help="one business account; default: every one with numbers or templates")

    def handle(self, *args, waba_id=None, **options):
        if waba_id:
            waba_ids = [waba_id]
        else:
            from conversations.models import BusinessNumber
            from templates_app.models import Template

            waba_ids = sorted(
                set(BusinessNumber.objects.values_list("waba_id", flat=True))
                | set(Template.objects.values_list("waba_id", flat=True))
            )
        if not waba_ids:
            raise CommandError("No business account to sync: add a number first, or pass --waba-id.")
        failed = False
        for waba in waba_ids:
            try:
                result = services.templates_sync(waba_id=waba, now=timezone.now())
            except CloudApiError as exc:
                self.stderr.write(f"WABA {waba}: {exc}")
                failed = True
                continue
            self.stdout.write(
                f"WABA {waba}: {result.seen} at Meta, {result.imported} imported, {result.updated} updated"
            )
        if failed:
            raise CommandError("Some business accounts could not be synced.")
