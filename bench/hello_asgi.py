"""A bare ASGI app: the ceiling of uvicorn on this machine, measured beside the inbox (ingest.py)."""

from __future__ import annotations


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"OK"})
