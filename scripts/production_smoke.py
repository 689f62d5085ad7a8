"""Drive one conversation through a running production shape (see production-smoke.sh).

The customer writes through the simulator, which posts a signed webhook to the web process; the
worker applies it. Then a business system replies through the JSON API; the worker delivers it
to the simulator, whose status webhooks the worker applies until the reply reads "read".
Only the standard library and `requests` (a runtime requirement) are used.
"""

from __future__ import annotations

import argparse
import sys
import time

import requests

CUSTOMER = "4915199990001"
PHONE_NUMBER_ID = "100000000000001"


def wait_for(what: str, probe, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.3)
    sys.exit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--web", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {args.token}"

    wait_for("the web process", lambda: requests.get(f"{args.web}/healthz", timeout=2).ok)
    wait_for("the simulator", lambda: requests.get(f"{args.sim}/_sim/health", timeout=2).ok)
    login = requests.get(f"{args.web}/login/", timeout=5)
    if login.status_code != 200 or "/static/" not in login.text:
        sys.exit(f"the login page answered {login.status_code} without its static files")

    sent = requests.post(
        f"{args.sim}/_sim/customer/message",
        json={"phone_number_id": PHONE_NUMBER_ID, "wa_id": CUSTOMER, "name": "Smoke Test", "text": "Hallo?"},
        timeout=5,
    )
    sent.raise_for_status()
    print("customer wrote", sent.json()["wamid"])

    def conversation():
        items = api.get(f"{args.web}/api/v1/conversations", timeout=5).json()["items"]
        return next((item for item in items if item["contact"]["wa_id"] == CUSTOMER), None)

    thread = wait_for("the worker to apply the webhook", conversation)
    print("conversation", thread["id"], "window open:", thread["window"]["open"])

    answer = api.post(
        f"{args.web}/api/v1/conversations/{thread['id']}/messages", json={"text": "Guten Tag!"}, timeout=5
    )
    if answer.status_code != 202:
        sys.exit(f"the reply was answered {answer.status_code}: {answer.text}")
    reply_id = answer.json()["id"]

    def reply_read():
        items = api.get(f"{args.web}/api/v1/conversations/{thread['id']}/messages", timeout=5).json()["items"]
        reply = next(item for item in items if item["id"] == reply_id)
        return reply if reply["status"] == "read" else None

    reply = wait_for("the reply to be sent, delivered and read", reply_read)
    print("reply", reply["wamid"], "is", reply["status"])


if __name__ == "__main__":
    main()
