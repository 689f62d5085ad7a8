"""The simulator's in-memory world: chats, sent messages, media, templates; all behind one lock.

The HTTP layer (server.py) translates requests into calls here. Time-based behaviour (statuses,
template reviews) runs on the scheduler; webhooks leave through the in-order poster. Never hold
the lock while doing HTTP: the inbox may call back into the simulator while handling a webhook.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import errors, payloads, pricing, review, views
from .delivery import Scheduler, WebhookPoster
from .template_controls import TemplateControls

WINDOW_SECONDS = 24 * 3600
# The page polls every second; a chat counts as open for a little longer than one poll gap.
OPEN_GRACE_SECONDS = 2.5
TYPING_SECONDS = 25
MEDIA_URL_SECONDS = 300
SEND_TYPES = ("text", "image", "audio", "video", "document", "sticker", "location", "contacts")
SEND_TYPES += ("interactive", "template", "reaction")
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


class SendRefused(Exception):
    """A synchronous Meta error: answered with HTTP `errors.http_status(code)`."""

    def __init__(self, code: int, details: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details

    def response(self) -> tuple[int, dict]:
        return errors.http_status(self.code), errors.error_body(self.code, self.details)


@dataclass
class Item:
    wamid: str
    direction: str  # "in" (customer -> business) or "out"
    type: str
    ts: float
    view: dict
    status: str = "sent"
    error: dict | None = None
    reaction: str | None = None  # the other side's reaction on this message
    want_read: bool = False
    # outbound only: what decides the pricing object
    template_category: str | None = None
    in_window: bool = False
    user_id_recipient: bool = False
    callback_data: str | None = None


@dataclass
class Chat:
    phone_number_id: str
    wa_id: str
    name: str
    user_id: str
    last_inbound: float | None = None
    items: list[Item] = field(default_factory=list)
    seen_open_at: float = -1e9  # monotonic time the phone page last showed this chat
    typing_until: float = 0.0
    marketing_stopped: bool = False


@dataclass
class Media:
    id: str
    content: bytes
    mime_type: str
    filename: str = ""

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode()


class Engine(TemplateControls):
    def __init__(
        self,
        *,
        webhook_url: str,
        app_secret: str,
        access_token: str,
        api_version: str = "v26.0",
        status_delay: float = 0.5,
        template_review_delay: float = 3.0,
        auto_read: bool = False,
        numbers: dict[str, dict] | None = None,
        default_waba_id: str = "200000000000001",
        default_template_category: str = "utility",
        strict_templates: bool = False,
        auto_review_templates: bool = True,
        pricing_on: str = "delivered",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.api_version = api_version
        self.access_token = access_token
        self.status_delay = status_delay
        self.template_review_delay = template_review_delay
        self.auto_read = auto_read
        self.numbers = dict(numbers or {})
        self.default_waba_id = default_waba_id
        self.default_template_category = default_template_category
        self.strict_templates = strict_templates
        # False: submitted templates stay PENDING until a control (template_approve, ...) decides.
        self.auto_review_templates = auto_review_templates
        self.pricing_on = pricing_on
        self.clock = clock
        self.base_url = ""
        self.scheduler = Scheduler()
        self.poster = WebhookPoster(webhook_url, app_secret)
        self._url_key = os.urandom(16)
        self._chats: dict[tuple[str, str], Chat] = {}
        self._by_wamid: dict[str, tuple[Chat, Item]] = {}
        self._sent: list[dict] = []
        self._media: dict[str, Media] = {}
        self._templates: dict[str, dict] = {}
        self._fail_queue: collections.deque[list] = collections.deque()
        # Seconds the next sends wait before answering (after they were accepted): a slow Meta.
        self._delay_queue: collections.deque[float] = collections.deque()
        self._rate_limit: float | None = None
        self._send_times: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        # Meta's pair rate limit, off unless asked: (interval s, burst) and each pair's next slot.
        self._pair_limit: tuple[float, int] | None = None
        self._pair_tat: dict[tuple[str, str], float] = {}
        self._refused: collections.Counter = collections.Counter()
        self._service_used: collections.Counter = collections.Counter()

    # ----------------------------------------------------------------- controls for tests

    @property
    def sent(self) -> list[dict]:
        with self.lock:
            return [dict(entry) for entry in self._sent]

    @property
    def webhook_log(self) -> list[dict]:
        return list(self.poster.log)

    def fail_next(self, code: int, count: int = 1) -> None:
        with self.lock:
            self._fail_queue.append([int(code), int(count)])

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` sends are accepted, then answered only after `seconds`: a client with a
        shorter timeout gives up on a message that did arrive (the case of "maybe delivered")."""
        with self.lock:
            self._delay_queue.extend([float(seconds)] * int(count))

    def set_rate_limit(self, per_second: float | None) -> None:
        with self.lock:
            self._rate_limit = per_second or None
            self._send_times.clear()

    def set_pair_rate_limit(self, interval: float | None = 6.0, burst: int = 45) -> None:
        """Refuse with 131056 more than `burst` messages to one customer, then more than one per
        `interval` seconds (Meta: 1 per 6 s, bursts up to 45); None switches it off."""
        with self.lock:
            self._pair_limit = (float(interval), max(int(burst), 1)) if interval else None
            self._pair_tat.clear()

    @property
    def refused(self) -> dict[int, int]:
        """How many sends were refused, by Meta's error code (rate limits and injected failures)."""
        with self.lock:
            return dict(self._refused)

    def add_number(self, phone_number_id: str, *, display_phone_number: str, waba_id: str) -> None:
        with self.lock:
            self.numbers[phone_number_id] = {"display_phone_number": display_phone_number, "waba_id": waba_id}

    def status_of(self, wamid: str) -> str | None:
        with self.lock:
            found = self._by_wamid.get(wamid)
            return found[1].status if found else None

    # ------------------------------------------------------------------------ helpers

    def _number(self, phone_number_id: str) -> tuple[str, str]:
        info = self.numbers.get(phone_number_id) or {}
        display = "".join(ch for ch in info.get("display_phone_number", "") if ch.isdigit())
        # An unknown number still gets a plausible display number derived from its id.
        return display or "1555" + phone_number_id[-7:].rjust(7, "0"), info.get("waba_id", self.default_waba_id)

    def _chat(self, phone_number_id: str, wa_id: str, name: str | None = None) -> Chat:
        key = (phone_number_id, wa_id)
        chat = self._chats.get(key)
        if chat is None:
            chat = Chat(phone_number_id, wa_id, name or "", payloads.bsuid(wa_id, self.default_waba_id))
            self._chats[key] = chat
        elif name:
            chat.name = name
        return chat

    def _chat_by_user_id(self, phone_number_id: str, user_id: str) -> Chat | None:
        return next(
            (c for c in self._chats.values() if c.phone_number_id == phone_number_id and c.user_id == user_id), None
        )

    def _is_open(self, chat: Chat) -> bool:
        return self.auto_read or time.monotonic() - chat.seen_open_at < OPEN_GRACE_SECONDS

    def _in_window(self, chat: Chat, at: float) -> bool:
        return chat.last_inbound is not None and at - chat.last_inbound < WINDOW_SECONDS

    def _post(self, kind: str, payload: dict, on_done: Callable[[int | None], None] | None = None) -> None:
        self.poster.post(kind, payloads.encode(payload), on_done)

    def media_url(self, media_id: str) -> str:
        """The short-lived download URL, which also needs the Bearer token (as Meta's does)."""
        expires = int(self.clock()) + MEDIA_URL_SECONDS
        sig = hmac.new(self._url_key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.base_url}/_media/{media_id}?exp={expires}&sig={sig}"

    def check_media_url(self, media_id: str, expires: str, sig: str) -> bool:
        want = hmac.new(self._url_key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        return hmac.compare_digest(want, sig) and expires.isdigit() and int(expires) >= self.clock()

    # -------------------------------------------------------------------- the customer

    def customer_message(
        self,
        *,
        phone_number_id: str,
        wa_id: str,
        name: str = "",
        text: str | None = None,
        image: bytes | dict | bool | None = None,
        button: str | dict | None = None,
        reply: dict | None = None,
        reaction: dict | None = None,
        context_id: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        """The customer writes; a signed inbound webhook is posted. Returns the new wamid.

        `button` is a template quick-reply tap (`"Stop promotions"` or `{"payload", "text"}`);
        `reply` an interactive reply `{"id", "title"[, "description"]}`; `reaction` is
        `{"message_id", "emoji"}`; `timestamp` lets tests put the message in the past.
        """
        wa_id = "".join(ch for ch in str(wa_id) if ch.isdigit())
        if not wa_id:
            raise ValueError("wa_id must contain digits")
        at = float(timestamp if timestamp is not None else self.clock())
        wamid = payloads.new_wamid()
        with self.lock:
            chat = self._chat(phone_number_id, wa_id, name)
            display, waba_id = self._number(phone_number_id)
            message: dict = {"from": wa_id, "from_user_id": chat.user_id, "id": wamid, "timestamp": str(int(at))}
            opens_window = True
            if text is not None:
                message.update(type="text", text={"body": text})
                view: dict = {"text": text}
            elif image is not None:
                media = self._customer_image(image)
                caption = image.get("caption", "") if isinstance(image, dict) else ""
                part = {"mime_type": media.mime_type, "sha256": media.sha256_b64, "id": media.id}
                part["url"] = self.media_url(media.id)
                if caption:
                    part["caption"] = caption
                message.update(type="image", image=part)
                view = {"text": caption, "media": {"kind": "image", "url": f"/_sim/media/{media.id}"}}
            elif button is not None:
                tap = button if isinstance(button, dict) else {"text": button, "payload": button}
                message.update(type="button", button={"payload": tap.get("payload", ""), "text": tap.get("text", "")})
                context_id = context_id or self._latest_out(chat, "template")
                view = {"text": tap.get("text", "")}
            elif reply is not None:
                kind = "list_reply" if reply.get("description") is not None else "button_reply"
                message.update(type="interactive", interactive={"type": kind, kind: dict(reply)})
                context_id = context_id or self._latest_out(chat, "interactive")
                view = {"text": reply.get("title", "")}
            elif reaction is not None:
                part = {"message_id": reaction["message_id"]}
                if reaction.get("emoji"):
                    part["emoji"] = reaction["emoji"]
                message.update(type="reaction", reaction=part)
                opens_window = False  # treated as not reopening the window (cloud-api.md 4.1)
                target = self._by_wamid.get(reaction["message_id"])
                if target:
                    target[1].reaction = reaction.get("emoji") or None
                view = {}
            else:
                raise ValueError("give text, image, button, reply or reaction")
            if context_id:
                message["context"] = {"from": display, "id": context_id}
            if opens_window:
                chat.last_inbound = max(chat.last_inbound or at, at)
            if message["type"] != "reaction":
                item = Item(wamid, "in", message["type"], at, view, status="sent")
                chat.items.append(item)
                self._by_wamid[wamid] = (chat, item)
            envelope = payloads.messages_change(
                waba_id=waba_id,
                phone_number_id=phone_number_id,
                display_phone_number=display,
                contacts=[payloads.contact(wa_id=wa_id, user_id=chat.user_id, name=chat.name)],
                messages=[message],
            )

        def delivered(status: int | None) -> None:
            # The customer's own ticks: two grey once the business's webhook endpoint took it.
            with self.lock:
                found = self._by_wamid.get(wamid)
                if status == 200 and found and found[1].status == "sent":
                    found[1].status = "delivered"

        self._post("message", envelope, delivered)
        return wamid

    def _customer_image(self, image: bytes | dict | bool) -> Media:
        from .images import sample_png

        if isinstance(image, bytes):
            content, mime = image, "image/png"
        elif isinstance(image, dict) and image.get("data"):
            content, mime = base64.b64decode(image["data"]), image.get("mime_type", "image/png")
        else:
            content, mime = sample_png(), "image/png"
        media = Media(payloads.new_numeric_id(), content, mime, "photo.png")
        self._media[media.id] = media
        return media

    def _latest_out(self, chat: Chat, kind: str) -> str | None:
        return next((i.wamid for i in reversed(chat.items) if i.direction == "out" and i.type == kind), None)

    def customer_read(self, *wamids: str, phone_number_id: str | None = None, wa_id: str | None = None) -> None:
        """The customer reads business messages: the given ones, or all in one chat."""
        with self.lock:
            items: list[Item] = [self._by_wamid[w][1] for w in wamids if w in self._by_wamid]
            if phone_number_id and wa_id:
                chat = self._chats.get((phone_number_id, wa_id))
                items += chat.items if chat else []
            for item in items:
                self._want_read(item)

    def customer_preference(self, *, phone_number_id: str, wa_id: str, value: str) -> None:
        """The customer stops or resumes this business's marketing in WhatsApp itself."""
        with self.lock:
            chat = self._chat(phone_number_id, wa_id)
            chat.marketing_stopped = value == "stop"
            display, waba_id = self._number(phone_number_id)
            detail = "User requested to stop marketing messages" if value == "stop" else "User resumed marketing"
            preference = {
                "wa_id": wa_id,
                "user_id": chat.user_id,
                "detail": detail,
                "category": "marketing_messages",
                "value": value,
                "timestamp": int(self.clock()),
            }
            envelope = payloads.messages_change(
                waba_id=waba_id,
                phone_number_id=phone_number_id,
                display_phone_number=display,
                contacts=[payloads.contact(wa_id=wa_id, user_id=chat.user_id, name=chat.name)],
                user_preferences=[preference],
            )
        self._post("user_preferences", envelope)

    def customer_wrote_before(self, *, phone_number_id: str, wa_id: str, name: str = "", at: float) -> None:
        """A customer message Meta delivered before this simulator started (the demo's chats,
        which `seed_demo` stores): their service window counts from it. No webhook is posted."""
        with self.lock:
            chat = self._chat(phone_number_id, wa_id, name)
            chat.last_inbound = max(chat.last_inbound or at, at)

    def open_chat(self, phone_number_id: str, wa_id: str, name: str = "") -> None:
        """The phone page shows this chat now: what was delivered gets read."""
        with self.lock:
            chat = self._chat(phone_number_id, wa_id, name)
            chat.seen_open_at = time.monotonic()
            for item in chat.items:
                self._want_read(item)

    def _want_read(self, item: Item) -> None:
        if item.direction != "out" or item.want_read or item.type == "reaction":
            return
        item.want_read = True
        if item.status == "delivered":
            self.scheduler.call_later(self.status_delay, lambda: self._advance(item.wamid, "read"))

    # -------------------------------------------------------------------- the business

    def send(self, phone_number_id: str, body: dict) -> dict:
        """POST /{phone_number_id}/messages for a message; raises SendRefused."""
        to_input = body.get("to") or body.get("recipient")
        if not to_input:
            raise SendRefused(131008, "The parameter to is required.")
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            raise SendRefused(100, f"Unsupported message type {kind!r}.")
        part = body.get(kind)
        if not part:
            raise SendRefused(131008, f"The parameter {kind} is required.")
        with self.lock:
            try:
                self._throttle(phone_number_id)
                failure = self._next_failure()
                if failure is not None and failure not in errors.ASYNC_CODES:
                    raise SendRefused(failure)
                if body.get("to"):
                    self._throttle_pair(phone_number_id, "".join(ch for ch in str(body["to"]) if ch.isdigit()))
            except SendRefused as refused:
                self._refused[refused.code] += 1
                raise
            display, waba_id = self._number(phone_number_id)
            if body.get("to"):
                wa_id = "".join(ch for ch in str(body["to"]) if ch.isdigit())
                if not wa_id:
                    raise SendRefused(100, "Invalid parameter to.")
                if wa_id == display:
                    raise SendRefused(131021)
                chat = self._chat(phone_number_id, wa_id)
            else:
                chat = self._chat_by_user_id(phone_number_id, str(body["recipient"]))
                if chat is None:
                    raise SendRefused(131009, "Unknown recipient.")
            now = self.clock()
            category, known, failure = self._check_content(kind, part, chat, failure)
            wamid = payloads.new_wamid()
            item = Item(
                wamid,
                "out",
                kind,
                now,
                views.outbound_view(body, known, self._page_media_url),
                status="accepted",
                template_category=category,
                in_window=self._in_window(chat, now),
                user_id_recipient=not body.get("to"),
                callback_data=body.get("biz_opaque_callback_data"),
            )
            if failure is None and kind not in ("template", "reaction") and not item.in_window:
                failure = 131047  # Meta accepts, then fails asynchronously
            chat.typing_until = 0.0  # a reply ends the typing indicator
            if kind == "reaction":
                target = self._by_wamid.get(part.get("message_id", ""))
                if target is None:
                    raise SendRefused(131009, "Invalid message_id for reaction.")
                target[1].reaction = part.get("emoji") or None
            else:
                if context := (body.get("context") or {}).get("message_id"):
                    item.view["reply_to"] = context
                chat.items.append(item)
            self._by_wamid[wamid] = (chat, item)
            self._sent.append(
                {
                    "wamid": wamid,
                    "phone_number_id": phone_number_id,
                    "to": to_input,
                    "type": kind,
                    "payload": body,
                    "at": now,
                }
            )
            self._schedule(item, failure)
        contact = {"input": to_input, "wa_id": chat.wa_id} if body.get("to") else {"input": to_input}
        if not body.get("to"):
            contact["user_id"] = str(body["recipient"])
        message: dict = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        with self.lock:
            delay = self._delay_queue.popleft() if self._delay_queue else 0.0
        if delay:
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}

    def _throttle(self, phone_number_id: str) -> None:
        if not self._rate_limit:
            return
        times = self._send_times[phone_number_id]
        now = time.monotonic()
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= self._rate_limit:
            raise SendRefused(130429)
        times.append(now)

    def _throttle_pair(self, phone_number_id: str, wa_id: str) -> None:
        """GCRA per (number, customer): `burst` at once, then one per interval."""
        if not self._pair_limit or not wa_id:
            return
        interval, burst = self._pair_limit
        now = time.monotonic()
        key = (phone_number_id, wa_id)
        tat = max(self._pair_tat.get(key, now), now)
        if tat - now > (burst - 1) * interval:
            raise SendRefused(131056)
        self._pair_tat[key] = tat + interval

    def _next_failure(self) -> int | None:
        if not self._fail_queue:
            return None
        entry = self._fail_queue[0]
        entry[1] -= 1
        if entry[1] <= 0:
            self._fail_queue.popleft()
        return entry[0]

    def _check_content(self, kind: str, part: dict, chat: Chat, failure: int | None):
        """(template category, known template, asynchronous failure) for the content."""
        if kind == "text":
            if not isinstance(part, dict) or not part.get("body"):
                raise SendRefused(131008, "The parameter text['body'] is required.")
            if len(part["body"]) > 4096:
                raise SendRefused(100, "text['body'] is longer than 4096 characters.")
        if kind in ("image", "audio", "video", "document", "sticker"):
            if not part.get("id") and not part.get("link"):
                raise SendRefused(131008, f"{kind} needs an id or a link.")
            if part.get("id") and part["id"] not in self._media:
                failure = failure or 131053
        if kind != "template":
            return None, None, failure
        name = part.get("name")
        language = str((part.get("language") or {}).get("code", "")).replace("-", "_")
        if not name or not language:
            raise SendRefused(131008, "template needs a name and language.code.")
        same_name = [t for t in self._templates.values() if t["name"] == name]
        if not same_name:
            if self.strict_templates:
                raise SendRefused(132001, f"template name ({name}) does not exist in {language}")
            return self.default_template_category, None, failure
        known = next((t for t in same_name if t["language"].replace("-", "_") == language), None)
        if known is not None and known["status"] in ("PAUSED", "DISABLED"):
            raise SendRefused(132015 if known["status"] == "PAUSED" else 132016)
        if known is None or known["status"] != "APPROVED":
            raise SendRefused(132001, f"template name ({name}) does not exist or is not approved in {language}")
        expected = review.variables(review.body_text(known))
        given = next(
            (c.get("parameters") or [] for c in part.get("components") or [] if str(c.get("type")).lower() == "body"),
            [],
        )
        if len(set(expected)) != len(given):
            raise SendRefused(132000, f"body expects {len(set(expected))} parameters, got {len(given)}")
        category = known["category"].lower()
        if category == "marketing" and chat.marketing_stopped:
            failure = failure or 131050
        return category, known, failure

    def _page_media_url(self, media_id: str | None, link: str | None) -> str:
        return f"/_sim/media/{media_id}" if media_id else (link or "")

    def _schedule(self, item: Item, failure: int | None) -> None:
        d = self.status_delay
        wamid = item.wamid
        if failure is not None:
            self.scheduler.call_later(d, lambda: self._advance(wamid, "failed", failure))
            return
        self.scheduler.call_later(d, lambda: self._advance(wamid, "sent"))
        if item.type != "reaction":  # a reaction gets only `sent`
            self.scheduler.call_later(2 * d, lambda: self._advance(wamid, "delivered"))

    def _advance(self, wamid: str, status: str, code: int | None = None) -> None:
        """Runs on the scheduler thread: move one message forward and post its status webhook."""
        with self.lock:
            chat, item = self._by_wamid[wamid]
            if STATUS_RANK[status] <= STATUS_RANK[item.status] and status != "failed":
                return
            item.status = status
            now = self.clock()
            entry: dict = {"id": wamid, "status": status, "timestamp": str(int(now)), "recipient_id": chat.wa_id}
            if item.user_id_recipient or status != "failed":
                entry["recipient_user_id"] = chat.user_id
            if item.callback_data:
                entry["biz_opaque_callback_data"] = item.callback_data
            if status == "failed":
                item.error = errors.status_error(code)
                entry["errors"] = [item.error]
            if status == self.pricing_on and item.type != "reaction":
                month = (chat.phone_number_id, pricing.month_key(item.ts))
                entry["pricing"] = pricing.pricing_for(
                    template_category=item.template_category,
                    in_window=item.in_window,
                    sent_at=item.ts,
                    service_used=self._service_used[month],
                )
            if status == "delivered" and item.template_category is None:
                self._service_used[(chat.phone_number_id, pricing.month_key(item.ts))] += 1
            if status == "delivered" and (item.want_read or self._is_open(chat)):
                item.want_read = True
                self.scheduler.call_later(self.status_delay, lambda: self._advance(wamid, "read"))
            display, waba_id = self._number(chat.phone_number_id)
            envelope = payloads.messages_change(
                waba_id=waba_id,
                phone_number_id=chat.phone_number_id,
                display_phone_number=display,
                contacts=[payloads.contact(wa_id=chat.wa_id, user_id=chat.user_id, name=chat.name)],
                statuses=[entry],
            )
        self._post(f"status.{status}", envelope)

    def mark_read(self, phone_number_id: str, body: dict) -> dict:
        """POST /{phone_number_id}/messages with status=read (and maybe the typing indicator)."""
        with self.lock:
            found = self._by_wamid.get(str(body.get("message_id", "")))
            if found is None or found[1].direction != "in" or found[0].phone_number_id != phone_number_id:
                raise SendRefused(131009, "Invalid message_id.")
            chat, target = found
            # Earlier messages in the thread are marked read too (cloud-api.md 2.3).
            for item in chat.items:
                if item.direction == "in" and item.ts <= target.ts:
                    item.status = "read"
                if item is target:
                    break
            if (body.get("typing_indicator") or {}).get("type") == "text":
                chat.typing_until = time.monotonic() + TYPING_SECONDS
        return {"success": True}

    # --------------------------------------------------------------------------- media

    def media_upload(self, content: bytes, mime_type: str, filename: str) -> str:
        if not content:
            raise SendRefused(131053, "The file is empty.")
        with self.lock:
            media = Media(payloads.new_numeric_id(), content, mime_type or "application/octet-stream", filename)
            self._media[media.id] = media
            return media.id

    def media_info(self, media_id: str) -> dict | None:
        with self.lock:
            media = self._media.get(media_id)
            if media is None:
                return None
            return {
                "messaging_product": "whatsapp",
                "url": self.media_url(media.id),
                "mime_type": media.mime_type,
                "sha256": media.sha256_hex,
                "file_size": len(media.content),
                "id": media.id,
            }

    # ----------------------------------------------------------------------- the numbers

    def phone_number_info(self, phone_number_id: str) -> dict | None:
        """GET /{phone_number_id}: a known number with its quality rating and messaging limit."""
        with self.lock:
            info = self.numbers.get(phone_number_id)
            if info is None:
                return None
            display, _waba_id = self._number(phone_number_id)
            return {
                "id": phone_number_id,
                "display_phone_number": display,
                "verified_name": info.get("verified_name", "Demo"),
                "quality_rating": info.get("quality_rating", "GREEN"),
                "messaging_limit_tier": info.get("messaging_limit_tier", "TIER_2K"),
            }

    def number_quality(self, phone_number_id: str, *, event: str, limit: str = "", rating: str = "") -> None:
        """Meta changes a number's messaging limit or flags its quality: phone_number_quality_update."""
        with self.lock:
            info = self.numbers.setdefault(phone_number_id, {})
            old_limit = info.get("messaging_limit_tier", "TIER_2K")
            if limit:
                info["messaging_limit_tier"] = limit
            if rating:
                info["quality_rating"] = rating
            display, waba_id = self._number(phone_number_id)
            value = {"display_phone_number": display, "event": event, "current_limit": limit or old_limit}
            if limit and limit != old_limit:
                value["old_limit"] = old_limit
            envelope = payloads.template_webhook(
                waba_id=waba_id, field="phone_number_quality_update", value=value, at=int(self.clock())
            )
        self._post("phone_number_quality_update", envelope)

    def media(self, media_id: str) -> Media | None:
        with self.lock:
            return self._media.get(media_id)

    def media_delete(self, media_id: str) -> bool:
        with self.lock:
            return self._media.pop(media_id, None) is not None

    # ----------------------------------------------------------------------- templates

    def template_create(self, waba_id: str, body: dict) -> dict:
        if problem := review.submission_error(body):
            raise SendRefused(100, problem)
        with self.lock:
            language = str(body["language"])
            if any(
                t["waba_id"] == waba_id and t["name"] == body["name"] and t["language"] == language
                for t in self._templates.values()
            ):
                raise SendRefused(100, f"Content in this language already exists for {body['name']}.")
            template = {
                "id": payloads.new_numeric_id(),
                "name": body["name"],
                "language": language,
                "category": str(body["category"]).upper(),
                "parameter_format": str(body.get("parameter_format") or "positional").upper(),
                "components": body["components"],
                "status": "PENDING",
                "quality_score": {"score": "UNKNOWN"},
                "waba_id": waba_id,
            }
            self._templates[template["id"]] = template
            tid = template["id"]
        if self.auto_review_templates:
            self.scheduler.call_later(self.template_review_delay, lambda: self._review(tid))
        return {"id": tid, "status": "PENDING", "category": template["category"]}

    def _review(self, template_id: str) -> None:
        with self.lock:
            template = self._templates.get(template_id)
            if template is None or template["status"] != "PENDING":
                return
            event, reason, detail = review.review(template)
            template["status"] = event
            if event == "REJECTED":
                template["rejected_reason"] = reason
            envelope = payloads.template_status_change(
                waba_id=template["waba_id"],
                template=template,
                event=event,
                reason=reason,
                detail=detail,
                at=int(self.clock()),
            )
        self._post("template_status", envelope)

    def template_list(self, waba_id: str, *, name: str | None, status: str | None, limit: int, after: str | None):
        with self.lock:
            rows = [
                {k: v for k, v in t.items() if k != "waba_id"}
                for t in self._templates.values()
                if t["waba_id"] == waba_id
                and (not name or t["name"] == name)
                and (not status or t["status"] == status.upper())
            ]
        rows.sort(key=lambda t: t["id"])
        if after:
            rows = [t for t in rows if t["id"] > after]
        page = rows[:limit]
        result: dict = {"data": page}
        if page:
            result["paging"] = {"cursors": {"before": page[0]["id"], "after": page[-1]["id"]}}
            if len(rows) > limit:
                result["paging"]["next"] = f"{self.base_url}/{self.api_version}/{waba_id}/message_templates?after="
                result["paging"]["next"] += page[-1]["id"]
        return result

    def template_delete(self, waba_id: str, *, name: str | None, hsm_id: str | None) -> dict:
        with self.lock:
            doomed = [
                tid
                for tid, t in self._templates.items()
                if t["waba_id"] == waba_id and (t["name"] == name if name else tid == hsm_id)
            ]
            if not doomed or not (name or hsm_id):
                raise SendRefused(100, "Message template not found.")
            for tid in doomed:
                del self._templates[tid]
        return {"success": True}

    # ------------------------------------------------------------------ the phone page

    def chats(self) -> list[dict]:
        with self.lock:
            rows = []
            for chat in self._chats.values():
                last = chat.items[-1] if chat.items else None
                rows.append(
                    {
                        "phone_number_id": chat.phone_number_id,
                        "wa_id": chat.wa_id,
                        "name": chat.name,
                        "last_text": (last.view.get("text") or f"[{last.type}]") if last else "",
                        "last_ts": last.ts if last else 0,
                        "unread": sum(1 for i in chat.items if i.direction == "out" and i.status == "delivered"),
                    }
                )
        return sorted(rows, key=lambda r: -r["last_ts"])

    def chat_view(self, phone_number_id: str, wa_id: str) -> dict:
        with self.lock:
            chat = self._chats.get((phone_number_id, wa_id))
            if chat is None:
                return {"phone_number_id": phone_number_id, "wa_id": wa_id, "name": "", "items": []}
            now = self.clock()
            return {
                "phone_number_id": chat.phone_number_id,
                "wa_id": chat.wa_id,
                "user_id": chat.user_id,
                "name": chat.name,
                "business": self._number(phone_number_id)[0],
                "window_open": self._in_window(chat, now),
                "typing": time.monotonic() < chat.typing_until,
                "marketing_stopped": chat.marketing_stopped,
                "items": [
                    {
                        "wamid": i.wamid,
                        "direction": i.direction,
                        "type": i.type,
                        "ts": i.ts,
                        "status": i.status,
                        "error": i.error and {"code": i.error["code"], "title": i.error["title"]},
                        "reaction": i.reaction,
                        "view": i.view,
                    }
                    for i in chat.items
                ],
            }
