from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.roles import ROLES
from inbox.services import UnknownNumber, UnknownRole, user_create_or_update


class Command(BaseCommand):
    help = "Create or update a user with one role (agent, admin or finance)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", help="without it the user cannot sign in until an admin sets one")
        parser.add_argument(
            "--numbers",
            default="",
            help="phone_number_ids of the inboxes an agent works, comma-separated (default: all)",
        )

    def handle(self, *args, username, role, password, numbers, **options):
        number_ids = [n.strip() for n in numbers.split(",") if n.strip()]
        try:
            user = user_create_or_update(username=username, role=role, password=password, number_ids=number_ids)
        except (UnknownRole, UnknownNumber) as exc:
            raise CommandError(str(exc)) from exc
        scope = ", ".join(number_ids) if number_ids else "all numbers"
        self.stdout.write(f"User {user.username} is {role} ({scope}).")
