"""`manage.py process_webhooks`: apply stored webhook events, batch by batch, until stopped."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from webhooks import processor


class Command(BaseCommand):
    help = "Apply stored webhook events in batches (woken by the intake's NOTIFY); run one or more."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=processor.DEFAULT_BATCH, help="events per transaction")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between checks without a NOTIFY")
        parser.add_argument("--once", action="store_true", help="apply what is stored now, then exit")

    def handle(self, *args, batch, poll, once, **options):
        if once:
            self.stdout.write(f"applied {processor.drain(limit=batch)} events")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"processing webhook events, {batch} per batch")
        processor.run(batch=batch, poll=poll, stop=stop)
