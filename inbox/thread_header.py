"""The thread's header: who the customer is, the window, the status, and the actions on the thread.

Written in Python for the reason the list rows and bubbles are (inbox.fragments): in the
template language this one partial cost 2.7 ms of a thread pane's CPU (the teammates' options,
four sentences with a time, a dozen URLs and translations), the largest of the pane's partials.
`thread.html#header` calls it, so the page, the htmx answers and live updates still share it.
Escaping as in inbox.fragments: every value is escaped, the text of a {% translate %} too; the
sentence of a {% blocktranslate %} is trusted and only the values put into it are escaped.
"""

from __future__ import annotations

from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from inbox.fragments import csrf_input
from inbox.templatetags.inbox_tags import id_url, initial, shown_time, window_badge
from inbox.templatetags.phone_tags import phone


def thread_header(
    *,
    conversation,
    contact,
    win: dict,
    teammates,
    user=None,
    snooze_choices=(),
    list_qs: str = "",
    oob: str = "",
    action_error: str = "",
    csrf_token=None,
) -> SafeString:
    def time(value) -> str:
        return esc(shown_time(value, "DATETIME_FORMAT"))

    pk = conversation.pk
    target = f"#thread-{pk}-header"
    csrf = csrf_input(csrf_token)
    back = id_url("inbox:index") + (f"?{list_qs}" if list_qs else "")
    reached = esc(phone(contact.wa_id)) if contact.wa_id else ""
    if contact.market:
        reached += " · " + _("market %(market)s") % {"market": esc(contact.market)}
    status = esc(conversation.get_status_display())
    if conversation.status == "snoozed" and conversation.snoozed_until:
        status += " · " + _("until %(time)s") % {"time": time(conversation.snoozed_until)}
    window_time = ""
    if win["open"] or win["expires_at"]:
        sentence = _("Free replies until %(time)s") if win["open"] else _("Closed at %(time)s")
        window_time = f'<span class="muted small">{sentence % {"time": time(win["expires_at"])}}</span>'
    opted_out = ""
    if contact.marketing_opted_out:
        sentence = _("Opted out of marketing on %(time)s (%(source)s). Do not send marketing templates.") % {
            "time": time(contact.marketing_opted_out_at),
            "source": esc(contact.get_marketing_opt_out_source_display()),
        }
        opted_out = f'<p class="notice optout">{sentence}</p>'
    swap = f' hx-swap-oob="{esc(oob)}"' if oob else ""
    error = f'<p class="errorlist">{esc(action_error)}</p>' if action_error else ""
    return mark_safe(
        f'<header id="thread-{pk}-header" class="thread-header"{swap}>\n'
        f'  <div class="thread-title">\n'
        f'    <a class="back" href="{esc(back)}" title="{esc(_("Back to the list"))}">←</a>\n'
        f'    <span class="avatar" aria-hidden="true">{esc(initial(contact))}</span>\n'
        f'    <div class="who">\n'
        f"      <h2>{esc(contact)}</h2>\n"
        f'      <div class="muted small">\n'
        f"        {reached}\n"
        f"        · {_('to %(number)s') % {'number': esc(conversation.number)}}\n"
        f"      </div>\n"
        f"    </div>\n"
        f'    <a class="button secondary small contact-toggle" href="{id_url("inbox:contact", pk)}" '
        f'aria-controls="contact-pane">{esc(_("Customer"))}</a>\n'
        f'    <span class="badge status-{esc(conversation.status)}">{status}</span>\n'
        f"  </div>\n"
        f'  <div class="window-line">\n'
        f"    {window_badge(win)}\n"
        f"    {window_time}\n"
        f"  </div>\n"
        f"  {opted_out}\n"
        f'  <div class="thread-actions">\n'
        f"{_assign_form(conversation, teammates, user, target, csrf)}"
        f"{_status_form(conversation, snooze_choices, target, csrf)}"
        f"{_labels(conversation, target, csrf)}"
        f"  </div>\n"
        f"  {error}\n"
        f"</header>"
    )


def _assign_form(conversation, teammates, user, target: str, csrf: str) -> str:
    pk, assignee_id = conversation.pk, conversation.assignee_id
    url = id_url("inbox:assign", pk)
    me = esc(_("me"))
    options = "".join(
        f'<option value="{mate.pk}"{" selected" if assignee_id == mate.pk else ""}>'
        f"{esc(mate.get_full_name() or mate.username)}{f' ({me})' if user and mate.pk == user.pk else ''}</option>"
        for mate in teammates
    )
    to_me = ""
    if not user or assignee_id != user.pk:
        to_me = (
            f'<button type="submit" name="assignee" value="me" class="secondary small">'
            f"{esc(_('Assign to me'))}</button>"
        )
    return (
        f'    <form method="post" action="{url}" hx-post="{url}" hx-target="{target}" hx-swap="outerHTML" '
        f'class="assign">\n'
        f"      {csrf}\n"
        f'      <label for="assignee-{pk}" class="inline-label">{esc(_("Assigned to"))}</label>\n'
        f'      <select name="assignee" id="assignee-{pk}">\n'
        f'        <option value=""{"" if assignee_id else " selected"}>{esc(_("nobody"))}</option>\n'
        f"        {options}\n"
        f"      </select>\n"
        f'      <button type="submit" class="secondary small">{esc(_("Assign"))}</button>\n'
        f"      {to_me}\n"
        f"    </form>\n"
    )


def _status_form(conversation, snooze_choices, target: str, csrf: str) -> str:
    url, status = id_url("inbox:status", conversation.pk), conversation.status
    buttons = ""
    if status != "open":
        buttons += (
            f'<button type="submit" name="status" value="open" class="secondary small">{esc(_("Reopen"))}</button>'
        )
    if status not in ("pending", "resolved"):
        buttons += (
            f'<button type="submit" name="status" value="pending" class="secondary small" '
            f'title="{esc(_("Waiting for the customer"))}">{esc(_("Pending"))}</button>'
        )
    if status != "resolved":
        buttons += f'<button type="submit" name="status" value="resolved" class="small">{esc(_("Resolve"))}</button>'
    choices = "".join(f'<option value="{esc(value)}">{esc(label)}</option>' for value, label in snooze_choices)
    snooze, until = esc(_("Snooze")), esc(_("or until"))
    return (
        f'    <form method="post" action="{url}" hx-post="{url}" hx-target="{target}" hx-swap="outerHTML" '
        f'class="status-actions">\n'
        f"      {csrf}\n"
        f"      {buttons}\n"
        f'      <details class="snooze">\n'
        f'        <summary class="button secondary small">{snooze}…</summary>\n'
        f'        <span class="snooze-menu">\n'
        f'          <select name="snooze" aria-label="{esc(_("Snooze for"))}">{choices}</select>\n'
        f'          <input type="datetime-local" name="snooze_until" aria-label="{until}" title="{until}">\n'
        f'          <button type="submit" name="status" value="snoozed" class="small">{snooze}</button>\n'
        f"        </span>\n"
        f"      </details>\n"
        f"    </form>\n"
    )


def _labels(conversation, target: str, csrf: str) -> str:
    pk = conversation.pk
    remove_url, add_url = id_url("inbox:label-remove", pk), id_url("inbox:label-add", pk)
    remove = esc(_("Remove label"))
    chips = "".join(
        f'      <form method="post" action="{remove_url}" hx-post="{remove_url}" hx-target="{target}" '
        f'hx-swap="outerHTML" class="inline">\n'
        f'        {csrf}<input type="hidden" name="name" value="{esc(label.name)}">\n'
        f'        <span class="label-chip">{esc(label.name)} '
        f'<button type="submit" class="link" title="{remove}">×</button></span>\n'
        f"      </form>\n"
        for label in conversation.labels.all()
    )
    return (
        f'    <div class="labels">\n'
        f"{chips}"
        f'      <form method="post" action="{add_url}" hx-post="{add_url}" hx-target="{target}" hx-swap="outerHTML" '
        f'class="inline label-add">\n'
        f'        {csrf}<input type="text" name="name" maxlength="50" placeholder="{esc(_("+ label"))}" '
        f'aria-label="{esc(_("Add a label"))}">\n'
        f"      </form>\n"
        f"    </div>\n"
    )
