from __future__ import annotations

from django.urls import path

from inbox import inbox_views

app_name = "inbox"
urlpatterns = [path("", inbox_views.index, name="index")]
