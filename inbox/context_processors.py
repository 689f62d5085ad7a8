from __future__ import annotations

from inbox.roles import perm, role_of


def navigation(request):
    """The navigation links a signed-in person may follow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "user_role": None}
    from django.utils.translation import gettext as _

    links = []
    if user.has_perm(perm("work_inbox")):
        links.append(("inbox:index", _("Inbox")))
    if user.has_perm(perm("manage_templates")):
        links.append(("templates_app:index", _("Templates")))
    if user.has_perm(perm("view_billing")):
        links.append(("billing:index", _("Billing")))
    if user.is_staff:
        links.append(("admin:index", _("Admin")))
    return {"nav_links": links, "user_role": role_of(user)}
