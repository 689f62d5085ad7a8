"""Live updates: turn a conversations event into htmx out-of-band swaps for one viewer.

The consumer calls `render_event` (synchronous, in database_sync_to_async) for each event it
hears. It renders the *same* partials the pages use, in the viewer's language and time zone,
and only for conversations that viewer may see (the group names alone are not trusted).
"""

from __future__ import annotations

import threading
import time
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie

from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from conversations.selectors import numbers_for_user
from inbox import queries
from inbox.middleware import TZ_COOKIE, _zone
from inbox.presenters import message_context, row_context, thread_context

MESSAGE_NEW = "message.new"
MESSAGE_UPDATED = "message.updated"
CONVERSATION_UPDATED = "conversation.updated"
USER_CHANGED = "user.changed"


@dataclass(frozen=True)
class Viewer:
    user: object
    zone: zoneinfo.ZoneInfo | None
    language: str
    # The business numbers whose threads this viewer may see (None: not known, check each time).
    number_ids: frozenset[int] | None = None


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _language(cookies: SimpleCookie, accept: str) -> str:
    """The language the pages use for this browser: the language cookie, else Accept-Language."""
    candidates = []
    if settings.LANGUAGE_COOKIE_NAME in cookies:
        candidates.append(cookies[settings.LANGUAGE_COOKIE_NAME].value)
    candidates += [code for code, _q in parse_accept_lang_header(accept) if code != "*"]
    for code in candidates:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def viewer_for(scope) -> Viewer:
    """Who is watching, in which zone and language (as UserTimezoneMiddleware and LocaleMiddleware do)."""
    user = scope["user"]
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(_header(scope, b"cookie"))
    except Exception:  # a malformed cookie header only loses the preferences
        cookies = SimpleCookie()
    profile = getattr(user, "profile", None)
    zone = _zone(profile.time_zone) if profile else None
    if zone is None and TZ_COOKIE in cookies:
        zone = _zone(cookies[TZ_COOKIE].value)
    return Viewer(
        user=user,
        zone=zone,
        language=_language(cookies, _header(scope, b"accept-language")),
        number_ids=frozenset(numbers_for_user(user).values_list("pk", flat=True)),
    )


def viewer_refreshed(viewer: Viewer) -> Viewer | None:
    """The viewer with their user read again (role, numbers, active); None if they lost the inbox.

    The socket's user object caches permissions and profile from when it connected.
    """
    from django.contrib.auth import get_user_model

    from inbox.roles import perm

    user = get_user_model().objects.filter(pk=viewer.user.pk, is_active=True).select_related("profile").first()
    if user is None or not user.has_perm(perm("work_inbox")):
        return None
    return replace(viewer, user=user, number_ids=frozenset(numbers_for_user(user).values_list("pk", flat=True)))


# Message fragments do not depend on who looks at them, only on the language and time zone they
# are shown in: rendered once per process and shared by every socket that may see the thread.
_shared: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
_shared_lock = threading.Lock()
SHARED_FOR_SECONDS = 5.0
SHARED_MAX = 2000


def may_see(viewer: Viewer, payload: dict) -> bool | None:
    """From the socket's cached business numbers: True, False, or None (unknown: ask the database)."""
    number_id = payload.get("number_id")
    if number_id is None or viewer.number_ids is None:
        return None
    return number_id in viewer.number_ids


def _shared_key(viewer: Viewer, payload: dict, batch: str | None) -> tuple | None:
    if not batch or not may_see(viewer, payload):
        return None
    return (batch, tuple(sorted(payload.items())), viewer.language, str(viewer.zone))


def shared_fragment(viewer: Viewer, payload: dict, *, batch: str | None = None) -> str | None:
    """The fragments another socket of this process already rendered for this event; None if
    there are none yet (then render_event renders and shares them). No database access."""
    if payload.get("type") == CONVERSATION_UPDATED and not batch:
        return None
    if may_see(viewer, payload) is False:
        return ""
    key = _shared_key(viewer, payload, batch)
    if key is None:
        return None
    with _shared_lock:
        cached = _shared.get(key)
    if cached is not None and time.monotonic() - cached[0] < SHARED_FOR_SECONDS:
        return cached[1]
    return None


def render_event(viewer: Viewer, payload: dict, *, batch: str | None = None) -> str:
    """The OOB fragments for one event, or "" when there is nothing this viewer may see.

    Events of one published batch (`batch`) are rendered once per language and time zone in
    this process and shared by every socket that may see them: the fragments hold nothing
    about the viewer (conversation_fragments renders them without a user).
    """
    kind = payload.get("type")
    if kind not in (MESSAGE_NEW, MESSAGE_UPDATED, CONVERSATION_UPDATED):
        return ""
    if may_see(viewer, payload) is False:
        return ""
    key = _shared_key(viewer, payload, batch)
    if key is not None:
        now = time.monotonic()
        with _shared_lock:
            cached = _shared.get(key)
        if cached is not None and now - cached[0] < SHARED_FOR_SECONDS:
            return cached[1]
        html = _render(viewer, payload, kind, shared=True)
        with _shared_lock:
            _shared[key] = (now, html)
            while len(_shared) > SHARED_MAX:
                _shared.popitem(last=False)
        return html
    return _render(viewer, payload, kind)


def _render(viewer: Viewer, payload: dict, kind: str, *, shared: bool = False) -> str:
    try:
        conversation = queries.conversation_for_agent(viewer.user, int(payload["conversation_id"]))
    except (Http404, KeyError, TypeError, ValueError):
        return ""
    with translation.override(viewer.language), timezone.override(viewer.zone or timezone.get_default_timezone()):
        if kind == CONVERSATION_UPDATED:
            return conversation_fragments(None if shared else viewer.user, conversation)
        return message_fragments(viewer.user, conversation, payload.get("message_id"), new=kind == MESSAGE_NEW)


def message_fragments(user, conversation, message_id, *, new: bool) -> str:
    message = queries.message_for_thread(conversation, int(message_id)) if message_id else None
    if message is None:
        return ""
    context = message_context(conversation)
    if message.type == "reaction" and message.reply_to_id:
        # A reaction shows under the message it reacts to: refresh that message's row.
        target = queries.message_for_thread(conversation, message.reply_to_id)
        if target is not None:
            return render_to_string("inbox/thread.html#message", {**context, "message": target, "oob": "true"})
    if new:
        # Appended to the open thread (static/js/inbox.js skips it if the sender's page already has it);
        # the list row moves up.
        html = render_to_string("inbox/thread.html#message-oob-append", {**context, "message": message})
        return html + _row(conversation.pk)
    # Ticks, failure reason or media changed: replace the row in place if it is on the page.
    return render_to_string("inbox/thread.html#message", {**context, "message": message, "oob": "true"})


def conversation_fragments(user, conversation) -> str:
    """The thread's list row, header and composer; `user` None renders them for anyone who may
    see the thread (no "me" in the assignee menu)."""
    context = thread_context(user, conversation)
    html = _row(conversation.pk)
    html += render_to_string("inbox/thread.html#header", {**context, "oob": "true"})
    # The composer is only swapped when the window opened or closed (inbox.js compares data-window),
    # so an agent's half-typed reply is never wiped.
    html += render_to_string("inbox/thread.html#composer", {**context, "oob": "true"})
    return html


def _row(conversation_id: int) -> str:
    """The list row (the same for everyone who may see the thread, so rendered once; callers
    have checked that the viewer may see this conversation)."""
    row = queries.conversation_row_unchecked(conversation_id)
    if row is None:
        return ""
    inner = render_to_string("inbox/list.html#row", row_context(None, row))
    return f'<div hx-swap-oob="afterbegin:#conversation-rows">{inner}</div>'


def row_fragment(user, conversation_id: int) -> str:
    row = queries.conversation_row(user, conversation_id)
    if row is None:
        return ""
    # The row goes into the list; inbox.js places it by time and drops it if the list's filters exclude it.
    inner = render_to_string("inbox/list.html#row", row_context(user, row))
    return f'<div hx-swap-oob="afterbegin:#conversation-rows">{inner}</div>'
