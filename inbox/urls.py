from __future__ import annotations

from django.urls import path

from inbox import answers_views, template_views
from inbox import inbox_views as views

app_name = "inbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.start, name="start"),
    path("notifications/", views.notify_settings, name="notify-settings"),
    path("answers/", answers_views.index, name="answers"),
    path("answers/delete/", answers_views.delete, name="answers-delete"),
    path("c/<int:pk>/", views.thread, name="thread"),
    path("c/<int:pk>/messages/", views.older_messages, name="older"),
    path("c/<int:pk>/contact/", views.contact, name="contact"),
    path("c/<int:pk>/contact/notes/", views.contact_note, name="contact-note"),
    path("c/<int:pk>/contact/name/", views.contact_name, name="contact-name"),
    path("c/<int:pk>/send/", views.send, name="send"),
    path("c/<int:pk>/read/", views.mark_read, name="read"),
    path("c/<int:pk>/assign/", views.assign, name="assign"),
    path("c/<int:pk>/status/", views.set_status, name="status"),
    path("c/<int:pk>/labels/", views.label_add, name="label-add"),
    path("c/<int:pk>/labels/remove/", views.label_remove, name="label-remove"),
    path("c/<int:pk>/templates/", template_views.picker, name="template-picker"),
    path("c/<int:pk>/templates/preview/", template_views.preview, name="template-preview"),
    path("c/<int:pk>/templates/send/", template_views.send, name="template-send"),
    path("c/<int:pk>/m/<int:message_pk>/react/", views.react, name="react"),
    path("c/<int:pk>/m/<int:message_pk>/retry/", views.retry, name="retry"),
    path("c/<int:pk>/m/<int:message_pk>/media/", views.media, name="media"),
    path("c/<int:pk>/m/<int:message_pk>/media/retry/", views.media_retry, name="media-retry"),
]
