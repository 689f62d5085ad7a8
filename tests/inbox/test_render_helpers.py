"""The tags that replace the pages' generic ones in rows and messages ({% url %}, |date,
{% blocktranslate %}, {% include %}) write exactly the markup the generic ones wrote."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from inbox.templatetags import inbox_tags

# The markup the pages wrote with the generic tags, before these helpers.
GENERIC_BADGE = (
    "{% load i18n %}"
    '{% if win.open %}<span class="badge window-open{% if win.ending_soon %} ending{% endif %}" '
    "data-expires=\"{{ win.expires_at|date:'c' }}\" "
    'title="{% blocktranslate with time=win.expires_at|date:"DATETIME_FORMAT" %}until {{ time }}'
    '{% endblocktranslate %}">'
    "{% blocktranslate with h=win.hours_left m=win.minutes_left %}window open · {{ h }} h {{ m }} min left"
    "{% endblocktranslate %}</span>"
    '{% elif win.never %}<span class="badge window-closed">{% translate "window not opened" %}</span>'
    '{% else %}<span class="badge window-closed">{% translate "window closed" %}</span>{% endif %}'
)
GENERIC_TIME = (
    '{% load inbox_tags %}<time datetime="{{ at|date:\'c\' }}" title="{{ at|date:"DATETIME_FORMAT" }}">'
    "{% if style == 'list' %}{{ at|when }}{% else %}{{ at|message_when }}{% endif %}</time>"
)
NEW_BADGE = "{% load inbox_tags %}{% window_badge win %}"
NEW_TIME = "{% load inbox_tags %}{% time_element at style %}"

EXPIRES = datetime(2026, 3, 4, 17, 5, 9, 123456, tzinfo=UTC)
WINDOWS = [
    {"open": True, "ending_soon": False, "expires_at": EXPIRES, "hours_left": 13, "minutes_left": 5, "never": False},
    {"open": True, "ending_soon": True, "expires_at": EXPIRES, "hours_left": 0, "minutes_left": 42, "never": False},
    {"open": False, "ending_soon": False, "expires_at": None, "hours_left": 0, "minutes_left": 0, "never": True},
    {"open": False, "ending_soon": False, "expires_at": EXPIRES, "hours_left": 0, "minutes_left": 0, "never": False},
]


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("win", WINDOWS)
def test_the_window_badge_is_the_generic_markup(win, zone, language):
    with translation.override(language), timezone.override(zone):
        assert render(NEW_BADGE, win=win) == render(GENERIC_BADGE, win=win)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("style", ["list", "message"])
@pytest.mark.parametrize("ago", [timedelta(0), timedelta(days=1), timedelta(days=3), timedelta(days=40)])
def test_the_time_element_is_the_generic_markup(ago, style, language):
    at = timezone.now() - ago
    with translation.override(language), timezone.override("Europe/Berlin"):
        assert render(NEW_TIME, at=at, style=style) == render(GENERIC_TIME, at=at, style=style)
        assert render(NEW_TIME, at=None, style=style) == ""


def test_iso_is_the_date_filter_c_format():
    with timezone.override("Europe/Berlin"):
        assert render("{% load inbox_tags %}{{ at|iso }}", at=EXPIRES) == render("{{ at|date:'c' }}", at=EXPIRES)
        assert render("{% load inbox_tags %}{{ at|iso }}", at=None) == ""


@pytest.mark.parametrize(("name", "ids"), [("inbox:thread", (7,)), ("inbox:react", (12, 3456)), ("inbox:index", ())])
def test_id_url_is_reverse(name, ids):
    assert inbox_tags.id_url(name, *ids) == reverse(name, args=ids)
    assert inbox_tags.id_url(name, *ids) == reverse(name, args=ids)  # from the cached pattern


def test_id_url_follows_the_script_prefix():
    try:
        set_script_prefix("/desk/")
        assert inbox_tags.id_url("inbox:thread", 7) == reverse("inbox:thread", args=[7])
        assert inbox_tags.id_url("inbox:thread", 7).startswith("/desk/")
    finally:
        set_script_prefix("/")
    assert not inbox_tags.id_url("inbox:thread", 7).startswith("/desk/")


GENERIC_REACTIONS = (
    "{% load i18n %}{% for emoji in quick_reactions %}"
    '<button type="submit" name="emoji" value="{{ emoji }}" class="emoji" '
    "title=\"{% translate 'React' %} {{ emoji }}\" "
    "aria-label=\"{% translate 'React' %} {{ emoji }}\">{{ emoji }}</button>{% endfor %}"
)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_reaction_buttons_are_the_generic_markup(language):
    emojis = ["👍", "❤️", '<"&>']
    with translation.override(language):
        new = render("{% load inbox_tags %}{% reaction_buttons quick_reactions %}", quick_reactions=emojis)
        assert new == render(GENERIC_REACTIONS, quick_reactions=emojis)


GENERIC_SNIPPET = (
    "{% load i18n inbox_tags %}"
    '{% if row.last_status == "failed" %}<span class="ticks-failed">{% translate "Not delivered" %}</span> {% endif %}'
    '{% if row.last_status == "note" %}<span class="muted">{% translate "Note:" %}</span> '
    '{% elif row.last_direction == "out" %}<span class="muted">{% translate "You:" %}</span> {% endif %}'
    '{% if row.last_type == "reaction" %}{% blocktranslate with emoji=row.last_text %}Reacted {{ emoji }}'
    "{% endblocktranslate %}{% elif row.last_text %}{{ row.last_text|truncatechars:90 }}"
    "{% elif row.last_type %}<em>{{ row.last_type|type_label }}</em>{% endif %}"
)
LONG = "Wo bleibt <mein> Paket & die Rechnung? " * 4
ROWS = [
    {"last_status": "failed", "last_direction": "out", "last_type": "text", "last_text": LONG},
    {"last_status": "note", "last_direction": "out", "last_type": "text", "last_text": "intern"},
    {"last_status": "read", "last_direction": "out", "last_type": "image", "last_text": ""},
    {"last_status": "received", "last_direction": "in", "last_type": "text", "last_text": 'Hallo "du"'},
    {"last_status": "received", "last_direction": "in", "last_type": "reaction", "last_text": "👍"},
    {"last_status": "received", "last_direction": "in", "last_type": "reaction", "last_text": None},
    {"last_status": "received", "last_direction": "in", "last_type": "voice", "last_text": None},
    {},  # a row without messages
]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("row", ROWS)
def test_the_row_snippet_is_the_generic_markup(row, language):
    row = SimpleNamespace(**row)
    with translation.override(language):
        assert render("{% load inbox_tags %}{% row_snippet row %}", row=row) == render(GENERIC_SNIPPET, row=row)


def test_label_chips_are_the_generic_markup():
    labels = ["VIP", "<b>&</b>"]
    generic = '{% for label in labels %}<span class="label-chip">{{ label }}</span>{% endfor %}'
    assert render("{% load inbox_tags %}{% label_chips labels %}", labels=labels) == render(generic, labels=labels)
    assert render("{% load inbox_tags %}{% label_chips labels %}", labels=[]) == ""


@pytest.mark.parametrize("language", ["en", "de"])
def test_local_format_writes_what_djangos_date_format_writes(language):
    """inbox_tags.local_format keeps the pieces of a format by day and by minute: the same text as
    Django's date_format, for every named format the pages use, any day (ordinals: 1st, 22nd,
    23rd, 11th), any hour (midnight, noon, a.m. and p.m.) and minute."""
    from django.utils import formats

    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    days = [
        datetime(2026, month, day, tzinfo=zone) for month in (1, 2, 3, 10, 12) for day in (1, 2, 3, 11, 21, 22, 23, 28)
    ]
    names = ["DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "DATE_FORMAT", "SHORT_DATE_FORMAT", "MONTH_DAY_FORMAT",
             "TIME_FORMAT", "D", "H:i", r"\a\t P (e)"]  # fmt: skip
    with translation.override(language), timezone.override(zone):
        for day in days:
            for hour, minute in ((0, 0), (0, 5), (9, 30), (11, 59), (12, 0), (12, 1), (13, 45), (23, 59)):
                local = day.replace(hour=hour, minute=minute, second=17, microsecond=5)
                for name in names:
                    assert inbox_tags.local_format(local, name, language) == formats.date_format(local, name), name
    # A format that needs the seconds or the zone is left to Django whole.
    assert inbox_tags._format_pieces("H:i:s") is None and inbox_tags._format_pieces("j. F Y, e") is None
