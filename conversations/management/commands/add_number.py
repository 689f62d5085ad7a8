from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from conversations.services_numbers import business_number_add


class Command(BaseCommand):
    help = "Add (or update) a WhatsApp business number, identified by Meta's phone_number_id."

    def add_arguments(self, parser):
        parser.add_argument("phone_number_id")
        parser.add_argument("display_phone_number")
        parser.add_argument("--waba-id", required=True, help="the WhatsApp Business Account id")
        parser.add_argument("--name", default="", help="a name agents recognise, e.g. 'Support DE'")

    def handle(self, *args, phone_number_id, display_phone_number, waba_id, name, **options):
        if not phone_number_id.isdigit():
            raise CommandError("PHONE_NUMBER_ID must be Meta's numeric id")
        if not any(ch.isdigit() for ch in display_phone_number):
            raise CommandError("DISPLAY_PHONE_NUMBER must contain digits, e.g. +49 30 1234567")
        number = business_number_add(
            phone_number_id=phone_number_id, display_phone_number=display_phone_number, waba_id=waba_id, name=name
        )
        self.stdout.write(f"Business number {number} ({number.phone_number_id}) is ready.")
