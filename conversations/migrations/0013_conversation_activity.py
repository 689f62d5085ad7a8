"""Who did what to a thread (ConversationActivity): the customer pane's history."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0012_number_quality"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConversationActivity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("assigned", "assigned"),
                            ("unassigned", "assignment removed"),
                            ("status", "status set"),
                            ("snoozed", "snoozed"),
                            ("label_added", "label added"),
                            ("label_removed", "label removed"),
                            ("retried", "failed message sent again"),
                            ("reopened", "reopened by the customer"),
                            ("woke", "woke from snooze"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("open", "Open"),
                            ("pending", "Pending"),
                            ("snoozed", "Snoozed"),
                            ("resolved", "Resolved"),
                        ],
                        default="",
                        max_length=10,
                    ),
                ),
                ("snooze_until", models.DateTimeField(blank=True, null=True)),
                ("label", models.CharField(blank=True, default="", max_length=50)),
                ("at", models.DateTimeField()),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "assignee",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="conversations.conversation",
                    ),
                ),
            ],
            options={
                "verbose_name": "conversation activity",
                "verbose_name_plural": "conversation activities",
                "indexes": [models.Index(fields=["conversation", "-at", "-id"], name="conv_activity_recent_idx")],
            },
        ),
    ]
