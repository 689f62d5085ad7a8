"""`manage.py simulator`: the fake Cloud API and the customer phone page, for `make run`."""

from __future__ import annotations

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from whatsapp.simulator.server import Simulator

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/whatsapp/"


def _numbers() -> dict[str, dict]:
    """Business numbers the simulator knows by display number and WABA (metadata on webhooks).

    The database is not the simulator's to read (it plays Meta), so it knows the demo numbers
    `seed_demo` creates (whatsapp/demo.py); unknown numbers still work with a derived display number.
    """
    from whatsapp.demo import DEMO_NUMBERS

    return {pnid: {"display_phone_number": display, "waba_id": waba} for pnid, display, waba, _name in DEMO_NUMBERS}


def demo_windows_opened(sim) -> int:
    """Each demo customer's last message, as `seed_demo` stored it, counts for their window here
    too: otherwise a reply to a demo thread the inbox shows open was refused with 131047 (the
    simulator had never seen the customer write). Returns how many windows were set."""
    from whatsapp.demo import DEMO_CHATS, DEMO_NUMBERS, hours_since_customer_wrote

    by_name = {name: pnid for pnid, _display, _waba, name in DEMO_NUMBERS}
    now, opened = sim.clock(), 0
    for _key, number_name, wa_id, name, lines in DEMO_CHATS:
        hours = hours_since_customer_wrote(lines)
        if number_name in by_name and hours is not None:
            at = now - hours * 3600
            sim.customer_wrote_before(phone_number_id=by_name[number_name], wa_id=wa_id, name=name, at=at)
            opened += 1
    return opened


class Command(BaseCommand):
    help = "Run the local WhatsApp Cloud API simulator and its customer phone page."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1", help="keep it local: the /_sim/ API has no auth")
        parser.add_argument(
            "--webhook-url",
            default=os.environ.get("SIMULATOR_WEBHOOK_URL") or DEFAULT_WEBHOOK_URL,
            help="where inbound messages and statuses are posted (env SIMULATOR_WEBHOOK_URL)",
        )
        parser.add_argument("--status-delay", type=float, default=0.7, help="seconds between sent/delivered/read")
        parser.add_argument("--template-review-delay", type=float, default=5.0, help="seconds until approval")
        parser.add_argument(
            "--auto-read", action="store_true", help="customers read every message at once (scripted runs)"
        )

    def handle(self, *args, port, host, webhook_url, status_delay, template_review_delay, auto_read, **options):
        if not settings.WHATSAPP_APP_SECRET or not settings.WHATSAPP_ACCESS_TOKEN:
            raise CommandError("Set WHATSAPP_APP_SECRET and WHATSAPP_ACCESS_TOKEN (the simulator checks both).")
        try:
            numbers = _numbers()
        except (ImportError, ValueError):  # the demo data changed shape: derive display numbers
            numbers = {}
        sim = Simulator(
            webhook_url=webhook_url,
            app_secret=settings.WHATSAPP_APP_SECRET,
            access_token=settings.WHATSAPP_ACCESS_TOKEN,
            api_version=settings.WHATSAPP_API_VERSION,
            status_delay=status_delay,
            template_review_delay=template_review_delay,
            auto_read=auto_read,
            numbers=numbers,
        )
        demo_windows_opened(sim)
        try:
            sim.start(port=port, host=host)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(f"Simulator: Graph API at {sim.url}/{sim.api_version}/, phone page at {sim.url}/")
        self.stdout.write(f"Webhooks go to {webhook_url}")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        finally:
            sim.stop()
