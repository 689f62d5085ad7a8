from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

from core.roles import has_capability, perm, role_of


@contextmanager
def _connection_given_back():
    """Close the database connection afterwards if it was opened here.

    Error pages (403, 404, 500) render in a worker thread of Django's exception handling, not
    in the request's thread, and nothing closes that thread's connection when the request ends:
    it stayed checked out of the pool for good, went dead when PostgreSQL restarted, and then
    made every such page a 500. A connection the request already had is left alone.
    """
    opened_here = connection.connection is None
    try:
        yield
    finally:
        if opened_here and not connection.in_atomic_block:
            connection.close()  # with the pool: back into it


def navigation(request):
    """The navigation links a signed-in person may follow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "user_role": None}
    from django.utils.translation import gettext as _

    with _connection_given_back():
        role = role_of(user)
        links = []
        if user.has_perm(perm("work_inbox")):
            links.append(("inbox:index", _("Inbox")))
        if user.has_perm(perm("manage_templates")):
            links.append(("templates_app:index", _("Templates")))
        if has_capability(user, "run_campaigns", role=role):
            links.append(("campaigns:index", _("Campaigns")))
        if user.has_perm(perm("view_billing")):
            links.append(("billing:index", _("Costs")))  # the page's own heading
        if user.is_staff:
            links.append(("admin:index", _("Admin")))
    return {"nav_links": links, "user_role": role}
