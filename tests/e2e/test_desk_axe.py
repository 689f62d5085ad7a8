"""axe-core (WCAG 2.1 A/AA) on every page of every role, at desktop and phone width, in English and German."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_desk_inbox import sign_in
from tests.e2e.test_inbox_live import customer_writes

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def axe_violations(page) -> list[str]:
    page.evaluate(AXE)  # not a script tag: the pages' Content-Security-Policy refuses inline scripts
    result = page.evaluate(
        """async () => {
            const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations.map(v => v.id + ": " + v.nodes.map(
                n => n.target.join(" ") + " (" + (n.any[0] && n.any[0].message || "") + ")"
            ).slice(0, 8).join(" | "));
        }"""
    )
    return result


def pages_of(page, base: str, extra: list[str]) -> list[str]:
    page.goto(f"{base}/settings/")
    links = page.eval_on_selector_all("header.top nav a", "links => links.map(a => a.getAttribute('href'))")
    return [link for link in links if not link.startswith("/admin/")] + ["/settings/", *extra]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["agent", "admin_user", "finance"])
def test_every_page_has_no_axe_violations(live_asgi, browser, role, width, request, number):
    user = request.getfixturevalue(role)
    conversation = customer_writes(number, "Hallo, eine Frage zur Rechnung").conversation
    closed = customer_writes(number, "Alte Frage", wa_id="4915100000099", name="Olaf", hours_ago=30).conversation
    found = {}
    for language in ("en-US", "de-DE"):
        context = browser.new_context(locale=language, timezone_id="Europe/Berlin")
        page = context.new_page()
        page.set_default_timeout(10_000)
        w, h = WIDTHS[width]
        page.set_viewport_size({"width": w, "height": h})
        page.goto(f"{live_asgi}/login/")
        found[f"{language} /login/"] = axe_violations(page)
        sign_in(page, live_asgi, user)
        extra = ["/no-such-page/"]
        if user.has_perm("inbox.work_inbox"):
            extra += [
                f"/inbox/c/{conversation.pk}/",
                f"/inbox/c/{closed.pk}/",
                f"/inbox/c/{conversation.pk}/contact/",
                "/inbox/new/",
                "/inbox/?sort=closing",
            ]
        else:
            extra += ["/inbox/"]  # 403 page
        for path in pages_of(page, live_asgi, extra):
            page.goto(f"{live_asgi}{path}")
            found[f"{language} {path}"] = axe_violations(page)
        context.close()
    failing = {where: v for where, v in found.items() if v}
    assert not failing, failing
