from __future__ import annotations

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress_partial, name="progress"),
    path("<int:pk>/action/", views.action, name="action"),
    path("<int:pk>/report.csv", views.report_csv, name="report-csv"),
]
