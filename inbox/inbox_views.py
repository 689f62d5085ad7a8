"""The agents' pages: the conversation list, a thread, and what an agent does in it.

Views are thin: they read through inbox.queries (which starts from conversations.selectors)
and write through conversations.services. Each page works without JavaScript (links and
forms with href/action); with htmx the same views answer with the partial that changed.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from conversations import services
from conversations.exceptions import ConversationError, WindowClosed
from conversations.models import Conversation, Message
from core.params import positive_int
from inbox import customer_pane, queries
from inbox.access import capability_required
from inbox.forms import ReplyForm, StatusForm
from inbox.middleware import reads_planned_once
from inbox.presenters import row_context, thread_context
from inbox.templatetags.inbox_tags import is_image

# --- helpers -------------------------------------------------------------------------------------


def _list_context(request: HttpRequest, *, current: Conversation | None = None) -> dict:
    # The role is read from the groups several times per page (scoping, navigation): load them once.
    prefetch_related_objects([request.user], "groups")
    filters = queries.ListFilters.from_query(request.GET)
    page = queries.conversation_list(request.user, filters, cursor=request.GET.get("cursor"))
    numbers = queries.numbers_of(request.user)
    list_qs = urlencode(filters.as_query())
    return {
        "filters": filters,
        "list_page": page,
        "numbers": numbers,
        "list_qs": list_qs,
        "list_url": reverse("inbox:index") + (f"?{list_qs}" if list_qs else ""),
        "older_url": (
            reverse("inbox:index") + "?" + urlencode({**filters.as_query(), "cursor": page.next_cursor})
            if page.next_cursor
            else ""
        ),
        "status_choices": [("all", _("All")), *Conversation.Status.choices],
        "current_id": current.pk if current else None,
        "canned_answers": queries.canned_answers(),
    }


def _navigated_here_by_the_agent(request: HttpRequest) -> bool:
    """Not a link on another site: a GET that marks read must not be triggerable cross-site.

    Browsers say where a request came from in Sec-Fetch-Site ("none" for a typed URL or a
    bookmark); an old browser that sends nothing is trusted, as before.
    """
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def _reply_to(conversation: Conversation, value) -> Message | None:
    pk = positive_int(value)
    if pk is None:
        return None
    return Message.objects.filter(conversation=conversation, pk=pk).exclude(status="note").first()


def _thread_url(conversation: Conversation, request: HttpRequest | None = None) -> str:
    url = reverse("inbox:thread", args=[conversation.pk])
    # Keep the list's filters when going back to the page without JavaScript.
    query = urlencode(queries.ListFilters.from_query(request.GET).as_query()) if request else ""
    return f"{url}?{query}" if query else url


def _window_closed_text(expired_at: datetime | None) -> str:
    if expired_at is None:
        return _("The customer has not written to this number yet. Only approved templates can be sent.")
    return _("The customer's 24-hour window closed at %(time)s; only approved templates can be sent now.") % {
        "time": date_format(timezone.localtime(expired_at), "DATETIME_FORMAT")
    }


def _header_response(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """After an action in the header: for htmx the new header, and out of band the customer
    pane's labels and history, which the action changed; the thread page otherwise."""
    if not request.htmx:
        return redirect(_thread_url(conversation, request))
    conversation = queries.conversation_for_agent(request.user, conversation.pk)
    context = thread_context(request.user, conversation)
    pane = {**context, **customer_pane.contact_details(request.user, conversation), "part_oob": True}
    html = render_to_string("inbox/thread.html#header", context, request=request)
    html += render_to_string("inbox/contact.html#labels", pane, request=request)
    html += render_to_string("inbox/contact.html#history", pane, request=request)
    return HttpResponse(html)


# --- pages ---------------------------------------------------------------------------------------


@reads_planned_once
@require_GET
@capability_required("work_inbox")
def index(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    if request.htmx and request.htmx.target == "list-older":
        return render(request, "inbox/list.html#rows", context)
    if request.htmx and request.htmx.target == "conversation-list":
        return render(request, "inbox/list.html#list", context)
    return render(request, "inbox/index.html", context)


@reads_planned_once
@require_GET
@capability_required("work_inbox")
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    target = request.htmx.target if request.htmx else None
    if target == f"thread-{pk}-header":
        return render(request, "inbox/thread.html#header", thread_context(request.user, conversation))
    reply_to = _reply_to(conversation, request.GET.get("reply_to"))
    if target == f"thread-{pk}-composer":
        # Reply / cancel reply: the composer again, keeping what was typed (sent along by hx-include).
        context = thread_context(request.user, conversation, reply_to=reply_to, text=request.GET.get("text", ""))
        return render(request, "inbox/thread.html#composer", context)
    page = queries.thread_messages(conversation)
    if conversation.unread_count and _navigated_here_by_the_agent(request):
        # Opening a thread reads it: clears the badge and sends Meta's read receipt (blue ticks).
        services.conversation_mark_read(conversation=conversation, user=request.user)
        conversation.unread_count = 0
    context = thread_context(request.user, conversation, page=page, reply_to=reply_to)
    if target == f"thread-{pk}-messages":
        return render(request, "inbox/thread.html#message-list", context)
    context.update(customer_pane.contact_details(request.user, conversation))
    if target == "thread-pane":
        context["list_qs"] = urlencode(queries.ListFilters.from_query(request.GET).as_query())
        # The customer pane follows the thread (an out-of-band swap of #contact-pane).
        html = render_to_string("inbox/thread.html#thread", context, request=request)
        html += render_to_string("inbox/contact.html#pane", {**context, "oob": True}, request=request)
        return HttpResponse(html)
    context.update(_list_context(request, current=conversation))
    return render(request, "inbox/index.html", context)


@reads_planned_once
@require_GET
@capability_required("work_inbox")
def older_messages(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    page = queries.thread_messages(conversation, before=request.GET.get("before"))
    context = thread_context(request.user, conversation, page=page)
    if request.htmx:
        return render(request, "inbox/thread.html#messages", context)
    # Without JavaScript: the thread page showing this older slice.
    context.update(_list_context(request, current=conversation))
    return render(request, "inbox/index.html", context)


@require_GET
@capability_required("work_inbox")
def media(request: HttpRequest, pk: int, message_pk: int) -> FileResponse:
    """A message's file, only for agents who may see the thread (customer media is private)."""
    conversation = queries.conversation_for_agent(request.user, pk)
    message = Message.objects.filter(conversation=conversation, pk=message_pk).first()
    if message is None or not message.media_file:
        raise Http404("no media")
    as_attachment = "download" in request.GET or not is_image(message)
    response = FileResponse(
        message.media_file.open("rb"),
        as_attachment=as_attachment,
        filename=message.media_filename or message.media_file.name.rsplit("/", 1)[-1],
        content_type=message.media_mime_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- actions -------------------------------------------------------------------------------------


@require_POST
@capability_required("work_inbox")
def send(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    form = ReplyForm(request.POST, request.FILES)
    reply_to = _reply_to(conversation, request.POST.get("reply_to"))
    message = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = _send(request, conversation, data, reply_to)
        except WindowClosed as exc:
            form.add_error("text", _window_closed_text(exc.expired_at))
        except ConversationError as exc:
            form.add_error(None, exc.message)
    if message is None:
        # Refused or invalid: the form again, with what was typed and the reason next to it.
        conversation = queries.conversation_for_agent(request.user, pk)
        context = thread_context(request.user, conversation, form=form, reply_to=reply_to)
        if request.htmx:
            return render(request, "inbox/thread.html#composer", context)
        context["page"] = queries.thread_messages(conversation)
        context.update(_list_context(request, current=conversation))
        return render(request, "inbox/index.html", context)
    if not request.htmx:
        return redirect(f"{_thread_url(conversation, request)}#msg-{message.pk}")
    # htmx: a fresh composer, and the new message appended to the thread right away (the live
    # update for the same message is deduplicated by its id in static/js/inbox.js).
    conversation = queries.conversation_for_agent(request.user, pk)
    context = thread_context(request.user, conversation)
    shown = queries.message_for_thread(conversation, message.pk)
    html = render_to_string("inbox/thread.html#composer", context, request=request)
    if shown is not None:
        html += render_to_string("inbox/thread.html#message-oob-append", {**context, "message": shown}, request=request)
    return HttpResponse(html)


def _send(request: HttpRequest, conversation: Conversation, data: dict, reply_to: Message | None) -> Message:
    text = data.get("text") or ""
    if data.get("note"):
        return services.note_add(conversation=conversation, author=request.user, text=text.strip())
    client_id = data.get("client_id")
    upload = data.get("attachment")
    if upload:
        return services.message_send_media(
            conversation=conversation,
            sender=request.user,
            content=upload.read(),
            mime_type=upload.content_type or "application/octet-stream",
            filename=upload.name,
            caption=text.strip(),
            client_id=client_id,
        )
    return services.message_send_text(
        conversation=conversation,
        sender=request.user,
        text=text.strip(),  # the service expands a leading /shortcut
        reply_to=reply_to,
        client_id=client_id,
    )


@require_POST
@capability_required("work_inbox")
def react(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    target = Message.objects.filter(conversation=conversation, pk=message_pk).exclude(status="note").first()
    if target is None:
        raise Http404("no such message")
    emoji = request.POST.get("emoji", "")[:16]
    error = ""
    try:
        services.message_react(conversation=conversation, sender=request.user, message=target, emoji=emoji)
    except WindowClosed as exc:
        error = _window_closed_text(exc.expired_at)
    except ConversationError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            from django.contrib import messages as flash

            flash.error(request, error)
        return redirect(f"{_thread_url(conversation, request)}#msg-{target.pk}")
    shown = queries.message_for_thread(conversation, target.pk)
    context = thread_context(request.user, conversation)
    return render(request, "inbox/thread.html#message", {**context, "message": shown, "action_error": error})


@require_POST
@capability_required("work_inbox")
def media_retry(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """Fetch a customer's file from Meta again after a failed download."""
    from conversations.media import media_retry as retry

    conversation = queries.conversation_for_agent(request.user, pk)
    message = Message.objects.filter(conversation=conversation, pk=message_pk).exclude(media_id="").first()
    if message is None:
        raise Http404("no media to retry")
    retry(message=message)
    if not request.htmx:
        return redirect(f"{_thread_url(conversation, request)}#msg-{message.pk}")
    shown = queries.message_for_thread(conversation, message.pk)
    context = {**thread_context(request.user, conversation), "message": shown}
    return render(request, "inbox/thread.html#message", context)


@require_POST
@capability_required("work_inbox")
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    if conversation.unread_count:
        services.conversation_mark_read(conversation=conversation, user=request.user)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(_thread_url(conversation, request))


@require_POST
@capability_required("work_inbox")
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    value = request.POST.get("assignee", "")
    assignee = None
    if value == "me":
        assignee = request.user
    elif (teammate_pk := positive_int(value)) is not None:
        assignee = next((u for u in queries.teammates_for(conversation) if u.pk == teammate_pk), None)
        if assignee is None:
            raise Http404("no such teammate")
    try:
        services.conversation_assign(conversation=conversation, assignee=assignee, by=request.user)
    except ConversationError as exc:
        return _action_refused(request, conversation, exc.message)
    return _header_response(request, conversation)


@require_POST
@capability_required("work_inbox")
def set_status(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _action_refused(request, conversation, " ".join(" ".join(e) for e in form.errors.values()))
    status = form.cleaned_data["status"]
    now = timezone.now()
    until = form.snooze_time(now) if status == Conversation.Status.SNOOZED else None
    try:
        services.conversation_status_set(
            conversation=conversation, status=status, by=request.user, snooze_until=until, now=now
        )
    except ConversationError as exc:
        return _action_refused(request, conversation, exc.message)
    return _header_response(request, conversation)


@require_POST
@capability_required("work_inbox")
def label_add(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    name = " ".join(request.POST.get("name", "").split())[:50]
    if not name:
        return _action_refused(request, conversation, _("Type a label name."))
    try:
        services.conversation_label_add(conversation=conversation, name=name, by=request.user)
    except ConversationError as exc:
        return _action_refused(request, conversation, exc.message)
    return _header_response(request, conversation)


@require_POST
@capability_required("work_inbox")
def label_remove(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    try:
        services.conversation_label_remove(
            conversation=conversation, name=request.POST.get("name", ""), by=request.user
        )
    except ConversationError as exc:
        return _action_refused(request, conversation, exc.message)
    return _header_response(request, conversation)


def _action_refused(request: HttpRequest, conversation: Conversation, reason: str) -> HttpResponse:
    """A header action the service refused: the header again with the reason in it."""
    if request.htmx:
        context = thread_context(request.user, conversation)
        context["action_error"] = reason
        return render(request, "inbox/thread.html#header", context)
    from django.contrib import messages as flash

    flash.error(request, reason)
    return redirect(_thread_url(conversation, request))


@require_POST
@capability_required("work_inbox")
def retry(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """Send a failed message again, as a new message; never one the customer may already have."""
    conversation = queries.conversation_for_agent(request.user, pk)
    failed = Message.objects.filter(conversation=conversation, pk=message_pk).first()
    if failed is None:
        raise Http404("no such message")
    error = ""
    sent = None
    try:  # refused with the reason when the customer may already have it
        sent = services.message_retry(message=failed, by=request.user)
    except WindowClosed as exc:
        error = _window_closed_text(exc.expired_at)
    except ConversationError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            from django.contrib import messages as flash

            flash.error(request, error)
        return redirect(f"{_thread_url(conversation, request)}#msg-{(sent or failed).pk}")
    context = thread_context(request.user, conversation)
    shown = queries.message_for_thread(conversation, failed.pk)
    html = render_to_string(
        "inbox/thread.html#message", {**context, "message": shown, "retry_error": error}, request=request
    )
    if sent is not None:
        new = queries.message_for_thread(conversation, sent.pk)
        html += render_to_string("inbox/thread.html#message-oob-append", {**context, "message": new}, request=request)
    return HttpResponse(html)


# --- the customer pane ---------------------------------------------------------------------------


def _contact_context(request: HttpRequest, conversation: Conversation) -> dict:
    return {
        **thread_context(request.user, conversation),
        **customer_pane.contact_details(request.user, conversation),
    }


@require_GET
@capability_required("work_inbox")
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer pane: a partial for htmx, a page of its own on phones and without JavaScript."""
    conversation = queries.conversation_for_agent(request.user, pk)
    context = _contact_context(request, conversation)
    if request.htmx and request.htmx.target == "contact-pane":
        return render(request, "inbox/contact.html#pane", context)
    return render(request, "inbox/contact_page.html", context)


@require_POST
@capability_required("work_inbox")
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    from inbox.services import contact_note_add

    conversation = queries.conversation_for_agent(request.user, pk)
    # An empty note adds nothing; the pane stays as it was.
    with contextlib.suppress(ConversationError):
        contact_note_add(contact=conversation.contact, author=request.user, text=request.POST.get("text", ""))
    if request.htmx:
        return render(request, "inbox/contact.html#pane", _contact_context(request, conversation))
    return redirect("inbox:contact", pk=conversation.pk)


@require_POST
@capability_required("work_inbox")
def contact_name(request: HttpRequest, pk: int) -> HttpResponse:
    """Set (or clear) the agent's name for the customer, from the pane's inline form."""
    from inbox.services import contact_name_set

    conversation = queries.conversation_for_agent(request.user, pk)
    typed = request.POST.get("name", "")
    error = ""
    try:
        contact_name_set(contact=conversation.contact, name=typed, by=request.user, now=timezone.now())
    except ConversationError as exc:
        error = exc.message
    if error:
        # The form again, open, with what was typed and the reason beside the field.
        context = {**_contact_context(request, conversation), "name_error": error, "name_typed": typed}
        if request.htmx:
            return render(request, "inbox/contact.html#pane", context)
        return render(request, "inbox/contact_page.html", context)
    if not request.htmx:
        return redirect("inbox:contact", pk=conversation.pk)
    # The pane, and the thread's header and list row with the new name (the websocket tells the
    # other agents; this page should not wait for it). The form's inbox-live extension drops the
    # fragments whose target is not on the page (the pane's own page has no header or list).
    conversation = queries.conversation_for_agent(request.user, pk)
    context = _contact_context(request, conversation)
    html = render_to_string("inbox/contact.html#pane", context, request=request)
    html += render_to_string("inbox/thread.html#header", {**context, "oob": "true"}, request=request)
    row = queries.conversation_row(request.user, conversation.pk)
    if row is not None:
        inner = render_to_string("inbox/list.html#row", row_context(request.user, row), request=request)
        html += f'<div hx-swap-oob="afterbegin:#conversation-rows">{inner}</div>'
    return HttpResponse(html)


# --- starting a conversation ---------------------------------------------------------------------


@capability_required("work_inbox")
def start(request: HttpRequest) -> HttpResponse:
    """Write first to a customer: the thread is found or created, and opens on the template picker
    (the window is closed until the customer writes, so only a template can go out)."""
    from django.db import transaction

    from inbox.forms import StartConversationForm

    numbers = queries.numbers_of(request.user)
    form = StartConversationForm(request.POST or None, numbers=numbers)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            contact = services.contact_for_identity(wa_id=form.cleaned_data["phone"], user_id=None)
            conversation = services.conversation_get_or_create(number=form.cleaned_data["number"], contact=contact)
        return redirect("inbox:thread", pk=conversation.pk)
    found = []
    query = request.GET.get("q", "").strip()[:100]
    if query:
        filters = queries.ListFilters(status="all", q=query)
        found = queries.conversation_list(request.user, filters, limit=10).conversations
    return render(request, "inbox/start.html", {"form": form, "found": found, "q": query})


@require_POST
@capability_required("work_inbox")
def notify_settings(request: HttpRequest) -> HttpResponse:
    """The settings page's "new messages" choices (the browser's permission is asked there too)."""
    from django.contrib import messages as flash

    from inbox.services import notify_preferences_set

    notify_preferences_set(
        user=request.user, sound=request.POST.get("sound") == "on", desktop=request.POST.get("desktop") == "on"
    )
    flash.success(request, _("Saved how new messages are announced."))
    return redirect("user-settings")
