from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.index, name="index"),
    path("records/", views.records, name="records"),
    path("export.csv", views.export_csv, name="export"),
]
