"""Demo contacts and chats for seed_demo (idempotent: fixed wamids, get-or-create everywhere).

Customer messages go through the real receive service, so the threads, windows, opt-outs
and unread counts are what a webhook would have produced. Our replies are stored as already
handed to Meta (no task runs, nothing is sent to the simulator while seeding).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from conversations import services
from conversations.models import BusinessNumber, Conversation, Message
from whatsapp.demo import DEMO_CHATS
from whatsapp.schemas import ContactProfile, InboundMessage

CANNED = {
    "danke": "Vielen Dank für Ihre Nachricht! Wir melden uns in Kürze.",
    "thanks": "Thanks for your message! We'll get back to you shortly.",
    "tracking": "Ihre Sendungsnummer finden Sie in der Versandbestätigung per E-Mail.",
}

# What the team did in each of the demo's chats (whatsapp/demo.py has what was written, and when).
STATES = {
    "de-open": {"labels": ["Bestellung"], "assign": True},
    "de-closed": {"labels": ["Rechnung"]},
    "de-resolved": {"status": "resolved"},
    "de-optout": {},
    "br-snoozed": {"status": "snoozed", "labels": ["International"]},
    "gb-failed": {"failed": True, "note": "Customer called as well, address is in the CRM."},
    "us-open": {"labels": ["VIP"]},
}
# key, number name, wa_id, profile name, [(hours ago, from customer?, text)], state
CHATS = [(*chat, STATES[chat[0]]) for chat in DEMO_CHATS]


@transaction.atomic
def seed_conversations(*, stdout) -> None:
    now = timezone.now()
    numbers = {n.name: n for n in BusinessNumber.objects.all()}
    agent = get_user_model().objects.filter(username="agent").first()
    # The admin hands threads to the agent, so the pane's history shows two people at work.
    admin = get_user_model().objects.filter(username="admin").first() or agent
    for shortcut, text in CANNED.items():
        services.canned_response_save(shortcut=shortcut, text=text)
    created = 0
    for key, number_name, wa_id, name, lines, state in CHATS:
        number = numbers.get(number_name) or next(iter(numbers.values()), None)
        if number is None:
            stdout.write("No business numbers; skipping demo chats.")
            return
        conversation = None
        for index, (hours_ago, inbound, text) in enumerate(lines):
            at = now - timedelta(hours=hours_ago)
            wamid = f"wamid.DEMO-{key}-{index}"
            if inbound:
                message = services.inbound_message_receive(
                    number=number,
                    message=InboundMessage(
                        id=wamid,
                        from_wa_id=wa_id,
                        timestamp=at,
                        type="text",
                        text=text,
                        raw={"type": "text", "text": {"body": text}},
                    ),
                    profile=ContactProfile(wa_id=wa_id, name=name),
                )
                if message is not None:
                    created += 1
                    conversation = message.conversation
            else:
                conversation = conversation or Conversation.objects.get(number=number, contact__wa_id=wa_id)
                failed = state.get("failed") and index == len(lines) - 1
                _, made = Message.objects.get_or_create(
                    wamid=wamid,
                    defaults={
                        "conversation": conversation,
                        "direction": Message.Direction.OUT,
                        "type": "text",
                        "text": text,
                        "sender": agent,
                        "status": Message.Status.FAILED if failed else Message.Status.READ,
                        "sent_at": at,
                        "delivered_at": None if failed else at + timedelta(seconds=5),
                        "read_at": None if failed else at + timedelta(minutes=2),
                        "failed_at": at + timedelta(seconds=3) if failed else None,
                        "error_code": 131026 if failed else None,
                        "error_title": "Message undeliverable" if failed else "",
                        "error_details": "Unable to deliver message." if failed else "",
                    },
                )
                created += int(made)
        if conversation is None:
            conversation = Conversation.objects.get(number=number, contact__wa_id=wa_id)
        conversation.refresh_from_db()
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now - timedelta(hours=min(h for h, _i, _t in lines))
        )
        for label in state.get("labels", []):
            services.conversation_label_add(conversation=conversation, name=label, by=agent)
        if state.get("assign") and agent is not None and conversation.assignee_id is None:
            services.conversation_assign(conversation=conversation, assignee=agent, by=admin)
        if state.get("status") == "resolved":
            services.conversation_status_set(conversation=conversation, status="resolved", by=agent, now=now)
        elif state.get("status") == "snoozed" and conversation.status != "snoozed":
            services.conversation_status_set(
                conversation=conversation, status="snoozed", by=agent, snooze_until=now + timedelta(days=1), now=now
            )
        if state.get("note") and not conversation.messages.filter(type="note").exists():
            services.note_add(conversation=conversation, author=agent, text=state["note"])
    stdout.write(f"Demo chats: {len(CHATS)} threads, {created} new messages, {len(CANNED)} canned responses.")
