"""Who may open what: every page, API operation and websocket against every kind of caller, in
one table each.

Callers: anonymous, an agent of one number, an agent of all numbers, an admin, finance, and a
superuser; pages and sockets with the browser session, the API with a bearer token and with the
session. `{own}` is a conversation of the one-number agent's number, `{other}` one of another
number; `{msg}` a customer's message (with a file) in `{own}`, `{tpl}` an approved template of
their business account, `{pending}` a template awaiting review (written by another admin),
`{campaign}` a campaign of `{own}`'s number, `{other_campaign}` one of the other number; the
one-number agent is also tried once an admin allowed them campaigns. Pages answer 302 (to the
sign-in page) for anonymous callers and 403 for a role without the capability; a conversation
(or campaign) outside the caller's numbers is 404 (its existence is not confirmed). Every cell
runs in a savepoint rolled back afterwards, so each caller finds the same world.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpResponseForbidden
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from inbox.services import user_create_or_update
from tests.conftest import PASSWORD
from tests.conversations.conftest import bearer, receive, utc
from tests.conversations.test_send_template import GOOD, ORDER_UPDATE, _template
from tests.inbox.test_websocket import ORIGIN, session_cookie

CALLERS = ("anonymous", "agent1", "agent_all", "admin", "finance", "superuser")

#   path                                         anonymous agent1 agent_all admin finance superuser
PAGES = [
    ("/inbox/",                                    302, 200, 200, 200, 403, 200),
    ("/inbox/new/",                                302, 200, 200, 200, 403, 200),
    ("/inbox/answers/",                            302, 403, 403, 200, 403, 200),
    ("/inbox/c/{own}/",                            302, 200, 200, 200, 403, 200),
    ("/inbox/c/{other}/",                          302, 404, 200, 200, 403, 200),
    ("/inbox/c/{own}/messages/",                   302, 200, 200, 200, 403, 200),
    ("/inbox/c/{other}/messages/",                 302, 404, 200, 200, 403, 200),
    ("/inbox/c/{own}/contact/",                    302, 200, 200, 200, 403, 200),
    ("/inbox/c/{other}/contact/",                  302, 404, 200, 200, 403, 200),
    ("/inbox/c/{own}/templates/",                  302, 200, 200, 200, 403, 200),
    ("/inbox/c/{own}/m/{msg}/media/",              302, 200, 200, 200, 403, 200),
    ("/inbox/c/{other}/m/{other_msg}/media/",      302, 404, 200, 200, 403, 200),
    ("/settings/",                                 302, 200, 200, 200, 200, 200),
    ("/templates/",                                302, 403, 403, 200, 403, 200),
    ("/templates/new",                             302, 403, 403, 200, 403, 200),
    ("/templates/review/",                         302, 403, 403, 200, 403, 200),
    ("/templates/{tpl}/",                          302, 403, 403, 200, 403, 200),
    ("/templates/{pending}/edit",                  302, 403, 403, 200, 403, 200),
    ("/billing/",                                  302, 403, 403, 200, 200, 200),
    ("/billing/records/",                          302, 403, 403, 200, 200, 200),
    ("/billing/export.csv?month=2026-11",          302, 403, 403, 200, 200, 200),
    ("/campaigns/",                                302, 403, 403, 200, 403, 200),
    ("/campaigns/new/",                            302, 403, 403, 200, 403, 200),
    ("/campaigns/{campaign}/",                     302, 403, 403, 200, 403, 200),
    ("/campaigns/{campaign}/progress/",            302, 403, 403, 200, 403, 200),
    ("/campaigns/{campaign}/report.csv",           302, 403, 403, 200, 403, 200),
    ("/team/",                                     302, 403, 403, 200, 403, 200),
    ("/admin/",                                    302, 302, 302, 200, 302, 200),
    ("/admin/auth/user/",                          302, 302, 302, 200, 302, 200),
    ("/api/v1/docs",                               302, 200, 200, 200, 200, 200),
    ("/api/v1/openapi.json",                       401, 200, 200, 200, 200, 200),
]  # fmt: skip

SEND = {"text": "Hallo"}
NOTIFY = {"to": "+49 151 23456789", "template": "order_update", "language": "de", "parameters": GOOD,
          "phone_number_id": "106540352242922"}  # fmt: skip
NEW_TEMPLATE = {
    "name": "shipping_notice", "language": "en_US", "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} is on its way.",
                    "example": {"body_text": [["Anna", "#1042"]]}}],
}  # fmt: skip

#   method, path, body                                               anonymous agent1 agent_all admin finance superuser
API = [
    ("GET", "/api/v1/me", None,                                          401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/conversations", None,                               401, 200, 200, 200, 403, 200),
    ("GET", "/api/v1/conversations/{own}", None,                         401, 200, 200, 200, 403, 200),
    ("GET", "/api/v1/conversations/{other}", None,                       401, 404, 200, 200, 403, 200),
    ("GET", "/api/v1/conversations/{own}/messages", None,                401, 200, 200, 200, 403, 200),
    ("GET", "/api/v1/conversations/{other}/messages", None,              401, 404, 200, 200, 403, 200),
    ("POST", "/api/v1/conversations/{own}/messages", SEND,               401, 202, 202, 202, 403, 202),
    ("POST", "/api/v1/conversations/{other}/messages", SEND,             401, 404, 202, 202, 403, 202),
    ("POST", "/api/v1/conversations/{own}/notes", {"text": "n"},         401, 201, 201, 201, 403, 201),
    ("POST", "/api/v1/conversations/{other}/notes", {"text": "n"},       401, 404, 201, 201, 403, 201),
    ("POST", "/api/v1/conversations/{own}/assign", {"assignee": "me"},   401, 200, 200, 200, 403, 200),
    ("POST", "/api/v1/conversations/{other}/assign", {"assignee": "me"}, 401, 404, 200, 200, 403, 200),
    ("POST", "/api/v1/conversations/{own}/status", {"status": "resolved"}, 401, 200, 200, 200, 403, 200),
    ("POST", "/api/v1/conversations/{own}/read", None,                   401, 204, 204, 204, 403, 204),
    ("POST", "/api/v1/conversations/{own}/labels", {"name": "vip/a"},    401, 200, 200, 200, 403, 200),
    ("DELETE", "/api/v1/conversations/{own}/labels/vip", None,           401, 200, 200, 200, 403, 200),
    ("DELETE", "/api/v1/conversations/{other}/labels/vip", None,         401, 404, 200, 200, 403, 200),
    ("GET", "/api/v1/search?q=Hallo", None,                              401, 200, 200, 200, 403, 200),
    ("GET", "/api/v1/templates", None,                                   401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/templates/{tpl}", None,                             401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/templates/{pending}", None,                         401, 404, 404, 200, 200, 200),
    ("POST", "/api/v1/templates", NEW_TEMPLATE,                          401, 403, 403, 201, 403, 201),
    ("POST", "/api/v1/templates/{pending}/approve", None,                401, 403, 403, 200, 403, 200),
    ("POST", "/api/v1/templates/{pending}/reject", {"reason": "No."},    401, 403, 403, 200, 403, 200),
    ("GET", "/api/v1/billing/summary?month=2026-11", None,               401, 403, 403, 200, 200, 200),
    ("GET", "/api/v1/billing/records?month=2026-11", None,               401, 403, 403, 200, 200, 200),
    ("POST", "/api/v1/billing/quote", {"conversation_id": "{own}"},      401, 403, 403, 200, 200, 200),
    ("POST", "/api/v1/notifications", NOTIFY,                            401, 202, 202, 202, 403, 202),
    ("GET", "/api/v1/notifications/999999", None,                        401, 404, 404, 404, 403, 404),
    ("POST", "/api/v1/callbacks", {"url": "https://erp.example/hook"},   401, 201, 201, 201, 403, 201),
    ("GET", "/api/v1/callbacks", None,                                   401, 200, 200, 200, 403, 200),
    ("DELETE", "/api/v1/callbacks/999999", None,                         401, 404, 404, 404, 403, 404),
]  # fmt: skip

# The sockets, with the session: True is accepted, a number the close code it was refused with.
#   path                                         anonymous agent1 agent_all admin finance superuser
SOCKETS = [
    ("/ws/inbox/",                                 4401, True, True, True, 4401, True),
    ("/ws/campaigns/{campaign}/",                  4401, 4401, 4401, True, 4401, True),
]  # fmt: skip

# The one-number agent once an admin allowed them campaigns (the team page's checkbox): their
# number's campaign opens, another number's is 404 as in the inbox (its socket closed with 4404).
#   path                                         agent1 allowed campaigns
CAMPAIGNER = [
    ("/campaigns/",                                200),
    ("/campaigns/new/",                            200),
    ("/campaigns/{campaign}/",                     200),
    ("/campaigns/{campaign}/progress/",            200),
    ("/campaigns/{campaign}/report.csv",           200),
    ("/campaigns/{other_campaign}/",               404),
    ("/campaigns/{other_campaign}/progress/",      404),
    ("/campaigns/{other_campaign}/report.csv",     404),
    ("/ws/campaigns/{campaign}/",                  True),
    ("/ws/campaigns/{other_campaign}/",            4404),
]  # fmt: skip

# What an accepted /ws/inbox/ socket hears of a number's events: True heard, False not.
#   number                                       agent1 agent_all admin superuser
HEARS = [
    ("own",                                        True, True, True, True),
    ("other",                                      False, True, True, True),
]  # fmt: skip


def _world(number, other_number, agent, admin_user, finance) -> tuple[dict, dict]:
    from campaigns import services as campaigns
    from templates_app import services as templates

    # The customers wrote an hour ago: their windows are open whenever the test runs.
    wrote = timezone.now() - timedelta(hours=1)
    own_message = receive(number, at=wrote)
    other_message = receive(other_number, at=wrote, wa_id="4915199999999")
    for message in (own_message, other_message):
        message.media_file.save("photo.jpg", ContentFile(b"\xff\xd8\xff"), save=False)
        message.media_mime_type = "image/jpeg"
        message.save(update_fields=["media_file", "media_mime_type"])
    approved = _template(
        number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named"
    )
    author = user_create_or_update(username="rita", role="admin", password=PASSWORD)
    pending = templates.template_create(
        author=author,
        waba_id=number.waba_id,
        data=dict(NEW_TEMPLATE, name="pending_notice"),
        now=utc(2026, 11, 30),
        submit=True,
    )
    rows = [campaigns.Row(phone="+4915140000001", values={"first_name": "K", "order_id": "1", "button_0": "1"})]
    campaign = campaigns.campaign_create(
        name="Matrix", number=number, template="order_update", language="de", created_by=admin_user, rows=rows
    )
    other_campaign = campaigns.campaign_create(
        name="Elsewhere", number=other_number, template="order_update", language="de", created_by=admin_user, rows=rows
    )
    callers = {
        "anonymous": None,
        "agent1": agent,
        "agent_all": user_create_or_update(username="allie", role="agent", password=PASSWORD, number_ids=[]),
        "admin": admin_user,
        "finance": finance,
        "superuser": get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD),
    }
    ids = {
        "own": own_message.conversation_id,
        "other": other_message.conversation_id,
        "msg": own_message.pk,
        "other_msg": other_message.pk,
        "tpl": approved.pk,
        "pending": pending.pk,
        "campaign": campaign.pk,
        "other_campaign": other_campaign.pk,
    }
    return ids, callers


@pytest.fixture
def world(number, other_number, agent, admin_user, finance, settings):
    settings.API_DOCS_PUBLIC = False  # as in production: the API's documents need a sign-in too
    return _world(number, other_number, agent, admin_user, finance)


def _cells(table, width: int = 1):
    for row in table:
        key, expected = row[:width], row[width:]
        yield from ((*key, caller, status) for caller, status in zip(CALLERS, expected, strict=True))


def _filled(value, ids: dict):
    """The table's placeholders replaced, in paths and in bodies."""
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


def _undone(request):
    """One cell's request, rolled back afterwards: the next caller finds the same world."""
    with transaction.atomic():
        response = request()
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
def test_pages_with_the_session(world):
    ids, callers = world
    wrong = []
    for path, caller, expected in _cells(PAGES):
        client = Client()
        if callers[caller] is not None:
            client.force_login(callers[caller])
        got = _undone(lambda: client.get(path.format(**ids))).status_code  # noqa: B023  (called at once)
        if got != expected:
            wrong.append((path, caller, expected, got))
    assert wrong == [], f"{len(wrong)} of {len(PAGES) * len(CALLERS)} cells differ: {wrong}"


@pytest.mark.django_db
@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_with_a_token_and_with_the_session(world, auth):
    ids, callers = world
    wrong = []
    for method, path, body, caller, expected in _cells(API, width=3):
        client, headers = Client(), {}
        user = callers[caller]
        if user is not None and auth == "token":
            headers = bearer(user)
        elif user is not None:
            client.force_login(user)
        send = getattr(client, method.lower())
        data = {"data": _filled(body, ids), "content_type": "application/json"} if body is not None else {}
        response = _undone(lambda: send(path.format(**ids), **data, **headers))  # noqa: B023  (called at once)
        if response.status_code != expected:
            wrong.append((method, path, caller, expected, response.status_code, response.content[:200]))
        elif expected >= 400:
            assert response.json()["error"]["code"], (method, path, caller)
    assert wrong == [], f"{len(wrong)} of {len(API) * len(CALLERS)} cells differ"


async def _socket(client, user, path: str) -> tuple[WebsocketCommunicator, bool | int]:
    headers = [ORIGIN]
    if user is not None:
        headers.append(await sync_to_async(session_cookie)(client, user))
    communicator = WebsocketCommunicator(_asgi_application(), path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, True if connected else code


def _asgi_application():
    from config.asgi import application

    return application


@pytest.mark.django_db(transaction=True)
async def test_sockets_with_the_session(number, other_number, agent, admin_user, finance):
    from core import groups

    ids, callers = await sync_to_async(_world)(number, other_number, agent, admin_user, finance)
    wrong, opened = [], {}
    for path, caller, expected in _cells(SOCKETS):
        communicator, got = await _socket(Client(), callers[caller], path.format(**ids))
        if got != expected:
            wrong.append((path, caller, expected, got))
        if got is True and path == "/ws/inbox/":
            opened[caller] = communicator
        else:
            await communicator.disconnect()
    layer = get_channel_layer()
    numbers = {"own": number.pk, "other": other_number.pk}
    for which, *expected in HEARS:
        payload = {"type": "matrix.ping", "number": which}
        await layer.group_send(groups.number(numbers[which]), {"type": "inbox.event", "payload": payload})
        for caller, hears in zip(("agent1", "agent_all", "admin", "superuser"), expected, strict=True):
            heard = not await opened[caller].receive_nothing(timeout=0.5)
            if heard:
                assert await opened[caller].receive_json_from(timeout=1) == payload
            if heard != hears:
                wrong.append(("hears", which, caller, hears, heard))
    for communicator in opened.values():
        await communicator.disconnect()
    assert wrong == [], f"{len(wrong)} of {len(SOCKETS) * len(CALLERS) + len(HEARS) * 4} cells differ"


@pytest.mark.django_db(transaction=True)
async def test_an_agent_allowed_campaigns_reaches_only_their_numbers_campaigns(
    number, other_number, agent, admin_user, finance
):
    from inbox.services import user_campaigns_allow

    ids, _callers = await sync_to_async(_world)(number, other_number, agent, admin_user, finance)
    await sync_to_async(user_campaigns_allow)(user=agent, allowed=True)
    wrong = []
    for path, expected in CAMPAIGNER:
        path = path.format(**ids)
        if path.startswith("/ws/"):
            communicator, got = await _socket(Client(), agent, path)
            if got is True and await communicator.receive_nothing(timeout=0.5) is False:
                output = await communicator.receive_output(timeout=1)
                got = output.get("code", True) if output["type"] == "websocket.close" else True
            await communicator.disconnect()
        else:
            client = Client()
            await sync_to_async(client.force_login)(agent)
            got = (await sync_to_async(client.get)(path)).status_code
        if got != expected:
            wrong.append((path, expected, got))
    assert wrong == [], f"{len(wrong)} of {len(CAMPAIGNER)} cells differ: {wrong}"


# --- CSRF: every form of the site refuses a post without the token --------------------------------

# Answer the CSRF middleware's refusals recognisably, apart from a view's own 403.
CSRF_REFUSED = "X-Refused-By-Csrf"


def csrf_refused(request, reason=""):
    response = HttpResponseForbidden(reason)
    response[CSRF_REFUSED] = "yes"
    return response


# Posts that need no CSRF token, and why: Meta signs the webhook (HMAC of the body); the API's
# operations check CSRF themselves for session callers (a bearer token is not sent by browsers).
CSRF_EXEMPT = {"webhooks/whatsapp/"}


def _site_paths(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _site_paths(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _url_for(route: str, ids: dict) -> str:
    for placeholder, value in (
        ("<int:pk>", ids["own"]), ("<int:message_pk>", ids["msg"]), ("<int:version_id>", ids["pending_version"]),
    ):  # fmt: skip
        route = route.replace(placeholder, str(value))
    return "/" + route


@pytest.mark.django_db
def test_every_form_refuses_a_post_without_the_csrf_token(world, settings):
    """Every route of the site (the API apart), posted to by a signed-in superuser from another
    site: the CSRF check refuses each before its view runs. A new form cannot forget it."""
    from templates_app.models import Template

    settings.CSRF_FAILURE_VIEW = "tests.test_access_matrix.csrf_refused"
    ids, callers = world
    ids["pending_version"] = Template.objects.get(pk=ids["pending"]).current_version_id
    client = Client(enforce_csrf_checks=True)
    client.force_login(callers["superuser"])
    posted, wrong = 0, []
    for route, view in _site_paths(get_resolver().url_patterns):
        if route.startswith("api/v1/") or route in CSRF_EXEMPT or route.startswith("admin/"):
            continue
        url = _url_for(route, ids)
        if "<" in url:  # a route this test cannot fill in yet
            wrong.append(("unfilled", route))
            continue
        posted += 1
        response = client.post(url, {"text": "x"})
        if response.get(CSRF_REFUSED) != "yes":
            wrong.append((route, getattr(view, "__name__", view), response.status_code))
    # Django's admin: its forms are CSRF-protected the same way (one of each kind suffices).
    for path in ("/admin/auth/user/add/", f"/admin/auth/user/{callers['agent1'].pk}/password/", "/admin/logout/"):
        posted += 1
        if client.post(path, {}).get(CSRF_REFUSED) != "yes":
            wrong.append((path, "admin", None))
    assert posted > 40 and wrong == [], wrong


@pytest.mark.django_db
def test_api_writes_with_the_session_need_the_csrf_token(world):
    """A signed-in browser cannot be made to write through the API from another site either;
    the same writes with a bearer token need no CSRF token (browsers never send one by themselves)."""
    ids, callers = world
    writes = [(method, path, body) for method, path, body, *_ in API if method != "GET"]
    session = Client(enforce_csrf_checks=True)
    session.force_login(callers["superuser"])
    token = Client(enforce_csrf_checks=True)
    wrong = []
    for method, path, body in writes:
        data = {"data": _filled(body, ids), "content_type": "application/json"} if body is not None else {}
        refused = _undone(lambda: getattr(session, method.lower())(path.format(**ids), **data))  # noqa: B023
        if refused.status_code != 403 or "CSRF" not in refused.json()["error"]["message"]:
            wrong.append((method, path, "session", refused.status_code, refused.content[:200]))
        accepted = _undone(
            lambda: getattr(token, method.lower())(path.format(**ids), **data, **bearer(callers["superuser"]))  # noqa: B023
        )
        if accepted.status_code in (401, 403):
            wrong.append((method, path, "token", accepted.status_code, accepted.content[:200]))
    assert len(writes) > 15 and wrong == [], wrong


@pytest.mark.django_db
def test_someone_without_admin_access_gets_the_apps_403_not_a_second_sign_in_form(world):
    _ids, callers = world
    for caller in ("agent1", "finance"):
        client = Client()
        client.force_login(callers[caller])
        response = client.get("/admin/", follow=True)
        assert response.status_code == 403, caller
        assert b"id_password" not in response.content
    admin = Client()
    admin.force_login(callers["admin"])
    assert admin.get("/admin/").status_code == 200


def test_the_browsers_favicon_request_finds_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
