"""Admin pages for users and API tokens, safe for the admin role (which is not superuser).

The admin role manages agents, finance and other admins. A superuser is out of its reach: it
may see one, but not change, re-password, deactivate or delete them, nor revoke their tokens;
and it cannot grant superuser status or single permissions to anyone, itself included.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from core.roles import ADMIN, role_of
from inbox.models import ApiToken, UserProfile
from inbox.views import ThrottledAdminAuthenticationForm

User = get_user_model()

# Fields only a superuser may change: otherwise an admin could promote anyone, themselves
# included, past their role. For everyone else /admin/ access (is_staff) follows the role.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "is_staff", "user_permissions")


def _out_of_reach(request, user) -> bool:
    """A superuser, seen by someone who is not one: read-only for them."""
    return user is not None and user.is_superuser and not request.user.is_superuser


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False

    def has_change_permission(self, request, obj=None):
        # obj is the user whose page this is.
        return not _out_of_reach(request, obj) and super().has_change_permission(request, obj)


admin.site.unregister(User)
# /admin/login/ takes passwords too: the same throttle as /login/.
admin.site.login_form = ThrottledAdminAuthenticationForm


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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if request.user.is_superuser:
            return
        # As user_create_or_update does: the admin role is staff, every other role is not.
        user = form.instance
        staff = user.groups.filter(name=ADMIN).exists()
        if user.is_staff != staff:
            user.is_staff = staff
            user.save(update_fields=["is_staff"])

    # Both also guard the password page (UserAdmin.user_change_password asks has_change_permission).
    def has_change_permission(self, request, obj=None):
        return not _out_of_reach(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _out_of_reach(request, obj) and super().has_delete_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `create_api_token` (shown once); here they are seen and revoked."""

    list_display = ["key_prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["user", "key_prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        owner = obj.user if obj is not None else None
        return not _out_of_reach(request, owner) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        owner = obj.user if obj is not None else None
        return not _out_of_reach(request, owner) and super().has_delete_permission(request, obj)


_admin_login = admin.site.login


def _login_or_refuse(request, extra_context=None):
    """Someone signed in without access to Django's admin (an agent, finance) gets the app's 403
    page, not a second sign-in form that would only ask them for another account."""
    if request.user.is_authenticated and not request.user.is_staff:
        raise PermissionDenied
    return _admin_login(request, extra_context)


admin.site.login = _login_or_refuse
