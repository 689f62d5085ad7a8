from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webhooks.models import WebhookEvent
from webhooks.processing import event_process
from webhooks.retention import events_needing_reprocess


class Command(BaseCommand):
    help = "Apply failed and flagged webhook events again (and received ones stuck for 10 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", help="only this event (repeatable)")

    def handle(self, *args, ids=None, **options):
        if ids:
            events = WebhookEvent.objects.filter(pk__in=ids)
            missing = set(ids) - set(events.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no webhook event with id {', '.join(map(str, sorted(missing)))}")
        else:
            events = events_needing_reprocess()
        totals: dict[str, int] = {}
        for event_id in events.order_by("received_at", "pk").values_list("pk", flat=True):
            event = event_process(event_id=event_id)
            state = event.state if event else "gone"
            totals[state] = totals.get(state, 0) + 1
            if event and state != WebhookEvent.State.PROCESSED:
                self.stdout.write(f"event {event_id}: {state}: {event.reason}")
        summary = ", ".join(f"{n} {state}" for state, n in sorted(totals.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"Re-processed: {summary}"))
