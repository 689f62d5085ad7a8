"""Reads the agent pages need beyond conversations.selectors: filtered, keyset-paged lists and threads.

Everything starts from `conversations.selectors.conversations_for_user`, so an agent only ever
reads the conversations of their own numbers. Each function runs a fixed number of queries,
whatever the page size (the list page is asserted on that in tests).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Field, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from conversations import window
from conversations.models import BusinessNumber, CannedResponse, Conversation, Label, Message
from conversations.selectors import RECENT_FIRST, conversations_for_user, numbers_for_user, search, searching
from core import cursors, roles
from core.cursors import InvalidCursor, Position, split_page
from core.params import positive_int
from inbox.list_rows import ListRow, list_rows
from inbox.models import UserProfile

PAGE_SIZE = 30
THREAD_PAGE_SIZE = 50

STATUSES = [choice for choice, _label in Conversation.Status.choices]
WHO = ("all", "mine", "unassigned")
WINDOWS = ("open", "closed", "closing")
SORTS = ("", "closing")
# "Closing within the hour": the last inbound message is older than this, the window still open.
CLOSING_SOON = timedelta(hours=1)


# --- cursors -------------------------------------------------------------------------------------
# A cursor is core.cursors' (time, id) of the last row shown, opaque to the browser. The time may
# be None: threads without any message sort first (PostgreSQL's DESC NULLS FIRST, matching the
# index).


def _position(cursor: str | None) -> Position | None:
    """The position in a cursor; None for a missing or tampered one (the page starts at the top)."""
    if not cursor:
        return None
    try:
        return cursors.decode(cursor)
    except InvalidCursor:
        return None


def _cursor(position: Position | None) -> str | None:
    return cursors.encode(*position) if position else None


# --- the conversation list -----------------------------------------------------------------------


@dataclass
class ListFilters:
    status: str = "open"
    who: str = "all"
    window: str = ""
    number: int | None = None
    q: str = ""
    # "" = latest activity first; "closing" = open windows, the one closing soonest first.
    sort: str = ""

    @classmethod
    def from_query(cls, data) -> ListFilters:
        """Read filters from request.GET; unknown values fall back to the defaults."""
        status = data.get("status", "open")
        number = data.get("number", "")
        return cls(
            status=status if status in STATUSES or status == "all" else "open",
            who=data.get("who", "all") if data.get("who") in WHO else "all",
            window=data.get("window", "") if data.get("window") in WINDOWS else "",
            number=positive_int(number),
            q=data.get("q", "").strip()[:200],
            sort=data.get("sort", "") if data.get("sort") in SORTS else "",
        )

    def as_query(self, **changes) -> dict[str, str]:
        """The filters as GET parameters, without the defaults, for links and the live list."""
        values = {
            "status": self.status,
            "who": self.who,
            "window": self.window,
            "number": self.number,
            "q": self.q,
            "sort": self.sort,
        }
        values.update(changes)
        defaults = {"status": "open", "who": "all", "window": "", "number": None, "q": "", "sort": ""}
        return {k: str(v) for k, v in values.items() if v != defaults[k] and v is not None}


@dataclass
class ListPage:
    conversations: list[ListRow]
    next_cursor: str | None
    numbers: list[BusinessNumber] = field(default_factory=list)


def _page(qs: QuerySet[Conversation], limit: int) -> list[ListRow]:
    """The rows of the first `limit + 1` conversations of `qs`, in its order: their ids by the
    ORM (filters, scope, search), what the rows show in one more statement (inbox.list_rows)."""
    return list_rows(list(qs.values_list("pk", flat=True)[: limit + 1]))


def conversation_list(
    user, filters: ListFilters, *, cursor: str | None = None, limit: int = PAGE_SIZE, now: datetime | None = None
) -> ListPage:
    now = now or timezone.now()
    closes_soonest = filters.sort == "closing"
    # Both "closing within the hour" and "closes soonest" only make sense for open windows.
    window_filter = "open" if filters.window == "closing" or closes_soonest else filters.window
    qs = conversations_for_user(
        user,
        status=None if filters.status == "all" else filters.status,
        assignee={"mine": "me", "unassigned": "none"}.get(filters.who),
        window=window_filter or None,
        number=filters.number,
        now=now,
    )
    if filters.window == "closing":
        qs = qs.filter(last_inbound_at__lte=now - window.WINDOW + CLOSING_SOON)
    if closes_soonest:
        if filters.q:
            qs = search(user, filters.q, within=qs)
        return _closing_soonest_page(qs, cursor, limit)
    position = _position(cursor)
    if position is not None:
        at, pk = position
        if at is None:
            qs = qs.filter(Q(last_message_at__isnull=True, pk__lt=pk) | Q(last_message_at__isnull=False))
        else:
            # The first bound repeats the second for the index: PostgreSQL cannot start an index
            # scan at an OR, so without it a later page reads every row before it.
            qs = qs.filter(Q(last_message_at__lte=at), Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=pk))
    if filters.q:
        # Only this page's matches (after the cursor, in the list's order) are looked for.
        qs = search(user, filters.q, within=qs, order_by=RECENT_FIRST, limit=limit + 1)
    with searching() if filters.q else nullcontext():
        found = _page(qs.order_by(*RECENT_FIRST), limit)
    rows, after = split_page(found, limit, lambda row: Position(row.last_message_at, row.pk))
    return ListPage(conversations=rows, next_cursor=_cursor(after))


def _closing_soonest_page(qs: QuerySet[Conversation], cursor: str | None, limit: int) -> ListPage:
    """Open windows by expiry, soonest first: the oldest last inbound message first.

    The cursor is the (last_inbound_at, id) of the last row shown; every row here has a
    last_inbound_at (the window is open), so the keyset needs no NULL case.
    """
    position = _position(cursor)
    if position is not None and position.at is not None:
        at, pk = position
        qs = qs.filter(Q(last_inbound_at__gt=at) | Q(last_inbound_at=at, pk__gt=pk))
    rows, after = split_page(
        _page(qs.order_by("last_inbound_at", "id"), limit), limit, lambda row: Position(row.last_inbound_at, row.pk)
    )
    return ListPage(conversations=rows, next_cursor=_cursor(after))


def conversation_row(user, pk: int) -> ListRow | None:
    """One list row (for live updates); None if the user may not see it."""
    rows = _page(conversations_for_user(user).filter(pk=pk), 0)
    return rows[0] if rows else None


def conversation_row_unchecked(pk: int) -> ListRow | None:
    """One list row for live updates whose reader's access was already checked (inbox.live)."""
    rows = list_rows([pk])
    return rows[0] if rows else None


def conversation_rows_unchecked(pks: list[int]) -> list[ListRow]:
    """Several list rows at once (a processor batch's), in one query."""
    return list_rows(pks)


def numbers_of(user) -> list[BusinessNumber]:
    return list(numbers_for_user(user).order_by("name", "display_phone_number"))


# --- one thread ----------------------------------------------------------------------------------


def conversation_for_agent(user, pk: int) -> Conversation:
    """The conversation if the user may see it; 404 otherwise (never 403: do not confirm it exists).

    Its labels (by name) and the teammates it may be assigned to come with it: in the same query
    on PostgreSQL; on SQLite (no json_agg there) the labels are prefetched and `teammates_of` asks
    the ORM. `conversation.labels.all()` reads none again."""
    # No ordering for one row by its key: ordering a query that selects four tables' columns
    # costs Django about as much again to compile (the list's order comes with the scope).
    qs = conversations_for_user(user).select_related("contact", "number", "assignee").filter(pk=pk).order_by()
    if connection.vendor != "postgresql":
        qs = qs.prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name")))
        conversation = _first(qs)
    else:
        conversation = _first(
            qs.annotate(
                label_list=RawSQL(_labels_of_the_thread(), (), output_field=Field()),
                teammate_list=RawSQL(*_teammates_of_the_thread(), output_field=Field()),
            )
        )
        if conversation is not None:
            _labels_kept(conversation, [Label(id=label_id, name=name) for label_id, name in conversation.label_list])
            conversation.teammates = [Teammate(*mate) for mate in conversation.teammate_list]
    if conversation is None:
        raise Http404("no such conversation")
    return conversation


def _first(qs: QuerySet):
    """The first row as it comes, or None: .first() would order by the key first."""
    return next(iter(qs[:1]), None)


def _labels_of_the_thread() -> str:
    conversations, labels = Conversation._meta.db_table, Label._meta.db_table
    labelled = Conversation.labels.through._meta.db_table
    return f"""COALESCE((SELECT json_agg(json_build_array(l.id, l.name) ORDER BY l.name)
                          FROM {labels} l JOIN {labelled} cl ON cl.label_id = l.id
                         WHERE cl.conversation_id = {conversations}.id), '[]')"""


def _labels_kept(conversation: Conversation, labels: list[Label]) -> None:
    """Keep the labels where prefetch_related("labels") would (as inbox.auth_backend keeps a
    user's groups): a prefetch was a second query on every thread page."""
    kept = conversation.labels.all()
    kept._result_cache, kept._prefetch_done = labels, True
    conversation._prefetched_objects_cache = {**getattr(conversation, "_prefetched_objects_cache", {}), "labels": kept}


@dataclass
class ThreadPage:
    messages: list[Message]
    older_cursor: str | None


def thread_messages(
    conversation: Conversation, *, before: str | None = None, limit: int = THREAD_PAGE_SIZE
) -> ThreadPage:
    """The newest `limit` messages before the cursor, oldest first, with reactions attached.

    Reactions are messages of their own (type "reaction", reply_to the message they react to);
    they are shown under that message, not as bubbles, when it is on the page.
    """
    qs = _with_quotes(Message.objects.filter(conversation=conversation)).order_by("-created_at", "-id")
    position = _position(before)
    if position is not None and position.at is not None:
        at, pk = position
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    rows, older = split_page(list(qs[: limit + 1]), limit, lambda message: Position(message.created_at, message.pk))
    rows.reverse()
    return ThreadPage(messages=attach_reactions(rows), older_cursor=_cursor(older))


# What a bubble shows of the message it answers (inbox.fragments._quote): nothing else of it is read.
QUOTED = ("id", "text", "type", "direction")
# What no bubble shows (inbox.fragments.message_item): Meta's raw JSON, the template's values, the
# idempotency key, the delivery timeline past sent_at, the delivery claim. Not read for a thread:
# two JSON documents, a UUID and five times per message were a tenth of a thread's CPU.
UNSHOWN = (
    "payload",
    "template_parameters",
    "template_category",
    "client_id",
    "delivered_at",
    "read_at",
    "played_at",
    "failed_at",
    "claimed_at",
)
# What a bubble shows of its sender (a name) and of a reactor (the username).
SENDER_UNSHOWN = ("password", "last_login", "email", "date_joined")


def _with_quotes(qs: QuerySet[Message]) -> QuerySet[Message]:
    """Messages with their sender and the quoted message's few shown fields, in the same query."""
    unquoted = [f"reply_to__{field.name}" for field in Message._meta.concrete_fields if field.name not in QUOTED]
    sender = [f"sender__{name}" for name in SENDER_UNSHOWN]
    return qs.select_related("sender", "reply_to").defer(*UNSHOWN, *sender, *unquoted)


def attach_reactions(rows: list[Message]) -> list[Message]:
    """Give each message `.reactions` (latest emoji per person) and drop the reactions shown there."""
    by_id = {m.pk: m for m in rows}
    shown: list[Message] = []
    for message in rows:
        message.reactions = []
    for message in rows:
        if message.type == "reaction" and message.reply_to_id in by_id:
            target = by_id[message.reply_to_id]
            who = (message.direction, message.sender_id)
            # A later reaction by the same person replaces theirs; an empty one removes it.
            target.reactions = [r for r in target.reactions if (r.direction, r.sender_id) != who]
            if message.text:
                target.reactions.append(message)
            continue
        shown.append(message)
    return shown


def message_for_thread(conversation: Conversation, pk: int) -> Message | None:
    """One message with what its row shows (reply quote, reactions), for live updates."""
    message = _with_quotes(Message.objects.filter(conversation=conversation, pk=pk)).first()
    if message is None:
        return None
    reactions = list(
        Message.objects.filter(conversation=conversation, type="reaction", reply_to=message).order_by(
            "created_at", "id"
        )
    )
    return attach_reactions([message, *reactions])[0]


@dataclass(frozen=True, slots=True)
class Teammate:
    """A teammate as the pages name one (full name, else username)."""

    pk: int
    username: str
    first_name: str
    last_name: str

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def teammates_of(conversation: Conversation) -> list[Teammate]:
    """Who may be assigned the thread, by username: read with it by conversation_for_agent, else now."""
    kept = getattr(conversation, "teammates", None)
    if kept is not None:
        return kept
    return [Teammate(u.pk, u.username, u.first_name, u.last_name) for u in teammates_for(conversation)]


def _teammates_of_the_thread() -> tuple[str, tuple]:
    """teammates_for in SQL, of the thread the outer query reads, as a JSON list ordered by
    username (tests/inbox/test_inbox_pages.py holds the two equal over every kind of user)."""
    User = get_user_model()
    users, conversations = User._meta.db_table, Conversation._meta.db_table
    groups, user_groups = Group._meta.db_table, User.groups.through._meta.db_table
    members, profiles = BusinessNumber.members.through._meta.db_table, UserProfile._meta.db_table
    sql = f"""COALESCE((
        SELECT json_agg(json_build_array(u.id, u.username, u.first_name, u.last_name) ORDER BY u.username)
          FROM {users} u
         WHERE u.is_active AND (
               u.is_superuser
            OR EXISTS (SELECT 1 FROM {members} m
                        WHERE m.user_id = u.id AND m.businessnumber_id = {conversations}.number_id)
            OR EXISTS (SELECT 1 FROM {user_groups} ug JOIN {groups} g ON g.id = ug.group_id
                        WHERE ug.user_id = u.id
                          AND (g.name = %s OR (g.name = %s AND EXISTS (
                                 SELECT 1 FROM {profiles} p WHERE p.user_id = u.id AND p.all_numbers)))))), '[]')"""
    return sql, (roles.ADMIN, roles.AGENT)


def teammates_for(conversation: Conversation) -> QuerySet:
    """People who may be assigned this thread: its number's agents, all-number agents, admins."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(business_numbers=conversation.number_id)
            | Q(profile__all_numbers=True, groups__name__in=[roles.AGENT, roles.ADMIN])
            | Q(groups__name=roles.ADMIN)
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


def window_state(conversation: Conversation, now: datetime | None = None) -> dict:
    """Whether the customer service window is open, when it ends, and how long is left."""
    now = now or timezone.now()
    expires = conversation.window_expires_at()
    is_open = conversation.window_open(now)
    left = window.time_left(conversation.last_inbound_at, now, closed_at=conversation.window_closed_at)
    minutes = int(left.total_seconds() // 60) if is_open else 0
    return {
        "open": is_open,
        "expires_at": expires,
        "hours_left": minutes // 60,
        "minutes_left": minutes % 60,
        "ending_soon": is_open and left < timedelta(hours=1),
        "never": conversation.last_inbound_at is None,
    }


def canned_answers() -> list[dict]:
    """The saved answers for the composer's "/" picker: shortcut and text."""
    return list(CannedResponse.objects.order_by("shortcut").values("shortcut", "text"))
