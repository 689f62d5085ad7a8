from __future__ import annotations

import hashlib
import logging
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.roles import landing_url_name
from inbox.health import health
from inbox.models import UserProfile


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(landing_url_name(request.user))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, parts = health()
    return JsonResponse(parts, status=200 if healthy else 503)


logger = logging.getLogger(__name__)

# --- sign-in throttling -------------------------------------------------------------------------
# Wrong passwords are counted per username and per client address in the cache (Redis in
# production, shared by all web processes) for LOGIN_THROTTLE_WINDOW seconds. Past the limit
# every sign-in for that username or from that address is refused, the right password too, until
# the window ends. Both doors that take passwords use it: /login/ and /admin/login/.


def _throttle_keys(request, username: str) -> tuple[str, str]:
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    return f"login-fail:user:{name}", f"login-fail:addr:{address}"


def login_throttled(request, username: str) -> bool:
    user_key, address_key = _throttle_keys(request, username)
    try:
        counts = cache.get_many([user_key, address_key])
    except Exception:  # a cache outage must not lock everyone out; it is logged
        logger.exception("login throttle: cache unavailable, not throttling")
        return False
    return (
        counts.get(user_key, 0) >= settings.LOGIN_THROTTLE_ATTEMPTS
        or counts.get(address_key, 0) >= settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS
    )


def login_failure_record(request, username: str) -> None:
    try:
        for key in _throttle_keys(request, username):
            cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW)
            cache.incr(key)
    except Exception:
        logger.exception("login throttle: could not count a failed sign-in")


def login_success_record(request, username: str) -> None:
    """The username's count starts again; the address's does not (one good account must not
    reset a guessing run against others)."""
    try:
        cache.delete(_throttle_keys(request, username)[0])
    except Exception:
        logger.exception("login throttle: could not reset a count")


class ThrottledLoginMixin:
    """For AuthenticationForm and its admin variant: refuse while throttled, count failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and login_throttled(self.request, username):
            minutes = max(1, settings.LOGIN_THROTTLE_WINDOW // 60)
            self.throttled = True
            raise forms.ValidationError(
                _("Too many failed sign-ins for this account or from this address. Try again in %(minutes)d minutes.")
                % {"minutes": minutes},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                login_failure_record(self.request, username)
            raise
        login_success_record(self.request, username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    template_name = "inbox/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
        return response

    def get_default_redirect_url(self):
        from django.urls import reverse

        return reverse(landing_url_name(self.request.user))


class LogoutView(auth_views.LogoutView):
    pass


def _time_zone_choices():
    return [("", _("Same as my browser"))] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class UserSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices, required=False)


@login_required
@require_http_methods(["GET", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    profile, _created = UserProfile.objects.get_or_create(user=request.user)
    form = UserSettingsForm(request.POST or None, initial={"time_zone": profile.time_zone})
    if request.method == "POST" and form.is_valid():
        profile.time_zone = form.cleaned_data["time_zone"]
        profile.save(update_fields=["time_zone"])
        messages.success(request, _("Your settings are saved."))
        return redirect("user-settings")
    return render(request, "inbox/settings.html", {"form": form})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own; the icon lives with the static files (its
    hashed name is looked up per request, so a missing manifest cannot break start-up)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("favicon.svg"))
