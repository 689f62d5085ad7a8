"""Campaign pages: admins, and agents an admin allowed (only their numbers' campaigns); the
new-campaign flow from a CSV to the dry run, start, the progress partial, and the report CSV."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
from inbox.services import user_campaigns_allow
from tests.campaigns.test_campaigns import CSV, make
from tests.conftest import PASSWORD


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "finance"])
def test_agents_and_finance_get_403(client, who, request, number, admin_user, order_update):
    campaign = make(number, admin_user)
    signed_in(client, request.getfixturevalue(who))
    for url in ("/campaigns/", "/campaigns/new/", f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/report.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/campaigns/{campaign.pk}/action/", {"action": "start"}).status_code == 403


@pytest.mark.django_db
def test_signed_out_is_sent_to_login(client):
    response = client.get("/campaigns/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_an_admin_uploads_sees_the_dry_run_starts_and_downloads_the_report(
    client, admin_user, number, order_update, fake_client, django_capture_on_commit_callbacks
):
    signed_in(client, admin_user)
    page = client.get("/campaigns/new/")
    assert page.status_code == 200 and b"order_update" in page.content
    upload = SimpleUploadedFile("list.csv", CSV.encode(), content_type="text/csv")
    response = client.post(
        "/campaigns/new/",
        {"name": "Parcels", "number": number.pk, "template": "order_update|de", "csv_file": upload},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert "Dry run" in detail and "invalid numbers" in detail and 'data-total="' in detail
    assert client.get("/campaigns/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/campaigns/{campaign.pk}/action/", {"action": "start"})
    campaign.refresh_from_db()
    assert campaign.state == "done" and len(fake_client.sent) == 3
    partial = client.get(f"/campaigns/{campaign.pk}/progress/").content.decode()
    assert 'data-count="sent">3<' in partial
    report = client.get(f"/campaigns/{campaign.pk}/report.csv")
    lines = b"".join(report.streaming_content).decode().strip().splitlines()
    assert lines[0].startswith("phone,name,state") and len(lines) == 4
    assert all(",sent," in line for line in lines[1:])


@pytest.mark.django_db
def test_the_form_says_what_to_fix(client, admin_user, number, order_update):
    signed_in(client, admin_user)
    response = client.post("/campaigns/new/", {"name": "x", "number": number.pk, "template": "order_update|de"})
    assert response.status_code == 200 and "Upload a CSV file or choose a label" in response.content.decode()
    upload = SimpleUploadedFile("list.csv", b"name\nA\n", content_type="text/csv")
    response = client.post(
        "/campaigns/new/", {"name": "x", "number": number.pk, "template": "order_update|de", "csv_file": upload}
    )
    assert "phone" in response.content.decode() and not Campaign.objects.exists()


def _pages(campaign) -> list[str]:
    pk = campaign.pk
    return [f"/campaigns/{pk}/", f"/campaigns/{pk}/progress/", f"/campaigns/{pk}/report.csv"]


@pytest.mark.django_db
def test_an_agent_an_admin_allowed_opens_the_campaign_pages(client, agent, number, admin_user, order_update):
    campaign = make(number, admin_user)
    user_campaigns_allow(user=agent, allowed=True)
    signed_in(client, agent)
    home = client.get("/inbox/").content.decode()
    assert 'href="/campaigns/"' in home  # the navigation offers the page
    for url in ("/campaigns/", "/campaigns/new/", *_pages(campaign)):
        assert client.get(url).status_code == 200, url
    response = client.post(f"/campaigns/{campaign.pk}/action/", {"action": "cancel"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == "cancelled"


@pytest.mark.django_db
def test_without_the_grant_the_navigation_has_no_campaigns(client, agent):
    signed_in(client, agent)
    assert 'href="/campaigns/"' not in client.get("/inbox/").content.decode()


@pytest.mark.django_db
def test_finance_never_runs_campaigns_even_with_a_grant_left_on_the_user(client, finance, number, admin_user):
    # The team page drops the grant with any other role; a permission set another way still
    # does not count for finance.
    from django.contrib.auth.models import Permission

    finance.user_permissions.add(Permission.objects.get(content_type__app_label="inbox", codename="run_campaigns"))
    signed_in(client, finance)
    assert client.get("/campaigns/").status_code == 403
    assert 'href="/campaigns/"' not in client.get("/billing/").content.decode()


@pytest.mark.django_db
def test_an_agent_of_one_number_sees_and_starts_only_that_numbers_campaigns(
    client, agent, number, other_number, admin_user, order_update
):
    ours, theirs = make(number, admin_user), make(other_number, admin_user)
    theirs.name = "Elsewhere"
    theirs.save(update_fields=["name"])
    user_campaigns_allow(user=agent, allowed=True)
    signed_in(client, agent)

    listing = client.get("/campaigns/").content.decode()
    assert f"/campaigns/{ours.pk}/" in listing and f"/campaigns/{theirs.pk}/" not in listing
    assert "Elsewhere" not in listing
    form = client.get("/campaigns/new/").content.decode()
    assert f'value="{number.pk}"' in form and f'value="{other_number.pk}"' not in form
    upload = SimpleUploadedFile("list.csv", CSV.encode(), content_type="text/csv")
    refused = client.post(
        "/campaigns/new/",
        {"name": "Sneaky", "number": other_number.pk, "template": "order_update|de", "csv_file": upload},
    )
    assert refused.status_code == 200 and not Campaign.objects.filter(name="Sneaky").exists()

    for url in _pages(theirs):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/campaigns/{theirs.pk}/action/", {"action": "cancel"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state != "cancelled"
    for url in _pages(ours):
        assert client.get(url).status_code == 200, url

    # Admins see every number's campaigns.
    signed_in(client, admin_user)
    listing = client.get("/campaigns/").content.decode()
    assert f"/campaigns/{ours.pk}/" in listing and f"/campaigns/{theirs.pk}/" in listing
    assert client.get(f"/campaigns/{theirs.pk}/").status_code == 200


@pytest.mark.django_db
def test_numbers_and_prices_read_as_elsewhere_in_the_app(client, admin_user, number, order_update):
    campaign = make(number, admin_user)
    signed_in(client, admin_user)
    listing = client.get("/campaigns/").content.decode()
    assert "Support DE · +49 30 1234567" in listing and "49301234567" not in listing
    assert "Support DE · +49 30 1234567" in client.get("/campaigns/new/").content.decode()
    detail = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "from Support DE · +49 30 1234567" in detail
    prices = detail.split('id="dry-run"')[1].split("</table>")[0]
    assert not re.search(r"\d\.\d{5,}", prices), prices  # no 0.055000
