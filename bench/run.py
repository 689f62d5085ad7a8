"""Run every benchmark scenario in bench/ (see bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for scenario in ("ingest.py", "webhook_intake.py", "inbox.py", "billing_summary.py", "billing_export.py"):
    path = HERE / scenario
    if path.exists():
        print(f"=== {scenario}")
        subprocess.run([sys.executable, str(path)], check=True)
