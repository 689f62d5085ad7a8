"""Saved answers (canned responses) managed in the app: agents insert them with "/" in a reply."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations import services as conversations
from conversations.exceptions import ConversationError
from inbox import queries
from inbox.access import capability_required
from inbox.services import canned_answer_delete


@capability_required("manage_templates")
def index(request: HttpRequest) -> HttpResponse:
    """The list, and the form to add one or change one (the same shortcut replaces its text)."""
    error = ""
    shortcut = request.POST.get("shortcut", "") if request.method == "POST" else request.GET.get("edit", "")
    text = request.POST.get("text", "")
    if request.method == "POST":
        try:
            saved = conversations.canned_response_save(shortcut=shortcut, text=text)
        except ConversationError as exc:
            error = exc.message
        else:
            flash.success(request, _("Saved /%(shortcut)s.") % {"shortcut": saved.shortcut})
            return redirect("inbox:answers")
    answers = queries.canned_answers()
    if not text and shortcut:
        text = next((a["text"] for a in answers if a["shortcut"] == shortcut), "")
    context = {"answers": answers, "shortcut": shortcut, "text": text, "error": error}
    return render(request, "inbox/answers.html", context, status=400 if error else 200)


@require_POST
@capability_required("manage_templates")
def delete(request: HttpRequest) -> HttpResponse:
    shortcut = request.POST.get("shortcut", "")
    if canned_answer_delete(shortcut=shortcut):
        flash.success(request, _("Deleted /%(shortcut)s.") % {"shortcut": shortcut})
    return redirect("inbox:answers")
