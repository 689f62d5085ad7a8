from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from config.api import api
from inbox import views as inbox_views

urlpatterns = [
    # Browsers ask for /favicon.ico on their own; the icon lives with the static files.
    path("favicon.ico", inbox_views.favicon, name="favicon"),
    path("", inbox_views.home, name="home"),
    path("healthz", inbox_views.healthz, name="healthz"),
    path("login/", inbox_views.LoginView.as_view(), name="login"),
    path("logout/", inbox_views.LogoutView.as_view(), name="logout"),
    path("settings/", inbox_views.user_settings, name="user-settings"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("inbox/", include("inbox.urls")),
    path("team/", include("inbox.team_urls")),
    path("templates/", include("templates_app.urls")),
    path("billing/", include("billing.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("webhooks/", include("webhooks.urls")),
]

# No static route for MEDIA_ROOT, even in DEBUG: customers' files are served only by
# inbox:media, which checks that the viewer works that conversation's number.
