"""The template pages: list, editor with live preview, review queue, a template's page.

Admins (manage_templates) only, as DESIGN.md's page list says; finance and agents read templates
through the API (and agents pick them in the inbox).
Views stay thin: the editor's form becomes Meta's JSON (editor.py), services write, selectors read.
"""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.params import positive_int
from core.roles import perm
from inbox.access import capability_required
from templates_app import selectors, services
from templates_app.editor import BUTTON_TYPES, HEADER_FORMATS, Editor, problems_by_field
from templates_app.exceptions import NotAllowed, TemplateValidationError, WrongState
from templates_app.models import Category, ParameterFormat, Template, TemplateVersion
from templates_app.rendering import render as render_template
from templates_app.validation import template_warnings, validate_template

PAGE_SIZE = 50
LANGUAGE_SUGGESTIONS = ["de", "de_DE", "en", "en_US", "en_GB", "fr", "es", "it", "nl", "pl", "pt_BR", "tr"]


def _wabas() -> list[str]:
    from conversations.models import BusinessNumber

    return sorted(set(BusinessNumber.objects.values_list("waba_id", flat=True)))


def _waba_for(request: HttpRequest) -> tuple[str, list[dict]]:
    """The business account a new template is for: the one there is, or the one chosen."""
    wabas = _wabas()
    chosen = request.POST.get("waba_id", "")
    if chosen in wabas:
        return chosen, []
    if len(wabas) == 1:
        return wabas[0], []
    if not wabas:
        return "", [{"field": "form", "message": _("Add a business number first: templates belong to its account.")}]
    return "", [{"field": "form", "message": _("Business account: choose which account the template is for.")}]


# --- list ----------------------------------------------------------------------------------------


@require_GET
@capability_required("manage_templates")
def index(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "") for key in ("status", "category", "language")}
    if filters["status"] not in selectors.STATUS_FILTERS:
        filters["status"] = ""
    if filters["category"] not in Category.values:
        filters["category"] = ""
    qs = selectors.templates_list(**filters)
    after = positive_int(request.GET.get("after"))
    if after:
        last = Template.objects.filter(pk=after).values("name", "language").first()
        if last:
            # Keyset on (name, language, id): stable while templates are added.
            qs = qs.filter(
                Q(name__gt=last["name"])
                | Q(name=last["name"], language__gt=last["language"])
                | Q(name=last["name"], language=last["language"], pk__gt=after)
            )
    page = list(qs[: PAGE_SIZE + 1])
    rows = [(t, selectors.template_status(t)) for t in page[:PAGE_SIZE]]
    context = {
        "rows": [(t, status, selectors.status_label(status)) for t, status in rows],
        "next_after": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "filters": filters,
        "status_choices": [(s, selectors.status_label(s)) for s in selectors.STATUS_FILTERS],
        "categories": Category.choices,
        "languages": selectors.languages_in_use(),
        "can_manage": request.user.has_perm(perm("manage_templates")),
        "review_count": TemplateVersion.objects.filter(state=TemplateVersion.State.IN_REVIEW).count(),
    }
    return render(request, "templates_app/index.html", context)


# --- editor --------------------------------------------------------------------------------------


def _editor_context(editor: Editor, *, template=None, problems=None, warnings=None) -> dict:
    data = editor.to_meta()
    by_field = problems_by_field(problems or [])
    return {
        "editor": editor,
        "template": template,
        "problems": by_field,
        "button_rows": [(row, by_field.get(f"button_{i}", [])) for i, row in enumerate(editor.buttons)],
        "problem_count": len(problems or []),
        "warnings": warnings or [],
        "rendered": render_template(
            components=data["components"],
            parameter_format=editor.parameter_format,
            parameters=None,
            use_examples=True,
            category=editor.category,
        ),
        "categories": Category.choices,
        "parameter_formats": ParameterFormat.choices,
        "header_formats": HEADER_FORMATS,
        "button_types": BUTTON_TYPES,
        "language_suggestions": LANGUAGE_SUGGESTIONS,
        "format_fixed": bool(template and template.meta_template_id),
        "wabas": [] if template else _wabas(),
    }


@require_http_methods(["GET", "POST"])
@capability_required("manage_templates")
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        editor = Editor(buttons=[])
        return render(request, "templates_app/editor.html", _editor_context(editor))
    editor = Editor.from_post(request.POST)
    action = request.POST.get("action", "save")
    if editor.act(action):
        return render(request, "templates_app/editor.html", _editor_context(editor))
    data = editor.to_meta()
    waba_id, waba_problems = _waba_for(request)
    if waba_problems:
        context = _editor_context(editor, problems=waba_problems + validate_template(data))
        context["chosen_waba"] = request.POST.get("waba_id", "")
        return render(request, "templates_app/editor.html", context, status=422)
    try:
        template = services.template_create(
            author=request.user,
            waba_id=waba_id,
            data=data,
            now=timezone.now(),
            submit=action == "submit",
        )
    except TemplateValidationError as exc:
        context = _editor_context(editor, problems=exc.problems, warnings=template_warnings(data))
        return render(request, "templates_app/editor.html", context, status=422)
    messages.success(request, _submitted_message(action))
    return redirect("templates_app:detail", pk=template.pk)


def _submitted_message(action: str) -> str:
    if action == "submit":
        return _("Saved and sent for review: a second admin approves it before it goes to Meta.")
    return _("Saved as a draft.")


@require_http_methods(["GET", "POST"])
@capability_required("manage_templates")
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.template_get(pk)
    if request.method == "GET":
        version = template.current_version
        editor = Editor.from_template(
            template, version.components if version else [], category=version and version.category
        )
        return render(request, "templates_app/editor.html", _editor_context(editor, template=template))
    editor = Editor.from_post(request.POST)
    editor.name, editor.language = template.name, template.language
    if template.meta_template_id:
        editor.parameter_format = template.parameter_format
    action = request.POST.get("action", "save")
    if editor.act(action):
        return render(request, "templates_app/editor.html", _editor_context(editor, template=template))
    data = editor.to_meta()
    try:
        services.template_update(template=template, by=request.user, data=data, now=timezone.now())
        if action == "submit":
            services.template_submit_for_review(template=template, by=request.user, now=timezone.now())
    except TemplateValidationError as exc:
        context = _editor_context(editor, template=template, problems=exc.problems, warnings=template_warnings(data))
        return render(request, "templates_app/editor.html", context, status=422)
    messages.success(request, _submitted_message(action))
    return redirect("templates_app:detail", pk=template.pk)


@require_POST
@capability_required("manage_templates")
def preview(request: HttpRequest) -> HttpResponse:
    """The live preview and the problems so far, while the admin types (htmx)."""
    editor = Editor.from_post(request.POST)
    template_id = positive_int(request.POST.get("template_id"))
    if template_id:
        template = get_object_or_404(Template, pk=template_id)
        editor.name, editor.language = template.name, template.language
    data = editor.to_meta()
    context = _editor_context(editor, problems=validate_template(data), warnings=template_warnings(data))
    return render(request, "templates_app/editor.html#preview", context)


@require_POST
@capability_required("manage_templates")
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.template_get(pk)
    try:
        services.template_submit_for_review(template=template, by=request.user, now=timezone.now())
        messages.success(request, _("Sent for review: a second admin approves it before it goes to Meta."))
    except (WrongState, NotAllowed) as exc:
        messages.error(request, exc.message)
    return redirect("templates_app:detail", pk=pk)


# --- a template's page --------------------------------------------------------------------------


@require_GET
@capability_required("manage_templates")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.template_get(pk)
    status = selectors.template_status(template)
    version = template.current_version
    context = {
        "template": template,
        "status": status,
        "status_label": selectors.status_label(status),
        "versions": selectors.template_versions(template),
        "history": selectors.template_history(template),
        "rendered": selectors.template_preview(template=template, parameters=None),
        "current": version,
        "current_rendered": render_template(
            components=version.components,
            parameter_format=template.parameter_format,
            parameters=None,
            use_examples=True,
            category=template.category,
        )
        if version
        else None,
        "warnings": template_warnings({"components": version.components}) if version else [],
        "can_manage": request.user.has_perm(perm("manage_templates")),
    }
    return render(request, "templates_app/detail.html", context)


# --- the review queue ---------------------------------------------------------------------------


def _readable(components: list[dict]) -> list[str]:
    """A version as lines a reviewer can compare."""
    lines = []
    for part in components or []:
        kind = str(part.get("type", "")).upper()
        if kind == "BUTTONS":
            for button in part.get("buttons") or []:
                detail = button.get("url") or button.get("phone_number") or ""
                lines.append(f"BUTTON {button.get('type', '')}: {button.get('text', '')} {detail}".rstrip())
        elif kind == "HEADER" and str(part.get("format", "TEXT")).upper() != "TEXT":
            lines.append(f"HEADER: [{part.get('format')}]")
        else:
            for line in str(part.get("text") or "").splitlines() or [""]:
                lines.append(f"{kind}: {line}")
        example = part.get("example")
        if example:
            lines.append(f"{kind} EXAMPLE: {example}")
    return lines


def _diff(previous: TemplateVersion | None, version: TemplateVersion) -> list[tuple[str, str]]:
    if previous is None:
        return []
    old = [f"CATEGORY: {previous.category}", *_readable(previous.components)]
    new = [f"CATEGORY: {version.category}", *_readable(version.components)]
    out = []
    for line in difflib.ndiff(old, new):
        if line.startswith("? "):
            continue
        kind = {"+ ": "added", "- ": "removed"}.get(line[:2], "same")
        out.append((kind, line[2:]))
    return out


@require_GET
@capability_required("manage_templates")
def review(request: HttpRequest) -> HttpResponse:
    items = []
    for version in selectors.review_queue():
        template = version.template
        items.append(
            {
                "version": version,
                "template": template,
                "rendered": render_template(
                    components=version.components,
                    parameter_format=template.parameter_format,
                    parameters=None,
                    use_examples=True,
                    category=version.category,
                ),
                "diff": _diff(version.previous, version),
                "own": version.author_id == request.user.pk,
            }
        )
    return render(request, "templates_app/review.html", {"items": items})


@require_POST
@capability_required("manage_templates")
def approve(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(TemplateVersion, pk=version_id)
    try:
        services.template_approve(version=version, reviewer=request.user, now=timezone.now())
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except WrongState as exc:
        messages.error(request, exc.message)
        return redirect("templates_app:review")
    messages.success(request, _("Approved: %(name)s goes to Meta for review now.") % {"name": version.template.name})
    return redirect("templates_app:review")


@require_POST
@capability_required("manage_templates")
def reject(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(TemplateVersion, pk=version_id)
    try:
        services.template_reject(
            version=version, reviewer=request.user, reason=request.POST.get("reason", ""), now=timezone.now()
        )
    except TemplateValidationError as exc:
        messages.error(request, exc.problems[0]["message"])
        return redirect("templates_app:review")
    except WrongState as exc:
        messages.error(request, exc.message)
        return redirect("templates_app:review")
    messages.success(request, _("Sent back to its author with your reason."))
    return redirect("templates_app:review")
