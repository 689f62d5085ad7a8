"""A local fake of Meta's WhatsApp Cloud API, spoken over real HTTP.

`server.Simulator` runs it in-process (tests); `manage.py simulator` runs it beside the inbox
(`make run`). It plays both sides Meta would: the Graph API the inbox calls, and the customer's
phone (the page at `/`) whose messages reach the inbox as signed webhooks.
"""

from __future__ import annotations
