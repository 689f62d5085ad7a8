"""A business number's messaging limit and quality as Meta reports them (the team page shows them)."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0011_conversation_recent_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="businessnumber",
            name="messaging_limit",
            field=models.CharField(blank=True, default="", max_length=32, verbose_name="messaging limit"),
        ),
        migrations.AddField(
            model_name="businessnumber",
            name="quality_event",
            field=models.CharField(blank=True, default="", max_length=32, verbose_name="Meta's last quality event"),
        ),
        migrations.AddField(
            model_name="businessnumber",
            name="quality_rating",
            field=models.CharField(blank=True, default="", max_length=16, verbose_name="quality rating"),
        ),
        migrations.AddField(
            model_name="businessnumber",
            name="quality_updated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="quality updated at"),
        ),
    ]
