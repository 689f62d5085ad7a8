"""The Cloud API client: the only code that makes HTTP calls to Meta (cloud-api.md sections 2 to 4).

One `requests.Session` per process (connection pooling), timeouts on every call, the base URL
and version from settings. Every failure becomes a `CloudApiError` classified by
`whatsapp.errors`. The access token lives only in the auth object that adds the header; it is
redacted from every error text we build, never part of a repr, and request exceptions are not
chained (their request object carries the header).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings

from whatsapp.errors import CloudApiError

logger = logging.getLogger(__name__)

# Media URLs that Meta hands out live on its CDN hosts; the bearer token goes nowhere else.
MEDIA_HOST_SUFFIXES = (".fbsbx.com", ".facebook.com", ".fbcdn.net", ".whatsapp.net")
TEMPLATE_FIELDS = "id,name,language,status,category,components,parameter_format,quality_score,correct_category"
PHONE_NUMBER_FIELDS = "id,display_phone_number,verified_name,quality_rating,messaging_limit_tier"
_MAX_TEMPLATE_PAGES = 100
_CHUNK = 64 * 1024
_CODE_PREFIX = re.compile(r"^\(#?\d+\)\s*")


class _BearerAuth(requests.auth.AuthBase):
    """Adds the bearer header to each request; its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


class CloudApiClient:
    def __init__(self, *, base_url: str, version: str, token: str, timeout: float, session=None) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.timeout = timeout
        self._auth = _BearerAuth(token)
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = "whatsapp-inbox/1"

    def __repr__(self) -> str:
        return f"CloudApiClient(base_url={self.base_url!r}, version={self.version!r})"

    # --- messages ---------------------------------------------------------------------------

    def send_message(self, *, phone_number_id: str, payload: dict[str, Any]) -> str:
        """Send Meta's message body; returns the wamid. A 200 means accepted, not delivered."""
        body = {"messaging_product": "whatsapp", **payload}
        data = self._request("POST", f"{phone_number_id}/messages", json=body)
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise CloudApiError(title="Unexpected answer to a send: no message id", transient=False) from None

    def mark_read(self, *, phone_number_id: str, wamid: str, typing: bool = False) -> None:
        """Mark an inbound message (and the ones before it) read; optionally show "typing…" for 25 s."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        self._request("POST", f"{phone_number_id}/messages", json=body)

    # --- the number ---------------------------------------------------------------------------

    def phone_number_info(self, *, phone_number_id: str) -> dict[str, Any]:
        """The number as Meta shows it: `quality_rating` (GREEN, YELLOW, RED, UNKNOWN) and
        `messaging_limit_tier` (TIER_250, TIER_2K, …) among others."""
        data = self._request("GET", str(phone_number_id), params={"fields": PHONE_NUMBER_FIELDS})
        if not isinstance(data, dict):
            raise CloudApiError(title="Unexpected answer to a number lookup", transient=False)
        return data

    # --- media ------------------------------------------------------------------------------

    def upload_media(self, *, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        data = self._request(
            "POST",
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename or "file", content, mime_type)},
        )
        if not isinstance(data, dict) or not data.get("id"):
            raise CloudApiError(title="Unexpected answer to an upload: no media id", transient=False)
        return str(data["id"])

    def media_info(self, *, media_id: str) -> dict[str, Any]:
        """`url` (valid 5 minutes), `mime_type`, `sha256`, `file_size` (an int; Meta may send a string)."""
        data = self._request("GET", str(media_id))
        if not isinstance(data, dict) or not data.get("url"):
            raise CloudApiError(title="Unexpected answer to a media lookup: no url", transient=False)
        try:
            size = int(data.get("file_size")) if data.get("file_size") not in (None, "") else None
        except (TypeError, ValueError):
            size = None
        return {
            "url": str(data["url"]),
            "mime_type": str(data.get("mime_type") or ""),
            "sha256": str(data.get("sha256") or ""),
            "file_size": size,
        }

    def download_media(self, *, url: str, max_bytes: int) -> bytes:
        """The file behind a media URL, refused once it grows past `max_bytes` (never read whole first)."""
        if not self._may_send_token_to(url):
            raise CloudApiError(title="Refusing to download media from an unexpected host", transient=False)
        response = self._send("GET", url, stream=True)
        try:
            if response.status_code >= 400:
                raise self._error_from(response)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(int(declared), max_bytes)
            chunks, total = [], 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise _too_large(total, max_bytes)
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise self._network_error(exc) from None
            return b"".join(chunks)
        finally:
            response.close()

    # --- templates (Business Management API) ------------------------------------------------

    def template_create(self, *, waba_id: str, template: dict[str, Any]) -> dict[str, Any]:
        """Submit Meta's template JSON; returns `{id, status, category}`."""
        data = self._request("POST", f"{waba_id}/message_templates", json=template)
        return data if isinstance(data, dict) else {}

    def template_list(self, *, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the WABA, following the `after` cursor."""
        templates: list[dict[str, Any]] = []
        params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": 100}
        for _page in range(_MAX_TEMPLATE_PAGES):
            data = self._request("GET", f"{waba_id}/message_templates", params=params)
            if not isinstance(data, dict):
                break
            templates.extend(t for t in data.get("data") or [] if isinstance(t, dict))
            paging = data.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                break
            params = {**params, "after": after}
        return templates

    def template_edit(self, *, template_id: str, template: dict[str, Any]) -> dict[str, Any]:
        """Change a template Meta already has (`POST /{template_id}` with category and components)."""
        data = self._request("POST", template_id, json=template)
        return data if isinstance(data, dict) else {}

    def template_delete(self, *, waba_id: str, name: str) -> None:
        self._request("DELETE", f"{waba_id}/message_templates", params={"name": name})

    # --- plumbing ---------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def _may_send_token_to(self, url: str) -> bool:
        parts, own = urlsplit(url), urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if (parts.hostname, parts.port) == (own.hostname, own.port):
            return True
        return parts.scheme == "https" and parts.hostname.endswith(MEDIA_HOST_SUFFIXES)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, auth=self._auth, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            # `from None`: the chained exception would carry the prepared request and its header.
            raise self._network_error(exc) from None

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, self._url(path), **kwargs)
        if response.status_code >= 400:
            raise self._error_from(response)
        try:
            return response.json()
        except ValueError:
            raise CloudApiError(
                title="The Cloud API answered with something that is not JSON",
                http_status=response.status_code,
                transient=True,
                maybe_delivered=True,
            ) from None

    def _network_error(self, exc: requests.RequestException) -> CloudApiError:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "could not be reached"
        error = CloudApiError(
            title=f"The Cloud API {kind}",
            details=self._auth.redact(f"{type(exc).__name__}: {exc}"),
            transient=True,
            maybe_delivered=_may_have_arrived(exc),
            unreachable=True,
        )
        logger.warning("Cloud API %s: %s", kind, error)
        return error

    def _error_from(self, response: requests.Response) -> CloudApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            text = self._auth.redact(response.text[:200]) if response.text else ""
            return CloudApiError(title=f"HTTP {response.status_code}", details=text, http_status=response.status_code)
        code = error.get("code")
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            code = None
        error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
        exc = CloudApiError(
            code=code,
            # Meta prefixes its message with "(#code) "; the code has its own field.
            title=self._auth.redact(
                _CODE_PREFIX.sub("", str(error.get("error_user_title") or error.get("message") or ""))
            ),
            details=self._auth.redact(str(error_data.get("details") or error.get("error_user_msg") or "")),
            http_status=response.status_code,
        )
        logger.info("Cloud API error %s", exc)
        return exc


def _too_large(size: int, limit: int) -> CloudApiError:
    return CloudApiError(
        title="Media file too large", details=f"{size} bytes, the limit is {limit}", transient=False, code=None
    )


_lock = threading.Lock()
_client: tuple[tuple, CloudApiClient] | None = None


def get_client() -> CloudApiClient:
    """The process's client, built from settings; rebuilt only when those settings change (tests)."""
    global _client
    key = (
        settings.WHATSAPP_GRAPH_URL,
        settings.WHATSAPP_API_VERSION,
        settings.WHATSAPP_ACCESS_TOKEN,
        settings.WHATSAPP_HTTP_TIMEOUT,
    )
    with _lock:
        if _client is None or _client[0] != key:
            _client = (
                key,
                CloudApiClient(
                    base_url=settings.WHATSAPP_GRAPH_URL,
                    version=settings.WHATSAPP_API_VERSION,
                    token=settings.WHATSAPP_ACCESS_TOKEN,
                    timeout=settings.WHATSAPP_HTTP_TIMEOUT,
                ),
            )
        return _client[1]


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """Whether the request may have reached Meta although no answer came back.

    Only a connection that was never made is certain not to have delivered anything: a refused
    or failed connect, or a connect timeout. A read timeout or a reset after sending is unknown.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, urllib3.exceptions.NewConnectionError)
    return True
