from __future__ import annotations

# Transitional: moved to core/api_errors.py; remove once inbox/middleware.py imports it from there.
from core.api_errors import *  # noqa: F403
