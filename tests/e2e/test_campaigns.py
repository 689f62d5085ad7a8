"""A small campaign in a real Chromium over real HTTP: an admin uploads a CSV, reads the dry
run, starts it, watches the progress bar move as the simulator (as Meta) reports deliveries
and reads, and downloads the report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.conversations.test_send_template import ORDER_UPDATE, _template
from tests.e2e.test_template_flow import sign_in
from tests.simulator.helpers import wait_for

pytestmark = pytest.mark.e2e

RECIPIENTS = 12


def _csv() -> bytes:
    lines = ["phone,name,first_name,order_id,button_0"]
    lines += [
        f"+49151300000{index:02d},Kunde {index},K{index},{1000 + index},{1000 + index}" for index in range(RECIPIENTS)
    ]
    lines.append("not a number,Niemand,X,1,1")
    return ("\n".join(lines) + "\n").encode()


def test_an_admin_runs_a_campaign_from_upload_to_report(live_asgi, live_simulator, browser, number, admin_user):
    simulator = live_simulator(status_delay=0.8, auto_read=True)
    _template(number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named")

    page = sign_in(browser, live_asgi, admin_user.username)
    page.goto(f"{live_asgi}/campaigns/new/")
    page.fill("#id_name", "Paketstatus")
    page.select_option("#id_number", str(number.pk))
    page.select_option("#id_template", "order_update|de")
    page.set_input_files("#id_csv_file", files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": _csv()}])
    page.click(".cmp-form button[type=submit]")

    dry_run = page.locator("#dry-run")
    expect(dry_run).to_contain_text(f"{RECIPIENTS} recipients")
    expect(dry_run).to_contain_text("1 invalid numbers")
    expect(dry_run.locator("[data-total]")).not_to_be_empty()

    page.click("button[name=action][value=start]")
    read = page.locator('#cmp-progress [data-count="read"]')
    expect(page.locator("#cmp-progress")).to_be_visible()
    seen = {int(read.inner_text())}
    # The bar follows Meta's statuses as they arrive (htmx polls the progress every second).
    for _ in range(60):
        seen.add(int(read.inner_text()))
        if RECIPIENTS in seen:
            break
        page.wait_for_timeout(500)
    assert RECIPIENTS in seen and min(seen) < RECIPIENTS, seen  # it moved, and it arrived
    width = page.locator("#cmp-progress .seg.read").evaluate("el => el.style.width")
    assert width == "100%"
    assert len([s for s in simulator.sent if s["type"] == "template"]) == RECIPIENTS

    campaign = wait_for(lambda: Campaign.objects.filter(name="Paketstatus", state="done").first(), what="done")
    page.reload()
    expect(page.locator("h1")).to_contain_text("done")
    report = page.request.get(f"{live_asgi}/campaigns/{campaign.pk}/report.csv")
    lines = report.text().strip().splitlines()
    assert report.status == 200 and len(lines) == RECIPIENTS + 1
    assert all(",read," in line for line in lines[1:])
