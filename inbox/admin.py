"""Admin pages for users and API tokens, safe for the admin role (which is not superuser)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from inbox.models import ApiToken, UserProfile
from inbox.roles import role_of

User = get_user_model()

# Fields only a superuser may change: otherwise an admin could promote anyone, themselves
# included, past their role.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False


admin.site.unregister(User)


@admin.register(User)
class InboxUserAdmin(UserAdmin):
    inlines = [UserProfileInline]
    list_display = ["username", "role", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]

    @admin.display(description="role")
    def role(self, user) -> str:
        return role_of(user) or "-"

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *SUPERUSER_ONLY_FIELDS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `create_api_token` (shown once); here they are seen and revoked."""

    list_display = ["key_prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["user", "key_prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False
