"""GET|POST /api/v1/templates, approve and reject: status codes and shapes (DESIGN.md)."""

from __future__ import annotations

import pytest

from inbox.services import api_token_create
from templates_app.models import Template

from .conftest import ORDER_UPDATE, SHIPPING, WABA, created, tpl

pytestmark = pytest.mark.django_db


def bearer(user):
    _token, raw = api_token_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, path, body, user):
    return client.post(path, body, content_type="application/json", **bearer(user))


def test_post_takes_metas_json_and_answers_201(client, admin_user, number):
    response = post(client, "/api/v1/templates", tpl(ORDER_UPDATE), admin_user)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "in_review" and body["name"] == "order_update" and body["waba_id"] == WABA
    assert body["parameter_format"] == "named" and body["components"] == ORDER_UPDATE["components"]
    assert [e["kind"] for e in body["history"]] == ["submitted", "created"]
    assert body["warnings"][0]["field"] == "buttons"  # quick reply mixed with a URL button


def test_post_lists_every_problem_with_its_field(client, admin_user, number):
    bad = tpl(SHIPPING, name="Bad Name", components=[{"type": "BODY", "text": "{{1}}{{2}}"}])
    response = post(client, "/api/v1/templates", bad, admin_user)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {"name", "body"} <= {p["field"] for p in error["problems"]}
    assert all(set(p) == {"field", "message"} for p in error["problems"])


def test_agents_and_finance_may_not_write(client, agent, finance, number):
    for user in (agent, finance):
        response = post(client, "/api/v1/templates", tpl(SHIPPING), user)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_approve_is_for_another_admin(
    client, admin_user, reviewer, agent, settings, make_sim, django_capture_on_commit_callbacks
):
    sim = make_sim(auto_review_templates=False)
    settings.WHATSAPP_GRAPH_URL, settings.WHATSAPP_ACCESS_TOKEN = sim.url, "test-access-token"
    template = created(admin_user)
    path = f"/api/v1/templates/{template.pk}/approve"
    own = post(client, path, {}, admin_user)
    assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
    assert post(client, path, {}, agent).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        approved = post(client, path, {}, reviewer)
    assert approved.status_code == 200
    detail = client.get(f"/api/v1/templates/{template.pk}", **bearer(reviewer)).json()
    assert detail["status"] == "pending" and detail["meta_status"] == "PENDING"
    assert detail["versions"][0]["reviewer"]["username"] == "rita"
    assert sim.find_template(name="shipping_notice")["status"] == "PENDING"
    again = post(client, path, {}, reviewer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"


def test_reject_with_a_reason(client, admin_user, reviewer):
    template = created(admin_user)
    path = f"/api/v1/templates/{template.pk}/reject"
    assert post(client, path, {}, reviewer).status_code == 422
    assert post(client, path, {"reason": ""}, reviewer).json()["error"]["problems"][0]["field"] == "reason"
    response = post(client, path, {"reason": "Name the shop."}, reviewer)
    assert response.status_code == 200
    assert response.json()["status"] == "rejected_internally"
    assert response.json()["versions"][0]["reject_reason"] == "Name the shop."


def test_detail_has_metas_reason_recommendation_quality_category_and_history(client, admin_user):
    template = created(admin_user)
    Template.objects.filter(pk=template.pk).update(
        meta_status="REJECTED",
        meta_reason="INVALID_FORMAT",
        meta_reason_detail="Adjacent parameters.",
        meta_recommendation="Add text between them.",
        quality="YELLOW",
    )
    body = client.get(f"/api/v1/templates/{template.pk}", **bearer(admin_user)).json()
    assert (body["reason"], body["reason_detail"], body["recommendation"]) == (
        "INVALID_FORMAT",
        "Adjacent parameters.",
        "Add text between them.",
    )
    assert (body["quality"], body["category"]) == ("YELLOW", "UTILITY")
    assert body["history"][0]["actor"]["username"] == "ada"
    assert client.get("/api/v1/templates/999999", **bearer(admin_user)).status_code == 404


def test_the_list_admins_all_agents_usable_finance_reads(client, admin_user, agent, finance):
    draft = created(admin_user, submit=False)
    usable = created(admin_user, tpl(SHIPPING, name="usable_one"))
    version = usable.current_version
    Template.objects.filter(pk=usable.pk).update(meta_status="APPROVED", sending_version=version)
    version.state = "approved"
    version.save()
    names = lambda user: [t["name"] for t in client.get("/api/v1/templates", **bearer(user)).json()["items"]]  # noqa: E731
    assert names(admin_user) == ["shipping_notice", "usable_one"]
    assert names(finance) == ["shipping_notice", "usable_one"]
    assert names(agent) == ["usable_one"]
    assert client.get(f"/api/v1/templates/{draft.pk}", **bearer(agent)).status_code == 404
    filtered = client.get("/api/v1/templates?status=draft", **bearer(admin_user)).json()["items"]
    assert [t["name"] for t in filtered] == ["shipping_notice"]
    page = client.get("/api/v1/templates?limit=1", **bearer(admin_user)).json()
    rest = client.get(f"/api/v1/templates?limit=1&cursor={page['next']}", **bearer(admin_user)).json()
    assert [t["name"] for t in page["items"] + rest["items"]] == ["shipping_notice", "usable_one"]
    assert rest["next"] is None
    assert client.get("/api/v1/templates").status_code == 401


def test_the_openapi_document_describes_the_endpoints(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/templates" in schema["paths"]
    assert "/api/v1/templates/{template_id}/approve" in schema["paths"]
    create = schema["paths"]["/api/v1/templates"]["post"]
    assert "201" in create["responses"] and "422" in create["responses"]


def test_agents_see_only_templates_of_the_accounts_they_work(client, admin_user, agent):
    usable = created(admin_user)
    version = usable.current_version
    version.state = "approved"
    version.save()
    Template.objects.filter(pk=usable.pk).update(meta_status="APPROVED", sending_version=version)
    # `agent` works `number` (WABA 102290129340398); move the template to another account.
    assert [t["name"] for t in client.get("/api/v1/templates", **bearer(agent)).json()["items"]] == ["shipping_notice"]
    Template.objects.filter(pk=usable.pk).update(waba_id="999")
    assert client.get("/api/v1/templates", **bearer(agent)).json()["items"] == []
    assert client.get(f"/api/v1/templates/{usable.pk}", **bearer(agent)).status_code == 404
