"""The agents' pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from conversations.selectors import conversations_for_user
from inbox.access import capability_required


@require_GET
@capability_required("work_inbox")
def index(request: HttpRequest) -> HttpResponse:
    conversations = conversations_for_user(request.user)[:50]
    return render(request, "inbox/index.html", {"conversations": conversations})
