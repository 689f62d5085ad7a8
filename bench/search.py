"""Full-text search over millions of messages: build a scratch database, time the real queries.

    .venv/bin/python bench/search.py [--messages 1500000] [--conversations 20000] [--keep]

Creates (or reuses with --keep) the scratch database BENCH_SEARCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/inbox_bench_search), migrates it, inserts the rows with
generate_series SQL, then times `conversations.selectors.message_search` and `search` (the exact
querysets the API and the inbox run) and prints EXPLAIN ANALYZE for each. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inbox_bench_search"


def _ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone() is not None
        if exists and fresh:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


VOCAB = str.split(
    "hallo danke bestellung lieferung rechnung paket adresse termin rückerstattung problem frage hilfe "
    "hello thanks order delivery invoice parcel address refund issue question help please when where "
    "olá obrigado pedido entrega fatura endereço reembolso ajuda quando onde status tracking "
    "kunde konto passwort login app fehler zahlung karte paypal storno umtausch größe farbe"
)


def _fill(messages: int, conversations: int) -> None:
    from django.db import connection

    vocab = VOCAB + [f"wort{i}" for i in range(3000)]
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE conversations_message, conversations_conversation_labels, conversations_conversation,"
            " conversations_contact RESTART IDENTITY CASCADE"
        )
        cur.execute("SELECT id FROM conversations_businessnumber ORDER BY id")
        numbers = [row[0] for row in cur.fetchall()]
        t = time.perf_counter()
        cur.execute(
            """
            INSERT INTO conversations_contact (wa_id, user_id, username, profile_name, market,
                marketing_opt_out_source, created_at, updated_at)
            SELECT (491510000000 + g)::text, '', '',
                   (ARRAY['Anna','Ben','Clara','David','Emma','Felix','Greta','Hans','Ida','Jonas'])[1 + g %% 10]
                   || ' '
                   || (ARRAY['Schmidt','Müller','Becker','Wagner','Fischer','Weber','Meyer','Koch'])[1 + (g / 10) %% 8]
                   || ' ' || g::text,
                   'DE', '', now(), now()
            FROM generate_series(1, %s) g
            """,
            [conversations],
        )
        cur.execute(
            """
            INSERT INTO conversations_conversation (number_id, contact_id, status, unread_count,
                last_inbound_at, last_message_at, created_at, updated_at)
            SELECT (%s::bigint[])[1 + c.id %% %s], c.id, 'open', 0,
                   now() - (c.id %% 400) * interval '1 day', now() - (c.id %% 400) * interval '1 day', now(), now()
            FROM conversations_contact c
            """,
            [numbers, len(numbers)],
        )
        # Drop the text index for the bulk load and build it once afterwards (as a restore would).
        cur.execute("DROP INDEX IF EXISTS msg_text_fts_idx")
        cur.execute(
            """
            INSERT INTO conversations_message (conversation_id, direction, type, text, payload, wamid, client_id,
                status, context_wamid, template_name, template_language, template_parameters, error_details,
                error_title, media_id, media_mime_type, media_filename, media_file, media_state, media_error,
                created_at)
            SELECT 1 + (g %% %(convs)s),
                   CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END, 'text',
                   v[1 + floor(random() * n)::int] || ' ' || v[1 + floor(random() * n)::int] || ' '
                   || v[1 + floor(random() * n)::int] || ' ' || v[1 + floor(random() * n)::int] || ' '
                   || v[1 + floor(random() * n)::int] || ' ' || v[1 + floor(random() * n)::int] || ' '
                   || CASE WHEN g %% 20000 = 0 THEN 'zebraquokka ' ELSE '' END || 'nr' || (g %% 100000)::text,
                   '{}', 'wamid.B' || g, md5(g::text)::uuid,
                   CASE WHEN g %% 2 = 0 THEN 'received' ELSE 'read' END, '', '', '', '{}', '', '', '', '', '', '',
                   '', '', now() - (g %% 525600) * interval '1 minute'
            FROM generate_series(1, %(messages)s) g,
                 (SELECT %(vocab)s::text[] AS v, %(n)s AS n) words
            """,
            {"convs": conversations, "messages": messages, "vocab": vocab, "n": len(vocab)},
        )
        load = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute("CREATE INDEX msg_text_fts_idx ON conversations_message USING gin (to_tsvector('simple', text))")
        build = time.perf_counter() - t
        cur.execute("ANALYZE")
        cur.execute("SELECT pg_size_pretty(pg_relation_size('msg_text_fts_idx'))")
        size = cur.fetchone()[0]
    print(
        f"loaded {messages:,} messages in {conversations:,} threads in {load:.1f}s; "
        f"GIN index built in {build:.1f}s ({size})"
    )


def _time(label: str, run, queryset_sql, repeat: int = 7) -> None:
    from django.db import connection

    run()  # warm the cache: we measure a warm server, as production is
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - t) * 1000)
    sql, params = queryset_sql
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join("      " + row[0] for row in cur.fetchall())
    print(
        f"\n  {label}: {len(result)} rows, median {statistics.median(times):.1f} ms, "
        f"max {max(times):.1f} ms over {repeat} runs"
    )
    print(plan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_500_000)
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="reuse the loaded scratch database")
    args = parser.parse_args()

    url = os.environ.get("BENCH_SEARCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url, fresh=not args.keep)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from conversations.models import Message
    from conversations.selectors import message_search, search
    from conversations.services_numbers import business_number_add
    from inbox.services import user_create_or_update

    business_number_add(phone_number_id="900000000000001", display_phone_number="+49 30 1", waba_id="9", name="DE")
    business_number_add(phone_number_id="900000000000002", display_phone_number="+44 20 2", waba_id="9", name="UK")
    admin = user_create_or_update(username="bench-admin", role="admin")
    agent = user_create_or_update(username="bench-agent", role="agent", number_ids=["900000000000001"])
    if not args.keep or not Message.objects.exists():
        _fill(args.messages, args.conversations)

    def msg_qs(user, q):
        from conversations.selectors import _message_text_match, numbers_for_user

        return (
            Message.objects.filter(_message_text_match(q), conversation__number__in=numbers_for_user(user))
            .exclude(type="note")
            .select_related("conversation__contact")
            .order_by("-created_at", "-id")[:20]
        )

    print(f"\nqueries (messages: {Message.objects.count():,})")
    for who, user in (("admin", admin), ("agent (one number)", agent)):
        for q in ("zebraquokka", "nr4711", "rechnung paypal", "bestell"):
            _time(
                f"message_search {who} q={q!r}",
                lambda u=user, q=q: message_search(u, q, limit=20),
                msg_qs(user, q).query.sql_with_params(),
            )
    for q in ("Greta Weber 1234", "clara", "49151000123"):
        _time(
            f"search (conversations) admin q={q!r}",
            lambda q=q: list(search(admin, q)[:20]),
            search(admin, q)[:20].query.sql_with_params(),
        )


if __name__ == "__main__":
    main()
