"""The app's own 404 page in every mode, and expected refusals logged as one line."""

from __future__ import annotations

import logging
import sys

import pytest


@pytest.fixture
def debug_on(settings):
    # As under `make run`: DEBUG keeps Django's traceback page for 500s.
    settings.DEBUG = True


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/no-such-page/", "/inbox/c/999999/"])
def test_a_404_shows_the_apps_page_even_with_debug_on(client, agent, debug_on, path):
    client.force_login(agent)
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in html and "Go to your page" in html
    assert "URLconf" not in html and "Using the URLconf" not in html  # Django's technical 404 lists every URL


@pytest.mark.django_db
def test_a_404_for_someone_signed_out_is_the_apps_page_too(client, debug_on):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.content.decode()


def _request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_an_expected_403_is_logged_as_one_line_without_a_traceback(client, agent, caplog):
    client.force_login(agent)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/billing/")  # finance's page: the app's 403 for an agent
    assert response.status_code == 403
    (record,) = _request_records(caplog)
    assert record.getMessage() == "Forbidden (Permission denied): /billing/"
    assert record.exc_info is None and record.exc_text is None
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_a_404_is_logged_without_a_traceback(client, agent, caplog):
    client.force_login(agent)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/inbox/c/999999/").status_code == 404
    assert _request_records(caplog) and all(r.exc_info is None for r in _request_records(caplog))
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_a_500_keeps_its_traceback(client, agent, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the list")

    monkeypatch.setattr("inbox.queries.conversation_list", broken)
    client.force_login(agent)
    client.raise_request_exception = False
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/inbox/").status_code == 500
    (record,) = _request_records(caplog)
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "Traceback" in caplog.text and "a bug in the list" in caplog.text


def test_the_console_drops_tracebacks_of_client_errors_from_any_logger():
    """django.security's 400s (a disallowed host, say) carry exc_info too; the console shows one line."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    try:
        raise ValueError("Invalid HTTP_HOST header")
    except ValueError:
        exc_info = sys.exc_info()
    client_error = logging.LogRecord("django.security.DisallowedHost", logging.ERROR, "", 1, "bad host", (), exc_info)
    client_error.status_code = 400
    server_error = logging.LogRecord("django.request", logging.ERROR, "", 1, "boom", (), exc_info)
    server_error.status_code = 500
    assert handler.filter(client_error) and handler.format(client_error).endswith("bad host")
    assert handler.filter(server_error) and "Traceback" in handler.format(server_error)


def test_djangos_records_are_printed_once_by_the_root_console():
    # Django's default "django" handlers (a console in DEBUG) would print each 403/404 twice.
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
