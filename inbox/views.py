from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from inbox.health import health
from inbox.models import UserProfile
from inbox.roles import landing_url_name


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


class LoginView(auth_views.LoginView):
    template_name = "inbox/login.html"
    redirect_authenticated_user = True

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
