"""URLs of the peer: the package's URLs mounted where its README puts them (webhook at /whatsapp/webhook/)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("whatsapp/", include("django_meta_whatsapp.urls", namespace="django_meta_whatsapp")),
]
