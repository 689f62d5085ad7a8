from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client, settings):
    # Nothing listens on port 1: the same as a Redis that has stopped.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down"}


@pytest.mark.django_db
def test_healthz_without_redis_configured_says_disabled(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "disabled"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_down(client):
    from django.db import connection

    # Point the connection at a port where nothing listens, as if PostgreSQL had stopped; the
    # pool is closed too, or it would hand out its open connections to the real server.
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.close_pool()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict["PORT"] = original_port
    assert response.status_code == 503
    assert response.json()["database"] == "down"
