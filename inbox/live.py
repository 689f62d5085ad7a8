"""Live updates: turn a batch of conversations events into htmx out-of-band swaps for one viewer.

The consumer calls `batch_html` for each batch it hears. It renders the *same* partials the
pages use, in the viewer's language and time zone, and only for conversations that viewer may
see (the group names alone are not trusted): list rows for everyone, the thread's own parts only
for the socket that has that thread open (it says so with a `watch` message).
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
from inbox import locales, queries
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

    from core.roles import perm

    user = get_user_model().objects.filter(pk=viewer.user.pk, is_active=True).select_related("profile").first()
    if user is None or not user.has_perm(perm("work_inbox")):
        return None
    return replace(viewer, user=user, number_ids=frozenset(numbers_for_user(user).values_list("pk", flat=True)))


# Fragments do not depend on who looks at them, only on the language and time zone they are shown
# in: each is rendered once per process and batch, and shared by every socket that may see it.
_shared: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
_shared_lock = threading.Lock()
# Long enough for a socket that fell behind to still find its batch's fragments (re-rendering them
# per socket would make it fall further behind); SHARED_MAX bounds the memory.
SHARED_FOR_SECONDS = 120.0
SHARED_MAX = 2000
LIVE_KINDS = (MESSAGE_NEW, MESSAGE_UPDATED, CONVERSATION_UPDATED)
# How many messages a socket that starts watching a thread is sent to catch up (see messages_after).
CATCH_UP_MAX = 50


def may_see(viewer: Viewer, payload: dict) -> bool | None:
    """From the socket's cached business numbers: True, False, or None (unknown: ask the database)."""
    number_id = payload.get("number_id")
    if number_id is None or viewer.number_ids is None:
        return None
    return number_id in viewer.number_ids


class _NotCached(Exception):
    """A fragment is not in the shared cache yet and the caller may not touch the database."""


def batch_html(
    viewer: Viewer, payloads: list[dict], *, batch: str | None, watching: int | None, render: bool
) -> str | None:
    """Everything one published batch changes on this viewer's screen, as htmx OOB fragments.

    Every agent of a number sees its list, so each changed conversation's list row goes to
    everyone who may see it, once per batch however many events touched it. The thread itself
    (message bubbles, header, composer) goes only to the socket watching that thread, which
    is the only one with the thread on screen: rendering them for all viewers cost the most.

    With render=False nothing touches the database: the fragments come from the shared cache,
    or the answer is None (then call again with render=True in a worker thread).
    """
    parts: list[str] = []
    rows: dict[int, bool | None] = {}  # conversation id -> may see it (None: the row query checks)
    try:
        for payload in payloads:
            kind = payload.get("type")
            if kind not in LIVE_KINDS:
                continue
            visible = may_see(viewer, payload)
            if visible is False:
                continue
            if visible is None and not render:
                raise _NotCached
            try:
                conversation_id = int(payload["conversation_id"])
            except (KeyError, TypeError, ValueError):
                continue
            # Every kind: a status can change the row too ("Not delivered" when the last message failed).
            rows.setdefault(conversation_id, visible)
            if conversation_id == watching:
                if not render:
                    raise _NotCached
                # For this viewer alone (their "me" in the assignee menu): few sockets watch a thread.
                parts.append(_render(viewer, payload, kind))
        for conversation_id, visible in rows.items():
            if visible is None:  # not known from the cache: checked by the query, so not shared
                parts.append(_in_viewers_locale(viewer, row_fragment, viewer.user, conversation_id))
            else:
                make = lambda c=conversation_id: _in_viewers_locale(viewer, _row, c)  # noqa: E731
                parts.append(_shared_or_render(viewer, ("row", conversation_id), batch, render, make))
    except _NotCached:
        return None
    return "".join(parts)


def _row_conversation_ids(payloads: list[dict]) -> list[int]:
    """The conversations whose list row a batch changes, in order of first sight."""
    ids: dict[int, None] = {}
    for payload in payloads:
        if payload.get("type") not in LIVE_KINDS or payload.get("number_id") is None:
            continue
        try:
            ids.setdefault(int(payload["conversation_id"]), None)
        except (KeyError, TypeError, ValueError):
            continue
    return list(ids)


def rows_prerender(payloads: list[dict], *, batch: str, like: Viewer) -> None:
    """Render a batch's list rows into the shared cache, in `like`'s language and time zone, for
    every socket of the process to take (each checks its own access before sending one)."""
    viewer = replace(like, user=None)
    for conversation_id in _row_conversation_ids(payloads):
        make = lambda c=conversation_id: _in_viewers_locale(viewer, _row, c)  # noqa: E731
        _shared_or_render(viewer, ("row", conversation_id), batch, True, make)


# A batch that changes more threads than this (a burst) is not pre-rendered by the processor:
# its sockets render the rows they need, so the processor keeps applying the backlog.
ROWS_PRERENDERED_MAX = 20


def rows_for_batch(payloads: list[dict]) -> dict[int, dict[str, str]]:
    """The processor's hook (conversations.events): a batch's list rows, rendered once in every
    (language, time zone) pair that open sockets show, as {conversation id: {pair key: html}}.
    Every web process would otherwise query and render them again for its own sockets."""
    pairs = locales.in_use()
    ids = _row_conversation_ids(payloads)
    if not pairs or not ids or len(ids) > ROWS_PRERENDERED_MAX:
        return {}
    rows = queries.conversation_rows_unchecked(ids)
    return {
        row.pk: {
            locales.pair_key(language, zone): _in_viewers_locale(Viewer(None, zone, language), _row_html, row)
            for language, zone in pairs
        }
        for row in rows
    }


def rows_taken(batch: str, payloads: list[dict], rendered: dict, viewer: Viewer) -> bool:
    """Put the rows a batch came with (rows_for_batch's, by conversation id as text) into the
    shared cache; True if they include every row this viewer needs in its language and zone."""
    covered = True
    mine = locales.pair_key(viewer.language, viewer.zone)
    now = time.monotonic()
    with _shared_lock:
        for conversation_id in _row_conversation_ids(payloads):
            by_pair = rendered.get(str(conversation_id)) or {}
            for key, html in by_pair.items():
                pair = locales.pair_from_key(key)
                if pair is not None and isinstance(html, str):
                    _shared.setdefault((batch, ("row", conversation_id), pair[0], str(pair[1])), (now, html))
            covered = covered and mine in by_pair
        while len(_shared) > SHARED_MAX:
            _shared.popitem(last=False)
    return covered


def _shared_or_render(viewer: Viewer, what: tuple, batch: str | None, render: bool, make) -> str:
    """One fragment from the shared cache (keyed by batch, fragment, language and time zone), or
    rendered now and shared; without a batch there is nothing to share it by."""
    if batch is None:
        if not render:
            raise _NotCached
        return make()
    key = (batch, what, viewer.language, str(viewer.zone))
    now = time.monotonic()
    with _shared_lock:
        cached = _shared.get(key)
    if cached is not None and now - cached[0] < SHARED_FOR_SECONDS:
        return cached[1]
    if not render:
        raise _NotCached
    html = make()
    with _shared_lock:
        _shared[key] = (now, html)
        while len(_shared) > SHARED_MAX:
            _shared.popitem(last=False)
    return html


def _in_viewers_locale(viewer: Viewer, render, *args, **kwargs) -> str:
    with translation.override(viewer.language), timezone.override(viewer.zone or timezone.get_default_timezone()):
        return render(*args, **kwargs)


def messages_after(viewer: Viewer, conversation_id: int, after_id: int) -> str:
    """The thread's messages newer than `after_id`, for a socket that starts watching it: one
    that arrived between the thread page's query and the socket's `watch` is not missed."""
    try:
        conversation = queries.conversation_for_agent(viewer.user, conversation_id)
    except Http404:
        return ""
    newer = conversation.messages.filter(pk__gt=after_id).exclude(type="reaction").order_by("pk")
    return "".join(
        _in_viewers_locale(viewer, message_fragments, viewer.user, conversation, pk, new=True)
        for pk in newer.values_list("pk", flat=True)[:CATCH_UP_MAX]
    )


def _render(viewer: Viewer, payload: dict, kind: str) -> str:
    """The thread's own fragments for one event, for the viewer watching that thread."""
    try:
        conversation = queries.conversation_for_agent(viewer.user, int(payload["conversation_id"]))
    except (Http404, KeyError, TypeError, ValueError):
        return ""
    with translation.override(viewer.language), timezone.override(viewer.zone or timezone.get_default_timezone()):
        if kind == CONVERSATION_UPDATED:
            return conversation_fragments(viewer.user, conversation)
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
        # Appended to the open thread (static/js/inbox.js skips it if the sender's page already has it).
        return render_to_string("inbox/thread.html#message-oob-append", {**context, "message": message})
    # Ticks, failure reason or media changed: replace the row in place if it is on the page.
    return render_to_string("inbox/thread.html#message", {**context, "message": message, "oob": "true"})


def conversation_fragments(user, conversation) -> str:
    """The thread's header and composer; `user` None renders them for anyone who may see the
    thread (no "me" in the assignee menu)."""
    context = thread_context(user, conversation)
    html = render_to_string("inbox/thread.html#header", {**context, "oob": "true"})
    # The composer is only swapped when the window opened or closed (inbox.js compares data-window),
    # so an agent's half-typed reply is never wiped.
    html += render_to_string("inbox/thread.html#composer", {**context, "oob": "true"})
    return html


def _row(conversation_id: int) -> str:
    """The list row (the same for everyone who may see the thread, so rendered once; callers
    have checked that the viewer may see this conversation)."""
    row = queries.conversation_row_unchecked(conversation_id)
    return "" if row is None else _row_html(row)


def _row_html(row) -> str:
    inner = render_to_string("inbox/list.html#row", row_context(None, row))
    return f'<div hx-swap-oob="afterbegin:#conversation-rows">{inner}</div>'


def row_fragment(user, conversation_id: int) -> str:
    row = queries.conversation_row(user, conversation_id)
    if row is None:
        return ""
    # The row goes into the list; inbox.js places it by time and drops it if the list's filters exclude it.
    inner = render_to_string("inbox/list.html#row", row_context(user, row))
    return f'<div hx-swap-oob="afterbegin:#conversation-rows">{inner}</div>'
