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
