"""The thread's composer: the reply form inside the window; outside it, why not, the template
picker and a private note.

Written in Python for the reason the header is (inbox.thread_header); `thread.html#composer`
calls it. The template picker stays a template (`template_picker.html#picker`, rendered here
with the same context), since its form of template fields is drawn from each template's
parameters. Escaping as in inbox.fragments: every value is escaped, the text of a
{% translate %} too; the sentence of a {% blocktranslate %} is trusted and only the values put
into it are escaped.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from billing.templatetags.billing_tags import money
from inbox.fragments import csrf_input
from inbox.templatetags.inbox_tags import id_url, iso, shown_time, type_label


def thread_composer(context: dict) -> SafeString:
    """`context` is the template's, flattened: the picker is rendered with all of it."""
    conversation, win, form = context["conversation"], context["win"], context["form"]
    pk = conversation.pk
    csrf = csrf_input(context.get("csrf_token"))
    oob = context.get("oob")
    attributes = f'data-window="{"open" if win["open"] else "closed"}"'
    if win["open"]:
        attributes += f' data-expires="{iso(win["expires_at"])}" data-composer-url="{id_url("inbox:thread", pk)}"'
    if oob:
        attributes += f' hx-swap-oob="{esc(oob)}"'
    parts = []
    if not win["open"]:
        parts.append(_closed_note(win))
        if not form.is_bound:
            parts.append(render_to_string("inbox/template_picker.html#picker", context))
    if win["open"] or form.is_bound:
        parts.append(_reply_form(conversation, win, form, context.get("reply_to"), context.get("reply_quote"), csrf))
    else:
        parts.append(_note_form(conversation, form, csrf))
    body = "\n".join(parts)
    return mark_safe(
        f'<footer id="thread-{pk}-composer" class="composer" {attributes}>\n  <a id="composer"></a>\n{body}\n</footer>'
    )


def _closed_note(win: dict) -> str:
    if win["never"]:
        why = esc(_("The customer has not written to this number yet. Only approved templates can be sent."))
    else:
        closed = shown_time(win["expires_at"], "DATETIME_FORMAT")
        why = _("The customer's 24-hour window closed at %(time)s; only approved templates can be sent now.") % {
            "time": esc(closed)
        }
    reopens = _(
        "A free-form message would not reach the customer, so this inbox does not offer one. When the customer "
        "writes again, the window reopens for 24 hours."
    )
    return (
        f'    <div class="window-closed-note" role="status">\n'
        f"      <p><strong>{why}</strong></p>\n"
        f'      <p class="muted small">{esc(reopens)}</p>\n'
        f"    </div>"
    )


def _client_id(form) -> str:
    """What {{ form.client_id }} writes: Django's hidden input, without its widget template."""
    field = form["client_id"]
    value = field.field.widget.format_value(field.value())
    shown = f' value="{esc(value)}"' if value is not None else ""
    return f'<input type="hidden" name="client_id"{shown} id="{esc(field.auto_id)}">'


def _errors(errors) -> str:
    return "".join(f"<li>{esc(error)}</li>" for error in errors)


def _reply_form(conversation, win: dict, form, reply_to, reply_quote, csrf: str) -> str:
    pk = conversation.pk
    send_url, thread_url = id_url("inbox:send", pk), id_url("inbox:thread", pk)
    target = f"#thread-{pk}-composer"
    replying = ""
    if reply_to:
        quoted = esc(Truncator(reply_to.text).chars(100)) if reply_to.text else esc(type_label(reply_to.type))
        replying = (
            f'      <div class="replying">\n'
            f'        <input type="hidden" name="reply_to" value="{reply_to.pk}">\n'
            f'        <span class="quote"><span class="quote-who">{esc(_("Replying to"))}</span> '
            f'<span class="quote-text">{quoted}</span></span>\n'
            f'        <a href="{thread_url}#composer" hx-get="{thread_url}" hx-target="{target}" hx-swap="outerHTML" '
            f'hx-include="{target} [name=text]" title="{esc(_("Cancel the reply"))}">×</a>\n'
            f"      </div>\n"
        )
    general = f'<ul class="errorlist">{_errors(form.non_field_errors())}</ul>' if form.non_field_errors() else ""
    text = form["text"]
    text_errors = f'<ul class="errorlist">{_errors(text.errors)}</ul>' if text.errors else ""
    typed = text.value()
    attachment = form["attachment"]
    attachment_errors = ""
    if attachment.errors:
        attachment_errors = f'<span class="errorlist">{" ".join(esc(error) for error in attachment.errors)}</span>'
    price = ""
    if reply_quote:
        costs = _("This reply costs %(amount)s %(currency)s") % {
            "amount": esc(money(reply_quote.amount)),
            "currency": esc(reply_quote.currency),
        }
        price = f'<span class="small reply-price" title="{esc(reply_quote.reason)}">{costs}</span>'
    picker = ""
    if win["open"]:
        picker_url = id_url("inbox:template-picker", pk)
        picker = (
            f'<a href="{picker_url}" hx-get="{picker_url}" hx-target="#picker-slot-{pk}" hx-swap="innerHTML" '
            f'class="button secondary">{esc(_("Template…"))}</a>'
        )
    return (
        f'    <form class="reply-form" method="post" action="{send_url}" enctype="multipart/form-data"\n'
        f'          hx-post="{send_url}" hx-target="{target}" hx-swap="outerHTML" '
        f'hx-disabled-elt="find button[type=submit]">\n'
        f"      {csrf}\n"
        f"      {_client_id(form)}\n"
        f"{replying}"
        f"      {general}\n"
        f'      <label for="text-{pk}" class="visually-hidden">{esc(_("Message"))}</label>\n'
        f'      <textarea name="text" id="text-{pk}" rows="2" maxlength="4096" '
        f'placeholder="{esc(_("Write a reply. /shortcut inserts a saved answer."))}">'
        f"{esc('' if typed is None else typed)}</textarea>\n"
        f"      {text_errors}\n"
        f'      <div class="composer-tools">\n'
        f'        <label class="inline check"><input type="checkbox" name="note"'
        f"{' checked' if form['note'].value() else ''}> {esc(_('Private note'))}</label>\n"
        f'        <label class="inline attach">{esc(_("Attach a file"))} '
        f'<input type="file" name="attachment"></label>\n'
        f"        {attachment_errors}\n"
        f"        {price}\n"
        f"        {picker}\n"
        f'        <button type="submit">{esc(_("Send"))}</button>\n'
        f"      </div>\n"
        f"    </form>\n"
        f'    <div id="picker-slot-{pk}"></div>'
    )


def _note_form(conversation, form, csrf: str) -> str:
    pk = conversation.pk
    send_url = id_url("inbox:send", pk)
    return (
        f'    <details class="note-only">\n'
        f"      <summary>{esc(_('Add a private note'))}</summary>\n"
        f'      <form method="post" action="{send_url}" hx-post="{send_url}" hx-target="#thread-{pk}-composer" '
        f'hx-swap="outerHTML">\n'
        f'        {csrf}{_client_id(form)}<input type="hidden" name="note" value="on">\n'
        f'        <label for="note-{pk}" class="visually-hidden">{esc(_("Private note"))}</label>\n'
        f'        <textarea name="text" id="note-{pk}" rows="2" placeholder="{esc(_("Only your team sees notes."))}">'
        f"</textarea>\n"
        f'        <button type="submit" class="secondary">{esc(_("Add note"))}</button>\n'
        f"      </form>\n"
        f"    </details>"
    )
