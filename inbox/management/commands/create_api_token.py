from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inbox.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user; it is printed once, as the last line, and stored only hashed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'shop'")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        token, raw = api_token_create(user=user, name=name)
        self.stderr.write(f"Token {token.key_prefix}… for {user.username}. Store it now: it is not shown again.")
        self.stdout.write(raw)
