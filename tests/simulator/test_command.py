"""`manage.py simulator` as `make run` starts it: a real process on a port, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_serves_the_graph_api_and_the_phone_page_and_stops_on_sigterm():
    port = free_port()
    env = {**os.environ, "WHATSAPP_ACCESS_TOKEN": "cmd-token", "WHATSAPP_APP_SECRET": "cmd-secret"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulator", "--port", str(port), "--webhook-url", "http://127.0.0.1:9/x"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{base}/_sim/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the simulator did not come up"
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.1)
        assert "<title>Customer phone" in requests.get(base + "/", timeout=5).text
        assert requests.get(f"{base}/_sim/config", timeout=5).json()["webhook_url"] == "http://127.0.0.1:9/x"
        graph = f"{base}/v26.0/100000000000001/media"
        assert requests.post(graph, timeout=5).status_code == 401
        authed = requests.post(graph, headers={"Authorization": "Bearer cmd-token"}, timeout=5)
        assert authed.json()["error"]["code"] == 131008  # authenticated, just no file
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output = process.communicate(timeout=10)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0
    assert "cmd-token" not in output and "cmd-secret" not in output
