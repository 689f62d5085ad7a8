"""The customer pane's markup (what inbox.customer_pane reads, shown beside a thread).

Written in Python for the reason the thread's header is (inbox.thread_header): through the
template language the pane cost about as much CPU as the header did. `contact.html#pane`,
`#labels` and `#history` call these functions, so the thread, the customer's own page on phones
and the answers to the header's actions share them. Escaping as in inbox.fragments: every value
is escaped, the text of a {% translate %} too; the sentence of a {% blocktranslate %} is trusted
and only the values put into it are escaped.
"""

from __future__ import annotations

from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from inbox.fragments import csrf_input
from inbox.templatetags.history_tags import activity_sentence
from inbox.templatetags.inbox_tags import id_url, person, shown_time, window_badge
from inbox.templatetags.phone_tags import phone


def _time(value, format_name: str) -> str:
    return esc(shown_time(value, format_name))


def customer_pane(
    *,
    conversation,
    contact,
    win: dict,
    contact_language: str = "",
    contact_labels=(),
    thread_history=(),
    other_conversations=(),
    contact_notes=(),
    name_error: str = "",
    name_typed: str = "",
    oob=False,
    csrf_token=None,
) -> SafeString:
    csrf = csrf_input(csrf_token)
    swap = ' hx-swap-oob="true"' if oob else ""
    return mark_safe(
        f'<aside id="contact-pane" class="pane contact-pane" aria-labelledby="contact-pane-title"{swap}>\n'
        f'  <div class="contact-scroll">\n'
        f'    <h2 id="contact-pane-title">{esc(_("Customer"))}</h2>\n'
        f'    <p class="contact-name"><strong>{esc(contact)}</strong></p>\n'
        f"    {_names(contact)}\n"
        f"{_name_form(conversation, contact, name_error, name_typed, csrf)}"
        f"{_facts(contact, contact_language, win)}"
        f"    <h3>{esc(_('Labels'))}</h3>\n"
        f"    {pane_labels(conversation=conversation, contact_labels=contact_labels)}\n"
        f"    <h3>{esc(_('History'))}</h3>\n"
        f"    {pane_history(conversation=conversation, thread_history=thread_history)}\n"
        f"    <h3>{esc(_('Other conversations'))}</h3>\n"
        f"{_others(other_conversations)}"
        f"    <h3>{esc(_('Notes about the customer'))}</h3>\n"
        f"{_notes(conversation, contact_notes, csrf)}"
        f"  </div>\n"
        f"</aside>"
    )


def pane_labels(*, conversation, contact_labels=(), part_oob=False) -> SafeString:
    """The labels of every thread with the customer the reader sees (`#contact-labels-<pk>`)."""
    swap = ' hx-swap-oob="true"' if part_oob else ""
    chips = "".join(f'<span class="label-chip">{esc(label.name)}</span> ' for label in contact_labels)
    chips = chips or f'<span class="muted">{esc(_("none"))}</span>'
    return mark_safe(f'<p id="contact-labels-{conversation.pk}"{swap}>{chips}</p>')


def pane_history(*, conversation, thread_history=(), part_oob=False) -> SafeString:
    """This thread's latest changes, newest first (`#contact-history-<pk>`)."""
    swap = ' hx-swap-oob="true"' if part_oob else ""
    entries = "".join(
        f"      <li>{esc(activity_sentence(entry))} "
        f'<span class="muted small">· {_time(entry.at, "SHORT_DATETIME_FORMAT")}</span></li>\n'
        for entry in thread_history
    )
    entries = entries or f'      <li class="muted">{esc(_("No changes yet."))}</li>\n'
    return mark_safe(
        f'<ul id="contact-history-{conversation.pk}" class="contact-others contact-history"{swap}>\n{entries}    </ul>'
    )


def _names(contact) -> str:
    """The profile name beside a name the team set, and who set it."""
    shown = ""
    if contact.name and contact.profile_name and contact.profile_name != contact.name:
        sentence = _("WhatsApp profile name: %(name)s") % {"name": esc(contact.profile_name)}
        shown += f'<p class="muted small">{sentence}</p>'
    if contact.name_set_at:
        sentence = _("Name set by %(who)s, %(time)s") % {
            "who": esc(person(contact.name_set_by) or "—"),
            "time": _time(contact.name_set_at, "SHORT_DATETIME_FORMAT"),
        }
        shown += f'<p class="muted small">{sentence}</p>'
    return shown


def _name_form(conversation, contact, name_error: str, name_typed: str, csrf: str) -> str:
    pk = conversation.pk
    url = id_url("inbox:contact-name", pk)
    value = name_typed if name_error else contact.name
    placeholder = f' placeholder="{esc(contact.profile_name)}"' if contact.profile_name else ""
    described = f"contact-name-help-{pk}" + (f" contact-name-error-{pk}" if name_error else "")
    invalid = ' aria-invalid="true" autofocus' if name_error else ""
    error = ""
    if name_error:
        error = f'<p class="errorlist" id="contact-name-error-{pk}" role="alert">{esc(name_error)}</p>'
    return (
        f'    <details class="contact-name-edit"{" open" if name_error else ""}>\n'
        f"      <summary>{esc(_('Edit name'))}</summary>\n"
        f'      <form method="post" action="{url}" hx-post="{url}" hx-target="#contact-pane" hx-swap="outerHTML" '
        f'hx-ext="inbox-live" class="contact-note-form">\n'
        f"        {csrf}\n"
        f'        <label for="contact-name-{pk}">{esc(_("Name shown to your team"))}</label>\n'
        f'        <input type="text" name="name" id="contact-name-{pk}" maxlength="100" autocomplete="off"\n'
        f'               value="{esc(value)}"{placeholder}\n'
        f'               aria-describedby="{described}"{invalid}>\n'
        f"        {error}\n"
        f'        <span class="muted small" id="contact-name-help-{pk}">'
        f"{esc(_('Leave it empty to show the name the customer chose in WhatsApp.'))}</span>\n"
        f'        <button type="submit" class="secondary small">{esc(_("Save name"))}</button>\n'
        f"      </form>\n"
        f"    </details>\n"
    )


def _facts(contact, contact_language: str, win: dict) -> str:
    if contact.wa_id:
        number = esc(phone(contact.wa_id))
    else:
        number = f'<span class="muted">{esc(_("hidden by WhatsApp (username only)"))}</span>'
    username = ""
    if contact.username:
        username = f"<dt>{esc(_('WhatsApp username'))}</dt><dd>@{esc(contact.username)}</dd>"
    if contact_language:
        language = f'{esc(contact_language)} <span class="muted small">{esc(_("(last template sent)"))}</span>'
    else:
        language = f'<span class="muted">{esc(_("not known"))}</span>'
    if contact.marketing_opted_out:
        since = _("%(source)s, %(time)s") % {
            "source": esc(contact.get_marketing_opt_out_source_display()),
            "time": _time(contact.marketing_opted_out_at, "DATETIME_FORMAT"),
        }
        marketing = f'<span class="badge closed">{esc(_("opted out"))}</span> <span class="small">{since}</span>'
    else:
        marketing = f'<span class="badge open">{esc(_("may receive marketing"))}</span>'
    return (
        f'    <dl class="contact-facts">\n'
        f'      <dt>{esc(_("Number"))}</dt><dd class="phone">{number}</dd>\n'
        f"      {username}\n"
        f"      <dt>{esc(_('Market'))}</dt><dd>{esc(contact.market or '—')}</dd>\n"
        f"      <dt>{esc(_('Language'))}</dt><dd>{language}</dd>\n"
        f"      <dt>{esc(_('Marketing'))}</dt>\n"
        f"      <dd>{marketing}</dd>\n"
        f"      <dt>{esc(_('Service window'))}</dt><dd>{window_badge(win)}</dd>\n"
        f"    </dl>\n"
    )


def _others(other_conversations) -> str:
    items = ""
    for other in other_conversations:
        when = ""
        if other.last_message_at:
            when = f' <span class="muted small">{_time(other.last_message_at, "SHORT_DATE_FORMAT")}</span>'
        items += (
            f'        <li><a href="{id_url("inbox:thread", other.pk)}">{esc(other.number)}</a> '
            f'<span class="badge status-{esc(other.status)}">{esc(other.get_status_display())}</span>{when}</li>\n'
        )
    items = items or f'        <li class="muted">{esc(_("None with the numbers you work."))}</li>\n'
    return f'    <ul class="contact-others">\n{items}    </ul>\n'


def _notes(conversation, contact_notes, csrf: str) -> str:
    pk = conversation.pk
    url = id_url("inbox:contact-note", pk)
    notes = "".join(
        f"        <li><p>{linebreaksbr(note.text, autoescape=True)}</p>"
        f'<span class="muted small">{esc(person(note.author) or "—")} · '
        f"{_time(note.created_at, 'SHORT_DATETIME_FORMAT')}</span></li>\n"
        for note in contact_notes
    )
    placeholder = esc(_("Seen by your team in every conversation with this customer."))
    return (
        f'    <form method="post" action="{url}" hx-post="{url}" hx-target="#contact-pane" hx-swap="outerHTML" '
        f'class="contact-note-form">\n'
        f"      {csrf}\n"
        f'      <label for="contact-note-{pk}" class="visually-hidden">{esc(_("Note about the customer"))}</label>\n'
        f'      <textarea name="text" id="contact-note-{pk}" rows="3" placeholder="{placeholder}"></textarea>\n'
        f'      <button type="submit" class="secondary small">{esc(_("Add note"))}</button>\n'
        f"    </form>\n"
        f'    <ul class="contact-notes">\n{notes}    </ul>\n'
    )
