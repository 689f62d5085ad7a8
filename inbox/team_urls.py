from __future__ import annotations

from django.urls import path

from inbox import team_views as views

app_name = "team"
urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.user_save, name="user-save"),
    path("users/<int:pk>/active/", views.user_active, name="user-active"),
    path("tokens/", views.token_create, name="token-create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("numbers/<int:pk>/refresh/", views.number_refresh, name="number-refresh"),
]
