"""The agent's template picker: choose an approved template, fill its fields, see what the
customer will see and what it costs, send it. Outside the window it replaces the composer;
inside it, a button next to the composer opens it."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from conversations import services
from conversations.exceptions import ConversationError, InvalidTemplateParameters
from conversations.models import Contact, Conversation
from inbox import queries
from inbox.access import capability_required
from inbox.presenters import thread_context
from inbox.template_form import examples_for, parameter_slots, parameters_from

# The language a customer most likely reads, from their number's country: their templates first.
MARKET_LANGUAGES = {
    "DE": "de", "AT": "de", "CH": "de", "LI": "de",
    "GB": "en", "IE": "en", "US": "en", "CA": "en", "AU": "en", "NZ": "en", "IN": "en",
    "ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es",
    "FR": "fr", "BE": "fr", "IT": "it", "NL": "nl", "PT": "pt", "BR": "pt", "PL": "pl", "TR": "tr",
}  # fmt: skip


def contact_language(contact: Contact) -> str:
    return MARKET_LANGUAGES.get(contact.market, "")


def _quote(conversation: Conversation, template) -> object | None:
    from billing.selectors import quote

    return quote(
        number=conversation.number,
        contact=conversation.contact,
        kind="template",
        template_category=template.category,
        conversation=conversation,
        at=timezone.now(),
    )


def picker_context(user, conversation: Conversation, *, template_id=None, data=None, problems=None) -> dict:
    """What template_picker.html needs: the usable templates, and the chosen one's form."""
    from templates_app.selectors import template_preview, templates_usable

    contact = conversation.contact
    templates = templates_usable(
        waba_id=conversation.number.waba_id,
        language_first=contact_language(contact),
        include_marketing=not contact.marketing_opted_out,
    )
    chosen = next((t for t in templates if str(t.pk) == str(template_id)), None) if template_id else None
    context = {
        "conversation": conversation,
        "contact": contact,
        "templates": templates,
        "chosen": chosen,
        "problems": problems or [],
        "win": queries.window_state(conversation),
        "opted_out": contact.marketing_opted_out,
        # A retried submit (double click, network retry) with this id never sends twice.
        "client_id": (data or {}).get("client_id") or uuid.uuid4(),
    }
    if chosen is not None:
        version = chosen.sending_version
        slots = parameter_slots(components=version.components, parameter_format=chosen.parameter_format)
        values = {slot.field: (data.get(slot.field, "") if data is not None else "") for slot in slots}
        typed = parameters_from(slots, values, parameter_format=chosen.parameter_format)
        context.update(
            slots=[(slot, values[slot.field]) for slot in slots],
            preview=template_preview(template=chosen, parameters=typed),
            examples=examples_for(slots, parameter_format=chosen.parameter_format),
            quote=_quote(conversation, chosen),
        )
    return context


@require_GET
@capability_required("work_inbox")
def picker(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    context = picker_context(request.user, conversation, template_id=request.GET.get("template"))
    # htmx swaps the picker into the thread; a plain visit (no JavaScript, a new tab) gets a page.
    template = "inbox/template_picker.html#picker" if request.htmx else "inbox/template_picker_page.html"
    return render(request, template, context)


@require_POST
@capability_required("work_inbox")
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The live preview while the agent types (htmx, on input)."""
    conversation = queries.conversation_for_agent(request.user, pk)
    context = picker_context(request.user, conversation, template_id=request.POST.get("template"), data=request.POST)
    return render(request, "inbox/template_picker.html#preview", context)


@require_POST
@capability_required("work_inbox")
def send(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = queries.conversation_for_agent(request.user, pk)
    template_id = request.POST.get("template")
    context = picker_context(request.user, conversation, template_id=template_id, data=request.POST)
    chosen = context["chosen"]
    problems: list[dict] = []
    message = None
    if chosen is None:
        problems = [{"field": "template", "message": _("Choose one of the approved templates.")}]
    else:
        slots = [slot for slot, _value in context["slots"]]
        try:
            message = services.message_send_template(
                conversation=conversation,
                sender=request.user,
                template=chosen.name,
                language=chosen.language,
                parameters=parameters_from(slots, request.POST, parameter_format=chosen.parameter_format),
                client_id=request.POST.get("client_id"),
            )
        except InvalidTemplateParameters as exc:
            problems = exc.problems
        except ConversationError as exc:
            problems = [{"field": "", "message": exc.message}]
    if message is None:
        context["problems"] = problems
        if request.htmx:
            return render(request, "inbox/template_picker.html#picker", context)
        return render(request, "inbox/template_picker_page.html", context, status=422)
    if not request.htmx:
        return redirect(f"{reverse('inbox:thread', args=[conversation.pk])}#msg-{message.pk}")
    # Sent: a fresh composer (the window decides which), and the message appended to the thread.
    conversation = queries.conversation_for_agent(request.user, pk)
    thread = thread_context(request.user, conversation)
    html = render_to_string("inbox/thread.html#composer", thread, request=request)
    shown = queries.message_for_thread(conversation, message.pk)
    if shown is not None:
        html += render_to_string("inbox/thread.html#message-oob-append", {**thread, "message": shown}, request=request)
    return HttpResponse(html)
