"""Just enough HTTP plumbing over the standard library: a request value and JSON responses."""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> dict | None:
        try:
            data = json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def form(self) -> dict[str, tuple[bytes, str, str]]:
        """multipart/form-data fields as name -> (content, content type, filename)."""
        ctype = self.header("content-type")
        if not ctype.startswith("multipart/form-data"):
            return {}
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[name] = (
                    part.get_payload(decode=True) or b"",
                    part.get_content_type(),
                    part.get_filename() or "",
                )
        return fields


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: dict | list, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode())
