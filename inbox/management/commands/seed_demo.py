"""A demo to click through: numbers, users of each role, contacts and chats.

Safe to run again: it updates what is there instead of duplicating it.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from conversations.services_numbers import business_number_add
from inbox.services import user_create_or_update
from whatsapp.demo import DEMO_NUMBERS

# What Meta says of each number (the team page shows it): messaging limit, quality, last event.
DEMO_QUALITY = [
    ("100000000000001", "TIER_2K", "GREEN", ""),
    ("100000000000002", "TIER_250", "RED", "FLAGGED"),
]

DEMO_USERS = [
    # username, role, password, numbers (phone_number_ids; empty = all), may run campaigns (agents)
    ("agent", "agent", "agent-demo-2026", ["100000000000001"], False),
    # An agent an admin allowed campaigns: those of Support DE only (the team page's checkbox).
    ("marketing", "agent", "marketing-demo-2026", ["100000000000001"], True),
    ("admin", "admin", "admin-demo-2026", [], None),
    # A second admin: templates need an approver who is not their author (four-eyes).
    ("reviewer", "admin", "reviewer-demo-2026", [], None),
    ("finance", "finance", "finance-demo-2026", [], None),
]


class Command(BaseCommand):
    help = "Fill the database with demo numbers, users, contacts and chats (idempotent)."

    def handle(self, *args, **options):
        for phone_number_id, display, waba_id, name in DEMO_NUMBERS:
            business_number_add(
                phone_number_id=phone_number_id, display_phone_number=display, waba_id=waba_id, name=name
            )
        from django.utils import timezone

        from conversations.models import BusinessNumber
        from conversations.services_numbers import number_quality_apply

        for phone_number_id, limit, rating, event in DEMO_QUALITY:
            number = BusinessNumber.objects.get(phone_number_id=phone_number_id)
            if number.quality_updated_at is None:  # keep what Meta (or "Ask Meta") said since
                number_quality_apply(
                    waba_id=number.waba_id,
                    display_phone_number=number.display_phone_number,
                    at=timezone.now(),
                    limit=limit,
                    quality_rating=rating,
                    event=event,
                )
        for username, role, password, numbers, campaigns in DEMO_USERS:
            user_create_or_update(
                username=username, role=role, password=password, number_ids=numbers, may_run_campaigns=campaigns
            )
        from conversations.demo import seed_conversations

        seed_conversations(stdout=self.stdout)
        from webhooks.demo import seed_events

        seed_events(stdout=self.stdout)
        from templates_app.demo import seed_templates

        seed_templates(stdout=self.stdout, now=timezone.now())
        from billing.demo import seed_billing

        seed_billing(stdout=self.stdout, now=timezone.now())
        from campaigns.demo import seed_campaigns

        seed_campaigns(stdout=self.stdout, now=timezone.now())
        port = os.environ.get("PORT") or "8000"  # make run passes its PORT
        self.stdout.write(self.style.SUCCESS(f"Demo data is ready. Sign in at http://127.0.0.1:{port}/login/ as:"))
        for username, role, password, _numbers, campaigns in DEMO_USERS:
            note = " (may run campaigns)" if campaigns else ""
            self.stdout.write(f"  {role:8} {username} / {password}{note}")
