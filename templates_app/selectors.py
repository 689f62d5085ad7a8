"""Reads: what may be sent, what a template renders to, and the lists behind the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from templates_app.exceptions import InvalidParameters, TemplateNotApproved
from templates_app.models import Category, MetaStatus, Template, TemplateEvent, TemplateVersion
from templates_app.rendering import Rendered, render
from whatsapp.schemas import normalise_language

State = TemplateVersion.State


@dataclass(frozen=True)
class PreparedTemplate:
    template_id: int
    version_id: int
    name: str
    language: str
    category: str  # MARKETING | UTILITY | AUTHENTICATION (Meta's, now)
    send_components: list[dict]
    text: str
    parameters: dict


def _sendable(qs: QuerySet[Template]) -> QuerySet[Template]:
    """Approved by a second admin and by Meta, and not paused, disabled or otherwise held."""
    meta_allows = Q(meta_status=MetaStatus.APPROVED) | Q(meta_status=MetaStatus.PENDING, sending_while_pending=True)
    return qs.filter(meta_allows, sending_version__state=State.APPROVED)


def template_prepare_send(*, waba_id: str, name: str, language: str, parameters: dict | None) -> PreparedTemplate:
    """Everything the sending path stores and sends; raises TemplateNotApproved or InvalidParameters."""
    language = normalise_language(language or "")
    template = (
        Template.objects.select_related("sending_version").filter(waba_id=waba_id, name=name, language=language).first()
    )
    if template is None:
        raise TemplateNotApproved(
            _("There is no template %(name)s in %(language)s.") % {"name": name, "language": language}
        )
    version = template.sending_version
    if version is None or version.state != State.APPROVED:
        raise TemplateNotApproved(
            _("The template %(name)s (%(language)s) is not approved yet by a second admin and by Meta.")
            % {"name": name, "language": language}
        )
    if not meta_allows_sending(template):
        raise TemplateNotApproved(
            _("The template %(name)s (%(language)s) cannot be sent: its status at Meta is %(status)s.")
            % {"name": name, "language": language, "status": template.get_meta_status_display()}
        )
    rendered = render(
        components=version.components,
        parameter_format=template.parameter_format,
        parameters=parameters,
        category=template.category,
    )
    if rendered.problems:
        raise InvalidParameters(rendered.problems)
    return PreparedTemplate(
        template_id=template.pk,
        version_id=version.pk,
        name=template.name,
        language=template.language,
        category=template.category,
        send_components=rendered.send_components,
        text=rendered.text,
        parameters=rendered.parameters,
    )


def meta_allows_sending(template: Template) -> bool:
    """Meta's status lets us send the sending version: approved, or an edit of it in review."""
    return template.meta_status == MetaStatus.APPROVED or (
        template.meta_status == MetaStatus.PENDING and template.sending_while_pending
    )


def templates_usable(*, waba_id: str, language_first: str = "", include_marketing: bool = True) -> list[Template]:
    """The templates an agent may pick now, those in `language_first` ("de" matches de and de_DE) first."""
    qs = _sendable(Template.objects.filter(waba_id=waba_id)).select_related("sending_version")
    if not include_marketing:
        qs = qs.exclude(category=Category.MARKETING)
    templates = list(qs.order_by("name", "language"))
    base = normalise_language(language_first or "").split("_")[0]
    if base:
        # The customer's language first, by a stable sort of the few templates a number has:
        # ranked in SQL (CASE WHEN), the query cost the thread pane more to build than to run.
        templates.sort(key=lambda template: template.language != base and not template.language.startswith(f"{base}_"))
    return templates


def template_usable(*, waba_id: str, pk: int) -> Template | None:
    return _sendable(Template.objects.filter(waba_id=waba_id, pk=pk)).select_related("sending_version").first()


def template_preview(*, template: Template, parameters: dict | None) -> Rendered:
    """What the customer would see, the examples standing in for empty fields (the live preview)."""
    version = template.sending_version or template.current_version
    return render(
        components=version.components if version else [],
        parameter_format=template.parameter_format,
        parameters=parameters,
        use_examples=True,
        category=template.category,
    )


# --- status ----------------------------------------------------------------------------------


def template_status(template: Template) -> str:
    """One word for where a template stands: the newest version's internal step until it
    reaches Meta, then Meta's status (lowercase)."""
    version = template.current_version
    if version is not None and version.state != State.APPROVED:
        # An edit of a template Meta approved: it still sends, say so.
        if template.sending_version_id and template.meta_status == MetaStatus.APPROVED:
            return "approved"
        return {State.DRAFT: "draft", State.IN_REVIEW: "in_review", State.REJECTED: "rejected_internally"}[
            version.state
        ]
    if version is not None and version.meta_error and version.meta_submitted_at is None:
        return "refused_by_meta"
    if not template.meta_status:
        return "submitting"
    return template.meta_status.lower()


# Lazy: this dict is built at import, in no one's language; each label is translated when read.
STATUS_LABELS = {
    "draft": gettext_lazy("Draft"),
    "in_review": gettext_lazy("Awaiting review"),
    "rejected_internally": gettext_lazy("Rejected internally"),
    "refused_by_meta": gettext_lazy("Refused by Meta"),
    "submitting": gettext_lazy("Submitting to Meta"),
}


def status_label(status: str) -> str:
    if status in STATUS_LABELS:
        return str(STATUS_LABELS[status])
    return str(MetaStatus(status.upper()).label) if status.upper() in MetaStatus.values else status


# --- lists for the pages and the API ---------------------------------------------------------


STATUS_FILTERS = ("draft", "in_review", "rejected_internally", *[s.lower() for s in MetaStatus.values if s])


def templates_list(
    *,
    waba_id: str | None = None,
    status: str = "",
    category: str = "",
    language: str = "",
    usable_only: bool = False,
) -> QuerySet[Template]:
    qs = Template.objects.select_related("current_version", "sending_version")
    if waba_id:
        qs = qs.filter(waba_id=waba_id)
    if usable_only:
        qs = _sendable(qs)
    if status in ("draft", "in_review"):
        qs = qs.filter(current_version__state=status)
    elif status == "rejected_internally":
        qs = qs.filter(current_version__state=State.REJECTED)
    elif status:
        qs = qs.filter(meta_status=status.upper())
    if category:
        qs = qs.filter(category=category.upper())
    if language:
        base = normalise_language(language)
        qs = qs.filter(Q(language=base) | Q(language__startswith=f"{base}_"))
    return qs.order_by("name", "language", "id")


def template_get(pk: int) -> Template:
    return get_object_or_404(Template.objects.select_related("current_version", "sending_version"), pk=pk)


def template_versions(template: Template) -> list[TemplateVersion]:
    return list(template.versions.select_related("author", "reviewer").order_by("-number"))


def template_history(template: Template, *, limit: int = 200) -> list[TemplateEvent]:
    return list(template.events.select_related("actor", "version").order_by("-at", "-id")[:limit])


def review_queue() -> list[TemplateVersion]:
    """Versions awaiting a second admin, oldest first, each with its previous version for the diff."""
    versions = list(
        TemplateVersion.objects.filter(state=State.IN_REVIEW)
        .select_related("template", "author")
        .order_by("submitted_at", "id")
    )
    previous = {}
    wanted = [(v.template_id, v.number - 1) for v in versions if v.number > 1]
    if wanted:
        q = Q()
        for template_id, number in wanted:
            q |= Q(template_id=template_id, number=number)
        previous = {(p.template_id, p.number): p for p in TemplateVersion.objects.filter(q)}
    for version in versions:
        version.previous = previous.get((version.template_id, version.number - 1))
    return versions


def languages_in_use() -> list[str]:
    return list(Template.objects.order_by("language").values_list("language", flat=True).distinct())
