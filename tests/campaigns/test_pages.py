"""Campaign pages: admins only; the new-campaign flow from a CSV to the dry run, start, the
progress partial, and the report CSV."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
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
