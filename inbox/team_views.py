"""The admins' team page: people with their role and numbers, API tokens, business numbers.

Writes go through inbox.services (the same functions as the `user` command); a raw token is
shown once, in the answer to the POST that created it, and never stored.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from conversations.models import BusinessNumber
from core.roles import ADMIN, AGENT, own_grants, role_of
from inbox import services
from inbox.access import capability_required
from inbox.forms import TeamTokenForm, TeamUserForm
from inbox.models import ApiToken

User = get_user_model()


def _within_reach(request: HttpRequest, person) -> None:
    """A superuser is out of the admin role's reach here as in /admin/ (inbox/admin.py): someone
    who is not one may not set their password or role, deactivate them, or hold or revoke a
    token acting as them (each of those would hand the superuser's account to the admin)."""
    if person is not None and person.is_superuser and not request.user.is_superuser:
        raise PermissionDenied


def _team_context(*, user_form=None, token_form=None, new_token: str = "", new_token_user=None) -> dict:
    numbers = list(BusinessNumber.objects.order_by("name", "display_phone_number"))
    people = list(
        User.objects.order_by("username")
        .select_related("profile")
        .prefetch_related(
            "groups",
            Prefetch("business_numbers", queryset=BusinessNumber.objects.order_by("name")),
            Prefetch("api_tokens", queryset=ApiToken.objects.order_by("-created_at")),
            Prefetch("user_permissions", queryset=Permission.objects.select_related("content_type")),
        )
    )
    for person in people:
        person.role = role_of(person)
        profile = getattr(person, "profile", None)
        person.works_all_numbers = person.role == "admin" or bool(profile and profile.all_numbers)
        person.runs_campaigns = person.role == ADMIN or (person.role == AGENT and "run_campaigns" in own_grants(person))
    return {
        "people": people,
        "has_tokens": any(person.api_tokens.all() for person in people),
        "numbers": numbers,
        "user_form": user_form or TeamUserForm(numbers=numbers),
        "token_form": token_form or TeamTokenForm(people=people),
        "new_token": new_token,
        "new_token_user": new_token_user,
    }


@require_GET
@capability_required("manage_users")
def index(request: HttpRequest) -> HttpResponse:
    context = _team_context()
    edit = request.GET.get("edit")
    person = next((p for p in context["people"] if str(p.pk) == edit), None)
    if person is not None:
        context["user_form"] = TeamUserForm(
            numbers=context["numbers"],
            initial={
                "username": person.username,
                "role": person.role or "agent",
                "numbers": [n.phone_number_id for n in person.business_numbers.all()],
                "campaigns": person.role == AGENT and person.runs_campaigns,
            },
        )
        context["editing"] = person
    return render(request, "inbox/team.html", context)


@require_POST
@capability_required("manage_users")
def user_save(request: HttpRequest) -> HttpResponse:
    numbers = list(BusinessNumber.objects.order_by("name", "display_phone_number"))
    form = TeamUserForm(request.POST, numbers=numbers)
    if not form.is_valid():
        return render(request, "inbox/team.html", _team_context(user_form=form), status=400)
    data = form.cleaned_data
    _within_reach(request, User.objects.filter(username=data["username"]).first())
    user = services.user_create_or_update(
        username=data["username"],
        role=data["role"],
        password=data["password"] or None,
        number_ids=data["numbers"] if data["role"] == "agent" else [],
        may_run_campaigns=data["campaigns"],
    )
    flash.success(request, _("Saved %(name)s.") % {"name": user.username})
    return redirect("team:index")


@require_POST
@capability_required("manage_users")
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = User.objects.filter(pk=pk).first()
    if person is None:
        raise Http404("no such user")
    _within_reach(request, person)
    active = request.POST.get("active") == "1"
    if person.pk == request.user.pk and not active:
        flash.error(request, _("You cannot deactivate yourself."))
        return redirect("team:index")
    services.user_set_active(user=person, active=active)
    message = _("%(name)s can sign in again.") if active else _("%(name)s is deactivated and cannot sign in.")
    flash.success(request, message % {"name": person.username})
    return redirect("team:index")


@require_POST
@capability_required("manage_users")
def token_create(request: HttpRequest) -> HttpResponse:
    people = list(User.objects.filter(is_active=True).order_by("username"))
    form = TeamTokenForm(request.POST, people=people)
    if not form.is_valid():
        return render(request, "inbox/team.html", _team_context(token_form=form), status=400)
    owner = form.cleaned_data["user"]
    _within_reach(request, owner)
    _token, raw = services.api_token_create(user=owner, name=form.cleaned_data["name"])
    # Shown in this answer only: the page is not cached and the raw value is never stored.
    response = render(request, "inbox/team.html", _team_context(new_token=raw, new_token_user=owner))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@capability_required("manage_users")
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk).first()
    if token is None:
        raise Http404("no such token")
    _within_reach(request, token.user)
    services.api_token_revoke(token=token, now=timezone.now())
    flash.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.key_prefix})
    return redirect("team:index")


@require_POST
@capability_required("manage_users")
def number_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask Meta for the number's quality rating and messaging limit now (its webhooks only say
    when they change)."""
    from conversations.services_numbers import number_quality_refresh
    from whatsapp.errors import CloudApiError

    number = BusinessNumber.objects.filter(pk=pk).first()
    if number is None:
        raise Http404("no such number")
    try:
        number_quality_refresh(number=number, now=timezone.now())
    except CloudApiError as exc:
        flash.error(request, _("Meta did not answer about %(number)s: %(reason)s") % {"number": number, "reason": exc})
    else:
        flash.success(
            request, _("%(number)s: Meta's quality rating and messaging limit are up to date.") % {"number": number}
        )
    return redirect(f"{reverse('team:index')}#numbers-title")
