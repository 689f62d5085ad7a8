from __future__ import annotations

from django.urls import path

from campaigns.consumers import CampaignProgressConsumer
from inbox.consumers import InboxConsumer

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/campaigns/<int:pk>/", CampaignProgressConsumer.as_asgi()),
]
