"""Install Meta's pricing rules by period, the starting-point USD card and the market map."""

from __future__ import annotations

from django.db import migrations


def forwards(apps, schema_editor):
    from billing.defaults import install_defaults

    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
