"""Every page the demo users reach by following links (the demo data of `make run`), in English
and German, at desktop and phone width: axe-core finds no WCAG 2.1 A/AA violation, no page
is wider than a phone's screen, and the Content-Security-Policy refuses nothing on any of them
(no inline script, no eval).

The pages are found by following the app's own links from the nav, so a page added later is
checked without being listed here; pages of the same shape (one campaign, one thread) are
checked a few times, not once per row.
"""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.e2e.test_desk_axe import AXE, WIDTHS

pytestmark = pytest.mark.e2e

PASSWORDS = {"agent": "agent-demo-2026", "admin": "admin-demo-2026", "finance": "finance-demo-2026"}
SKIP = re.compile(r"^/(admin|logout|i18n|static|media|ws|api|webhooks)/|\.csv|/media/|#")
SAME_SHAPE = 2  # pages per path shape (digits made N, query keys kept)
MOST = 45


def _shape(href: str) -> str:
    parts = urlsplit(href)
    keys = sorted(pair.split("=")[0] for pair in parts.query.split("&") if pair)
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def _links(page) -> list[str]:
    return page.eval_on_selector_all(
        "a[href^='/']", "links => links.map(a => a.getAttribute('href')).filter(h => !h.startsWith('//'))"
    )


def _crawl(page, base: str, start: list[str]) -> list[str]:
    seen_shapes: dict[str, int] = {}
    queue, pages = list(start), []
    while queue and len(pages) < MOST:
        href = queue.pop(0)
        if SKIP.search(href) or href in pages:
            continue
        shape = _shape(href)
        if seen_shapes.get(shape, 0) >= SAME_SHAPE:
            continue
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        pages.append(href)
        response = page.goto(f"{base}{href}")
        assert response.status < 500, f"{href}: {response.status}"
        queue += [link for link in _links(page) if link not in pages]
    return pages


def _violations(page) -> list[str]:
    page.evaluate(AXE)  # not a script tag: the pages' Content-Security-Policy refuses inline scripts
    return page.evaluate(
        """async () => {
            const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).slice(0, 5).join(" | "));
        }"""
    )


def _note_refusal(text: str, refused: list[str]) -> None:
    if "Content Security Policy" in text:
        refused.append(text)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ["agent", "admin", "finance"])
def test_every_linked_page_passes_axe_and_fits_the_screen(live_asgi, browser, username, width):
    call_command("seed_demo", stdout=StringIO())
    w, h = WIDTHS[width]
    problems: dict[str, object] = {}
    checked = 0
    for language in ("en-US", "de-DE"):
        context = browser.new_context(locale=language, timezone_id="Europe/Berlin", viewport={"width": w, "height": h})
        page = context.new_page()
        page.set_default_timeout(15_000)
        refused: list[str] = []
        page.on("console", lambda message, refused=refused: _note_refusal(message.text, refused))
        page.goto(f"{live_asgi}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORDS[username])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        start = [urlsplit(page.url).path, "/settings/", "/no-such-page/", "/admin/"]
        for href in _crawl(page, live_asgi, start):
            page.goto(f"{live_asgi}{href}")
            checked += 1
            found = _violations(page)
            if found:
                problems[f"{language} {href}"] = found
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > w:
                problems[f"{language} {href} width"] = wide
            if refused:
                problems[f"{language} {href} CSP"] = list(refused)
                refused.clear()
        context.close()
    print(f"{username} {width}: {checked} pages checked")
    assert checked >= 6, checked
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
