"""The layering of docs/seams.md: conversations sits below webhooks and the inbox, and holds no
HTTP/API code (the JSON API is inbox.api_conversations; the media download is conversations.media)."""

from __future__ import annotations

import ast
from pathlib import Path

import conversations

# Above conversations (webhooks, inbox, the apps built on them) or HTTP-facing (the API's
# framework and error answers).
FORBIDDEN = ("webhooks", "inbox", "campaigns", "notifications", "ninja", "core.api_errors", "config")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_conversations_imports_nothing_above_it_nor_the_api():
    root = Path(conversations.__file__).parent
    offending = {
        f"{path.relative_to(root.parent)}: {name}"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offending, sorted(offending)
