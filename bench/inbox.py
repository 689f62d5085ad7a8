"""The agent's inbox at scale: list, thread and search pages over 100k threads and 2M messages.

The production shape on this machine: uvicorn (2 workers, DEBUG off) on a scratch PostgreSQL
database and Redis. The database holds 3 business numbers, 60,000 contacts (names drawn from 24
first and 24 last names, so one name matches thousands; German, British, Portuguese and
Brazilian numbers), 100,000 threads and 2,000,000 messages in both directions spread over a
year, with words to search. The rows are built in SQL (`INSERT ... SELECT generate_series`)
with the message indexes dropped and rebuilt once afterwards (as a restore would), then ANALYZE.

An agent of all three numbers signs in over HTTP; wrk (bench/inbox.lua) then requests each page
for --warmup seconds, not counted (a server that has been up: its pooled connections have
prepared the page's statements and PostgreSQL has settled on their plans; the threads asked for
then are others than those measured), and for --seconds, one request at a time (the agent
waits for each page; --connections 2 asks as two agents at once), rotating over many URLs of
that kind: the list (first page, and later pages
through the cursor), a thread, and the search (a word in most threads' messages, an order
number found in three threads, a surname thousands of contacts share, a phone-number
prefix). Each page's query count is taken through Django's test client
(CaptureQueriesContext) on this database and on a 1,000-thread one.

Prints one JSON line per figure: p50/p95 (ms) and requests/s per page (with the machine's
1-minute load average when the page's run ended, and the share of CPU time the hypervisor took
during it, bench/host.py: figures taken on a busy or robbed machine are not comparable; and the
busiest uvicorn worker's share of the work: with 2 connections near 1.0 means both were served by
one worker, in turn), and the
query count per page at 1k and at 100k threads, with the slowest query's time and the page's CPU
time in Django (test client, average of 5). --explain also prints the plan of each page's
slowest query (EXPLAIN ANALYZE) on stderr. Goals (issue 10): list and
thread p95 <= 30 ms, search <= 100 ms, the same query count at both sizes.

    python bench/inbox.py [--seconds 10] [--warmup 3] [--connections 1] [--keep]

--keep reuses the loaded databases (BENCH_INBOX_DATABASE_URL, default inbox_bench_inbox, and
BENCH_INBOX_SMALL_DATABASE_URL, default inbox_bench_inbox_small).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from host import busiest_share, children_cpu, cpu_times, stolen_share  # noqa: E402
from ingest import wait_for_port  # noqa: E402
from webhook_intake import PYTHON, ROOT, environment, free_port  # noqa: E402

sys.path.insert(0, str(ROOT))
from core.cursors import encode as cursor_encode  # noqa: E402  (the pages' own cursor; needs no settings)

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE_URL = os.environ.get("BENCH_INBOX_DATABASE_URL", f"{SERVER}/inbox_bench_inbox")
SMALL_DATABASE_URL = os.environ.get("BENCH_INBOX_SMALL_DATABASE_URL", f"{SERVER}/inbox_bench_inbox_small")
AGENT, PASSWORD = "bench-agent", "bench-inbox-password"
NUMBERS = [
    ("190000000000011", "+49 30 1111111"),
    ("190000000000012", "+44 20 2222222"),
    ("190000000000013", "+351 21 3333333"),
]
FIRST = "Anna Ben Clara David Emma Felix Greta Hans Ida Jonas Lena Max Mia Noah Olga Paul Rosa Sven Tim Ute Vera Wim "
FIRST += "Yara Zoe"
LAST = "Schmidt Müller Becker Wagner Fischer Weber Meyer Koch Wolf Neumann Schwarz Zimmermann Braun Krüger Hofmann "
LAST += "Hartmann Lange Schmitt Werner Krause Lehmann Köhler Silva Santos"
# Words customers and agents write (German, English, Portuguese), plus order numbers below.
WORDS = str.split(
    "hallo danke bestellung lieferung rechnung paket adresse termin rückerstattung problem frage hilfe "
    "hello thanks order delivery invoice parcel address refund issue question help please when where "
    "olá obrigado pedido entrega fatura endereço reembolso ajuda quando onde status tracking "
    "kunde konto passwort login app fehler zahlung karte paypal storno umtausch größe farbe "
    "heute morgen gestern woche schnell leider gerne bitte wann warum noch schon immer"
)
# The searches measured (the page's q): a word in most threads, an order number (every fifth
# message ends with one, its thread's: "b4700:*" is in 60 messages of 3 threads), a name many
# contacts share, a number prefix.
SEARCHES = {
    "search_message_word": "rechnung",
    "search_order_number": "B4700",
    "search_contact_name": "Müller",
    "search_phone_prefix": "+49 152",
}


def env_for(url: str) -> dict[str, str]:
    env = environment()
    env.update(DATABASE_URL=url, ALLOWED_HOSTS="127.0.0.1,testserver", WHATSAPP_ACCESS_TOKEN="bench")
    return env


def emit(name: str, value, unit: str, **extra) -> None:
    print(json.dumps({"scenario": "inbox", "figure": name, "value": value, "unit": unit, **extra}), flush=True)


# --- the scratch databases -----------------------------------------------------------------------


def _admin_sql(statement: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(statement)


def _loaded(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM conversations_message").fetchone()[0] > 0
    except psycopg.Error:
        return False


def prepare(url: str, *, conversations: int, messages: int, contacts: int, keep: bool) -> None:
    if keep and _loaded(url):
        # The rows stay; indexes and columns added since they were loaded are built on them.
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env_for(url), check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        return
    name = url.rsplit("/", 1)[1]
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{name}"')
    env = env_for(url)

    def manage(*args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)

    manage("migrate", "--noinput")
    for phone_number_id, display in NUMBERS:
        manage("add_number", phone_number_id, display, "--waba-id", "290000000000011")
    manage("add_user", AGENT, "--role", "agent", "--password", PASSWORD)  # all numbers
    started = time.monotonic()
    fill(url, conversations=conversations, messages=messages, contacts=contacts)
    emit("load_seconds", round(time.monotonic() - started, 1), "s", conversations=conversations, messages=messages)


CONTACTS_SQL = """
INSERT INTO conversations_contact (id, wa_id, user_id, username, profile_name, market,
    marketing_opt_out_source, created_at, updated_at)
SELECT g,
       -- (g * 7919) mod 10^8 is distinct for every g below 10^8: unique numbers, unordered.
       CASE g %% 10 WHEN 0 THEN '447' WHEN 1 THEN '447' WHEN 2 THEN '3519' WHEN 3 THEN '5511'
            ELSE '4915' || (1 + g %% 7)::text END || lpad(((g::bigint * 7919) %% 100000000)::text, 8, '0'),
       '', '',
       first[1 + g %% cardinality(first)] || ' ' || last[1 + (g / cardinality(first)) %% cardinality(last)],
       CASE g %% 10 WHEN 0 THEN 'GB' WHEN 1 THEN 'GB' WHEN 2 THEN 'PT' WHEN 3 THEN 'BR' ELSE 'DE' END,
       '', now(), now()
FROM generate_series(1, %(contacts)s) g, (SELECT %(first)s::text[] AS first, %(last)s::text[] AS last) names
"""

CONVERSATIONS_SQL = """
INSERT INTO conversations_conversation (id, number_id, contact_id, status, assignee_id, unread_count,
    created_at, updated_at)
-- A contact writes to one or two of the numbers: (number, contact) stays unique.
SELECT c, numbers[1 + ((c - 1) / %(contacts)s + (c - 1)) %% cardinality(numbers)], 1 + (c - 1) %% %(contacts)s,
       CASE WHEN c %% 20 < 6 THEN 'open' WHEN c %% 20 = 6 THEN 'pending' ELSE 'resolved' END,
       CASE WHEN c %% 11 = 0 THEN %(agent)s END, 0, now(), now()
FROM generate_series(1, %(conversations)s) c, (SELECT %(numbers)s::bigint[] AS numbers) n
"""

# Message k of thread c (k = 0 .. per-1): the thread's last activity is spread over the year by a
# hash of c, its messages 7 minutes apart before it; even k from the customer, odd k from us.
MESSAGES_SQL = """
INSERT INTO conversations_message (conversation_id, direction, type, text, payload, wamid, client_id,
    status, context_wamid, template_name, template_language, template_parameters, template_category,
    error_title, error_details, media_id, media_mime_type, media_filename, media_file, media_state,
    media_error, created_at)
SELECT c, CASE WHEN k %% 2 = 0 THEN 'in' ELSE 'out' END, 'text',
       w[1 + floor(random() * n)::int] || ' ' || w[1 + floor(random() * n)::int] || ' '
       || w[1 + floor(random() * n)::int] || ' ' || w[1 + floor(random() * n)::int] || ' '
       || w[1 + floor(random() * n)::int] || CASE WHEN g %% 5 = 0 THEN ' B' || (g %% 100000)::text ELSE '' END,
       '{}', 'wamid.bench' || g, md5(g::text)::uuid,
       CASE WHEN k %% 2 = 0 THEN 'received' ELSE 'read' END, '', '', '', '{}', '', '', '', '', '', '', '', '', '',
       now() - ((c::bigint * 7919) %% 525600) * interval '1 minute' - (per - 1 - k) * interval '7 minutes'
FROM (SELECT g, 1 + g %% %(conversations)s AS c, g / %(conversations)s AS k
      FROM generate_series(0, %(messages)s - 1) g) m,
     (SELECT %(words)s::text[] AS w, %(n)s AS n, %(per)s AS per) vocabulary
"""

LABELS_SQL = """
INSERT INTO conversations_label (name, created_at)
SELECT unnest(ARRAY['refund', 'vip', 'complaint', 'shipping', 'bug']), now();
INSERT INTO conversations_conversation_labels (conversation_id, label_id)
SELECT c.id, l.id FROM conversations_conversation c JOIN conversations_label l ON (c.id + l.id) % 9 = 0;
"""

THREAD_TIMES_SQL = """
UPDATE conversations_conversation c
SET last_message_at = m.last_at, last_inbound_at = m.last_in
FROM (SELECT conversation_id, max(created_at) AS last_at, max(created_at) FILTER (WHERE direction = 'in') AS last_in
      FROM conversations_message GROUP BY conversation_id) m
WHERE m.conversation_id = c.id
"""


def _blank_defaults(conn) -> None:
    """Give text and JSON columns without a value below their Django default ('' or {}) in the
    database, so the load keeps working when a model gains such a field (scratch database only)."""
    columns = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_name IN ('conversations_contact', 'conversations_conversation', 'conversations_message')"
        " AND is_nullable = 'NO' AND column_default IS NULL"
        " AND data_type IN ('character varying', 'text', 'jsonb')"
    ).fetchall()
    for table, column, data_type in columns:
        default = "'{}'" if data_type == "jsonb" else "''"
        conn.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {default}')


def fill(url: str, *, conversations: int, messages: int, contacts: int) -> None:
    contacts = min(contacts, conversations)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        numbers = [row[0] for row in conn.execute("SELECT id FROM conversations_businessnumber ORDER BY id")]
        agent = conn.execute("SELECT id FROM auth_user WHERE username = %s", [AGENT]).fetchone()[0]
        # Index definitions are kept and rebuilt once after the load: much faster than row by row.
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'conversations_message'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for index, _definition in indexes:
            conn.execute(f'DROP INDEX "{index}"')
        _blank_defaults(conn)
        conn.execute(CONTACTS_SQL, {"contacts": contacts, "first": FIRST.split(), "last": LAST.split()})
        conn.execute(
            CONVERSATIONS_SQL,
            {"conversations": conversations, "contacts": contacts, "numbers": numbers, "agent": agent},
        )
        per = max(1, -(-messages // conversations))
        conn.execute(
            MESSAGES_SQL,
            {"conversations": conversations, "messages": messages, "words": WORDS, "n": len(WORDS), "per": per},
        )
        for _index, definition in indexes:
            conn.execute(definition)
        for statement in LABELS_SQL.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(THREAD_TIMES_SQL)
        for table in ("contact", "conversation", "message", "label"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('conversations_{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM conversations_{table}))"
            )
        conn.execute("VACUUM ANALYZE")


# --- the pages -----------------------------------------------------------------------------------


def page_urls(url: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Many URLs per page kind, so the run is not one cached row set; and those the warm-up asks
    for. Threads are drawn anew on each run, 500 to measure and 200 others to warm up with: each
    thread the measured run asks for is shown for the first time."""
    with psycopg.connect(url) as conn:
        open_rows = conn.execute(
            "SELECT last_message_at, id FROM conversations_conversation WHERE status = 'open'"
            " ORDER BY last_message_at DESC NULLS FIRST, id DESC"
        ).fetchall()
        drawn = conn.execute("SELECT id FROM conversations_conversation ORDER BY random() LIMIT 700")
        sample = [row[0] for row in drawn]
    # Later pages: the cursor after rows 30, 60, ... up to deep in the list (an agent scrolling back).
    step = max(30, len(open_rows) // 200)
    cursors = [cursor_encode(*open_rows[i]) for i in range(29, len(open_rows) - 1, step)]

    def kinds(threads: list[int]) -> dict[str, list[str]]:
        return {
            "list_first_page": ["/inbox/"],
            "list_later_page": [f"/inbox/?cursor={c}" for c in cursors],
            "thread": [f"/inbox/c/{pk}/" for pk in threads],
            # What a click on a list row asks for (htmx): the thread and the customer pane, not the list.
            "thread_pane": [f"/inbox/c/{pk}/ thread-pane" for pk in threads],
            **{name: [f"/inbox/?q={quote(q)}"] for name, q in SEARCHES.items()},
        }

    return kinds(sample[:500]), kinds(sample[500:])


def _first_row(html: str) -> str:
    return html.split('id="conv-row-', 1)[1].split('"', 1)[0] if 'id="conv-row-' in html else ""


def sign_in(base: str) -> str:
    browser = requests.Session()
    page = browser.get(f"{base}/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    browser.post(
        f"{base}/login/",
        data={"username": AGENT, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def check_page(base: str, line: str, cookie: str) -> int:
    """The page answers 200 with rows, or the thread for htmx (not the login form): what wrk
    times is the real page."""
    path, _space, target = line.partition(" ")
    headers = {"Cookie": cookie, **({"HX-Request": "true", "HX-Target": target} if target else {})}
    response = requests.get(base + path, headers=headers, allow_redirects=False, timeout=30)
    expected = 'id="thread-pane"' if target else 'id="conv-row-'
    if response.status_code != 200 or expected not in response.text:
        raise RuntimeError(f"{line}: {response.status_code}, no {expected}")
    return len(response.content)


def wrk(base: str, paths: list[str], cookie: str, *, seconds: int, connections: int, workdir: Path) -> dict:
    listing = workdir / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    result = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
         "-s", str(HERE / "inbox.lua"), base + "/", "--", str(listing), cookie],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    return {key: float(value) for key, value in (item.split("=") for item in summary.split()[1:])}


# --- query counts --------------------------------------------------------------------------------


def count_queries_here(explain: bool) -> None:
    """In a child process on one database: each page through Django's test client as the agent,
    its queries counted (CaptureQueriesContext) and the slowest one timed (and explained)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inbox import queries

    agent = get_user_model().objects.get(username=AGENT)
    first = queries.conversation_list(agent, queries.ListFilters())
    paths = {
        "list_first_page": "/inbox/",
        "list_later_page": f"/inbox/?cursor={first.next_cursor}",
        "thread": f"/inbox/c/{first.conversations[0].pk}/",
        "thread_pane": f"/inbox/c/{first.conversations[0].pk}/",
        **{name: f"/inbox/?q={quote(q)}" for name, q in SEARCHES.items()},
    }
    htmx = {"thread_pane": {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "thread-pane"}}
    client = Client()
    client.force_login(agent)
    pages = {}
    for name, path in paths.items():
        headers = htmx.get(name, {})
        assert client.get(path, **headers).status_code == 200, path  # warm: session, permissions, caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, **headers)
        assert response.status_code == 200, path
        queries = list(captured.captured_queries)  # the next request's start empties the log
        slowest = max(queries, key=lambda query: float(query["time"]))
        # The page's own CPU in this process (rendering, ORM; not PostgreSQL's): a figure that a
        # busy machine changes less than the wall-clock latencies above.
        started = time.process_time()
        for _ in range(5):
            client.get(path, **headers)
        pages[name] = {
            "count": len(queries),
            "slowest_ms": round(float(slowest["time"]) * 1000, 1),
            "django_cpu_ms": round((time.process_time() - started) / 5 * 1000, 1),
            # A page without rows skips the labels' query: say so beside the count.
            "rows": response.content.decode().count('id="conv-row-'),
        }
        if explain:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"--- {name}: slowest of {len(queries)} queries\n{slowest['sql']}\n{plan}\n", file=sys.stderr)
    print("PAGES " + json.dumps(pages))


def query_counts(url: str, *, explain: bool) -> dict[str, dict]:
    command = [PYTHON, __file__, "--count-queries-here", *(["--explain"] if explain else [])]
    result = subprocess.run(command, cwd=ROOT, env=env_for(url), capture_output=True, text=True)
    if explain:
        print(f"=== {url.rsplit('/', 1)[1]}\n{result.stderr}", file=sys.stderr)
    line = next((line for line in result.stdout.splitlines() if line.startswith("PAGES ")), None)
    if line is None:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(line.removeprefix("PAGES "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=60_000)
    parser.add_argument("--small", type=int, default=1_000, help="threads in the query-count comparison")
    parser.add_argument("--seconds", type=int, default=10, help="per page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per page asked before, not counted (0: none)")
    parser.add_argument("--connections", type=int, default=1, help="agents asking at once (see bench/host.py)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", default="", help="only these pages, comma-separated")
    parser.add_argument("--keep", action="store_true", help="reuse the loaded scratch databases")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query (stderr)")
    parser.add_argument("--count-queries-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_queries_here:
        return count_queries_here(args.explain)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env_for(DATABASE_URL),
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    sizes = [(DATABASE_URL, args.conversations), (SMALL_DATABASE_URL, args.small)]
    for url, conversations in sizes:
        prepare(
            url,
            conversations=conversations,
            messages=args.messages * conversations // args.conversations,
            contacts=args.contacts * conversations // args.conversations,
            keep=args.keep,
        )

    urls, warmup_urls = page_urls(DATABASE_URL)
    if args.pages:
        urls = {name: paths for name, paths in urls.items() if name in args.pages.split(",")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--workers", str(args.workers),
         "--lifespan", "off", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env_for(DATABASE_URL),
    )  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    try:
        wait_for_port(port)
        cookie = sign_in(base)
        first_page = requests.get(f"{base}/inbox/", headers={"Cookie": cookie}, timeout=30).text
        for name, paths in urls.items():
            size = check_page(base, paths[0], cookie)
            if name == "list_later_page":  # a cursor the server did not read would show the first page again
                later = requests.get(base + paths[0], headers={"Cookie": cookie}, timeout=30).text
                if _first_row(later) == _first_row(first_page):
                    raise RuntimeError(f"{paths[0]}: the cursor was not read (the first page came back)")
            if args.warmup:
                # A server that has been up: each pooled connection has prepared the page's
                # statements and PostgreSQL has settled on their plans (inbox.middleware).
                wrk(base, warmup_urls[name], cookie, seconds=args.warmup, connections=args.connections, workdir=workdir)
            before, workers_before = cpu_times(), children_cpu(server.pid)
            result = wrk(base, paths, cookie, seconds=args.seconds, connections=args.connections, workdir=workdir)
            stolen = stolen_share(before, cpu_times())
            busiest = busiest_share(workers_before, children_cpu(server.pid))
            goal = 100 if name.startswith("search") else 30
            emit(
                f"{name}_p95", result["p95_ms"], "ms", p50_ms=result["p50_ms"], p99_ms=result["p99_ms"],
                requests_per_s=round(result["requests"] / result["seconds"], 1), non_2xx=int(result["non_2xx"]),
                urls=len(paths), bytes=size, connections=args.connections, goal_ms=goal, warmup_s=args.warmup,
                load_average=round(os.getloadavg()[0], 1), cpu_stolen=stolen, busiest_worker=busiest,
            )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    small = query_counts(SMALL_DATABASE_URL, explain=False)
    large = query_counts(DATABASE_URL, explain=args.explain)
    for name, page in large.items():
        emit(
            f"{name}_queries", page["count"], "queries", at_1k=small[name]["count"],
            same=small[name]["count"] == page["count"], rows=page["rows"], rows_at_1k=small[name]["rows"],
            slowest_query_ms=page["slowest_ms"], django_cpu_ms=page["django_cpu_ms"],
        )  # fmt: skip


if __name__ == "__main__":
    main()
