"""The settings page stores how new messages are announced; the inbox page carries the choice."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_sound_and_desktop_notifications_are_stored_per_user(client, agent, teammate):
    client.force_login(agent)
    html = client.get("/settings/").content.decode()
    assert 'name="desktop"' in html and 'name="sound"' in html
    assert client.post("/inbox/notifications/", {"sound": "on", "desktop": "on"}).status_code == 302
    agent.profile.refresh_from_db()
    assert agent.profile.notify_sound and agent.profile.notify_desktop
    assert 'data-notify-sound="1" data-notify-desktop="1"' in client.get("/inbox/").content.decode()
    client.force_login(teammate)
    assert 'data-notify-sound="" data-notify-desktop=""' in client.get("/inbox/").content.decode()
    client.post("/inbox/notifications/", {})
    teammate.profile.refresh_from_db()
    assert not teammate.profile.notify_sound
