"""Pacing that holds across processes: how long to wait before handing a message to Meta.

Meta allows each business number 80 messages per second by default (up to 1,000 after an
upgrade) and refuses more with 130429; it also allows about one message every 6 seconds to
the same customer, with bursts, and refuses more with 131056 (the "pair rate limit").
Celery's `rate_limit` is per worker process, so it cannot keep a number under Meta's limit
when several workers send for it. The limits live in Redis instead, shared by every process.

Both are kept as GCRA reservations (a token bucket written as "the time the next message
may go"): one Lua script, atomic in Redis and on Redis's own clock, reserves a slot on the
number's line and on the customer's line and answers how many seconds to wait for it. The
caller waits that long, then sends; nobody polls. A 130429 from Meta slows the number's line
for a while (the rate is multiplied by a factor that recovers); a 131056 pushes the
customer's line back by Meta's 4^X seconds.

Without REDIS_URL (the single-process default) nothing is paced: `reserve` answers 0.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from whatsapp.errors import CloudApiError

log = logging.getLogger(__name__)

DEFAULT_RATE = 80.0  # Meta's default throughput per number (cloud-api.md section 6)
MAX_RATE = 1000.0
# We aim a little under the configured rate: requests reach Meta with some network jitter, and
# Meta counts on its own clock. At 80/s, 4% headroom is 3 sends (about 40 ms of them) that may
# arrive bunched in any second before the 81st is refused; 3% was seen refused twice in 5,000
# sends on a busy 2-core machine (bench/send.py), where the simulator itself was held up.
HEADROOM = 0.96
PAIR_INTERVAL = 6.0  # one message every 6 s to the same customer
PAIR_BURST = 40  # Meta tolerates bursts of 45 in 6 s; a few below, for the same jitter
# Each 130429 slows the number's rate by a fifth, down to a tenth at most, until SLOW_SECONDS
# pass without one. A single refusal at a correct rate is jitter: halving for 30 s cost a run a
# third of its throughput (54/s instead of 77/s at 80/s). A rate set too high still comes down
# quickly: from 1,000/s to 100/s in about ten refusals.
SLOW_FACTOR = 0.8
SLOW_FLOOR = 0.1
SLOW_SECONDS = 15
PAIR_BACKOFF_MAX_EXPONENT = 5  # 4^5 s = 17 minutes at most

# KEYS: number line, number slow factor, pair line, pair block-until.
# ARGV: number interval (s), pair interval (s), pair tolerance (s).
# The answer is the wait in microseconds (a string, to keep the precision).
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local factor = tonumber(redis.call('GET', KEYS[2]) or '1')
interval = interval / factor
local pair_interval = tonumber(ARGV[2])
local pair_tolerance = tonumber(ARGV[3])
local number_tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local send_at = math.max(now, number_tat)
if KEYS[3] ~= '' then
  local pair_tat = tonumber(redis.call('GET', KEYS[3]) or '0')
  local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
  send_at = math.max(send_at, pair_tat - pair_tolerance, blocked)
  local new_pair = math.max(pair_tat, send_at) + pair_interval
  redis.call('SET', KEYS[3], string.format('%.6f', new_pair), 'EX', math.ceil(new_pair - now + pair_tolerance) + 60)
end
local new_tat = math.max(number_tat, send_at) + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'EX', math.ceil(new_tat - now) + 60)
return string.format('%d', math.floor((send_at - now) * 1000000))
"""


@dataclass(frozen=True)
class Line:
    """What is paced: the business number (its phone_number_id) and, optionally, one customer."""

    phone_number_id: str
    recipient: str = ""


def rate_per_second() -> float:
    """NUMBER_RATE_PER_SECOND (a setting, else the environment variable), 80 by default, at most 1,000."""
    configured = getattr(settings, "NUMBER_RATE_PER_SECOND", None) or os.environ.get("NUMBER_RATE_PER_SECOND")
    rate = float(configured or DEFAULT_RATE)
    return min(max(rate, 1.0), MAX_RATE)


@lru_cache(maxsize=4)
def _client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _redis():
    url = getattr(settings, "REDIS_URL", "") or ""
    return _client(url) if url else None


def enabled() -> bool:
    """Whether sends are paced at all (Redis is configured)."""
    return _redis() is not None


@lru_cache(maxsize=4)
def _script(url: str):
    return _client(url).register_script(RESERVE)


def _keys(line: Line) -> list[str]:
    base = f"pace:{line.phone_number_id}"
    pair = f"{base}:to:{line.recipient}" if line.recipient else ""
    return [f"{base}:line", f"{base}:slow", pair, f"{pair}:blocked" if pair else ""]


def reserve(line: Line) -> float:
    """Reserve the next slot for one message on `line`; the seconds to wait before sending it.

    0 when Redis is not configured, or unreachable (Meta's own limit then answers 130429,
    which the delivery task retries: pacing is an optimisation, never a reason not to send).
    """
    client = _redis()
    if client is None:
        return 0.0
    interval = 1.0 / (rate_per_second() * HEADROOM)
    try:
        micros = _script(settings.REDIS_URL)(
            keys=_keys(line), args=[repr(interval), repr(PAIR_INTERVAL), repr((PAIR_BURST - 1) * PAIR_INTERVAL)]
        )
    except Exception as exc:  # redis down: send unpaced rather than not at all
        log.warning("pacing unavailable, sending unpaced: %s", exc)
        return 0.0
    return int(micros) / 1_000_000


# A sender that wakes for its slot later than this gives the slot up and takes a new one. Slots
# are spaced evenly, so Meta sees our pace only if each send leaves when its slot says: a send
# held back (a starved CPU, a slow sleep) and then sent together with the next ones would bunch
# up, and a bunched second can exceed the limit although no slot was ever handed out too early.
# The 3% headroom is 30 ms of every second; a third of it is allowed here, the rest is for the
# way from our process to Meta. Giving a slot up only ever makes the number slower.
LATE_AT_MOST = 0.010
# After this many slots missed in a row (a badly starved worker), the message goes back to the
# queue instead of spinning here.
MISSED_AT_MOST = 50
missed_slots = 0  # slots given up in this process (a sign of a starved CPU), for tests and logs


def wait_for_slot(line: Line, *, sleep_at_most: float, clock=time.monotonic, sleep=time.sleep) -> float:
    """Reserve a slot on `line` and sleep until it: 0 when the caller may send now.

    A positive answer is a wait longer than `sleep_at_most` (a customer's pair limit, a slowed
    number): the caller hands the message back to the queue with that countdown instead of
    holding the worker. A slot woken for too late (LATE_AT_MOST) is given up and a new one
    reserved, so the sends that reach Meta are never closer together than the line allows.
    """
    for _missed in range(MISSED_AT_MOST):
        wait = reserve(line)
        slot = clock() + wait
        if wait > sleep_at_most:
            return wait
        if wait > 0:
            sleep(wait)
        if clock() - slot <= LATE_AT_MOST:
            return 0.0
        global missed_slots
        missed_slots += 1
        log.debug("pacing: woke %.3f s after the slot on %s; taking a new one", clock() - slot, line)
    return 1.0


def slow_down(line: Line) -> None:
    """Meta said 130429 (too fast for this number): slow its rate down for a while."""
    client = _redis()
    if client is None:
        return
    key = _keys(line)[1]
    try:
        current = float(client.get(key) or 1.0)
        client.set(key, repr(max(SLOW_FLOOR, current * SLOW_FACTOR)), ex=SLOW_SECONDS)
    except Exception as exc:
        log.warning("pacing: could not slow %s down: %s", line.phone_number_id, exc)


def pair_backoff(line: Line) -> float:
    """Meta said 131056 (too many to this customer): block the pair 4^X s (X counts the refusals)."""
    client = _redis()
    if client is None or not line.recipient:
        return 0.0
    _number, _slow, _pair, blocked = _keys(line)
    try:
        count = int(client.incr(f"{blocked}:count"))
        wait = float(4 ** min(count - 1, PAIR_BACKOFF_MAX_EXPONENT))
        client.expire(f"{blocked}:count", int(wait) + 600)
        seconds, micros = client.time()
        client.set(blocked, f"{seconds + micros / 1_000_000 + wait:.6f}", ex=int(wait) + 60)
    except Exception as exc:
        log.warning("pacing: could not back off %s: %s", line.recipient, exc)
        return 0.0
    return wait


def reset(phone_number_id: str = "*") -> None:
    """Forget a number's pacing state, or every number's (tests, benches)."""
    client = _redis()
    if client is None:
        return
    for key in client.scan_iter(match=f"pace:{phone_number_id}:*", count=1000):
        client.delete(key)


# --- the delivery task's side ------------------------------------------------------------------


def line_for(conversation) -> Line:
    contact = conversation.contact
    return Line(conversation.number.phone_number_id, contact.wa_id or contact.user_id or "")


def refused(error: CloudApiError, line: Line) -> float:
    """Meta refused for pace (130429 or 131056): adjust the lines; the least wait before a retry."""
    if error.slows_number:
        slow_down(line)
        return 1.0
    if error.slows_customer:
        return pair_backoff(line)
    return 0.0
