"""Read-mostly views of templates in /admin/: the workflow itself runs on /templates/ (four-eyes)."""

from __future__ import annotations

from django.contrib import admin

from templates_app.models import Template, TemplateEvent, TemplateVersion


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ("number", "state", "category", "author", "reviewer", "reviewed_at", "reject_reason", "meta_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "waba_id", "category", "meta_status", "quality", "imported", "updated_at")
    list_filter = ("meta_status", "category", "quality", "imported", "language")
    search_fields = ("name", "meta_template_id")
    inlines = [VersionInline]
    # Approval and Meta's verdicts go through the services; nothing here edits them by hand.
    readonly_fields = [f.name for f in Template._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(TemplateEvent)
class TemplateEventAdmin(admin.ModelAdmin):
    list_display = ("at", "template", "kind", "actor", "from_value", "to_value")
    list_filter = ("kind",)
    search_fields = ("template__name",)
    readonly_fields = ("template", "version", "kind", "actor", "from_value", "to_value", "detail", "at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
