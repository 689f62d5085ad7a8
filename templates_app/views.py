from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from inbox.access import capability_required


@require_GET
@capability_required("manage_templates")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "templates_app/index.html")
