"""The demo's business numbers, as Meta knows them: `seed_demo` creates them in the database,
and the simulator (which plays Meta and does not read our database) sends their display number
and WABA in webhook metadata. Kept here, low, so the simulator imports nothing above whatsapp/.
"""

from __future__ import annotations

DEMO_NUMBERS = [
    # phone_number_id, display number, WABA id, name
    ("100000000000001", "+49 30 1234567", "200000000000001", "Support DE"),
    ("100000000000002", "+44 20 7946 0000", "200000000000001", "Support UK"),
]


# The demo's chats as Meta delivered them: key, number name, wa_id, profile name, and
# [(hours ago, from the customer?, text)]. `seed_demo` stores them (conversations/demo.py, which
# adds what the team did: labels, assignees, statuses); the simulator counts each customer's
# service window from their last message here, as Meta would have.
DEMO_CHATS = [
    (
        "de-open",
        "Support DE",
        "4915112345678",
        "Jana Schmidt",
        [
            (3, True, "Hallo, wo ist meine Bestellung 4711?"),
            (2.5, False, "Hallo Jana, wir sehen nach!"),
            (1, True, "Danke, ich warte."),
        ],
    ),
    (
        "de-closed",
        "Support DE",
        "4917612345670",
        "Max Müller",
        [(30, True, "Kann ich meine Rechnung als PDF bekommen?"), (29, False, "Natürlich, ich schicke sie Ihnen.")],
    ),
    (
        "de-resolved",
        "Support DE",
        "4930901820",
        "Erika Mustermann",
        [(50, True, "Danke für die schnelle Hilfe!"), (49, False, "Gern geschehen!")],
    ),
    (
        "de-optout",
        "Support DE",
        "4915298765432",
        "Paul Becker",
        [(5, True, "Bitte keine Werbung mehr"), (4.9, True, "Abmelden!")],
    ),
    (
        "br-snoozed",
        "Support DE",
        "5511987654321",
        "Ana Souza",
        [(2, True, "Olá, vocês entregam no Brasil?")],
    ),
    (
        "gb-failed",
        "Support UK",
        "447700900123",
        "Oliver Twist",
        [(6, True, "Hi, can I change my delivery address?"), (5.5, False, "Sure, what is the new address?")],
    ),
    (
        "us-open",
        "Support UK",
        "14155550123",
        "Emily Johnson",
        [(0.5, True, "Do you ship to California?")],
    ),
]


def hours_since_customer_wrote(lines: list[tuple[float, bool, str]]) -> float | None:
    """How long ago a chat's customer last wrote, in hours; None if they never did."""
    return min((hours for hours, inbound, _text in lines if inbound), default=None)
