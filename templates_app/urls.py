from __future__ import annotations

from django.urls import path

from templates_app import views

app_name = "templates_app"
urlpatterns = [
    path("", views.index, name="index"),
    path("new", views.create, name="new"),
    path("preview", views.preview, name="preview"),
    path("review/", views.review, name="review"),
    path("review/<int:version_id>/approve", views.approve, name="approve"),
    path("review/<int:version_id>/reject", views.reject, name="reject"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit", views.edit, name="edit"),
    path("<int:pk>/submit", views.submit, name="submit"),
]
