"""Template submissions: the synchronous checks, and the review that approves or rejects later.

Meta's review is opaque; the simulator applies the format rules third parties document
(cloud-api.md section 3) so that an inbox can exercise both outcomes deterministically.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
VAR_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
ADJACENT_RE = re.compile(r"\}\}\s*\{\{")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")

ADJACENT_REASON = (
    "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them."
)
EDGE_REASON = "Your template body starts or ends with a parameter."
SEQUENCE_REASON = "Your template's positional parameters are not sequential, starting at {{1}}."
RECOMMENDATION = "Separate parameters with descriptive text and ensure each parameter is clearly contextualized."


def body_text(template: dict) -> str:
    for component in template.get("components") or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def variables(text: str) -> list[str]:
    return VAR_RE.findall(text)


def submission_error(template: dict) -> str | None:
    """What Meta refuses at once (error 100), or None."""
    name = template.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        return "Template name must be lowercase letters, digits and underscores."
    if not template.get("language"):
        return "The parameter language is required."
    if str(template.get("category", "")).upper() not in CATEGORIES:
        return "Category must be MARKETING, UTILITY or AUTHENTICATION."
    if not isinstance(template.get("components"), list) or not body_text(template).strip():
        return "A template needs a BODY component with text."
    return None


def review(template: dict) -> tuple[str, str, str | None]:
    """(event, reason, rejection detail) for the template's later status update."""
    text = body_text(template).strip()
    if ADJACENT_RE.search(text):
        return "REJECTED", "INVALID_FORMAT", ADJACENT_REASON
    # Punctuation after a trailing variable ("... {{1}}.") is accepted by Meta; a bare one is not.
    if VAR_RE.match(text) or text.endswith("}}"):
        return "REJECTED", "INVALID_FORMAT", EDGE_REASON
    found = variables(text)
    if found and all(v.isdigit() for v in found):
        numbers = sorted({int(v) for v in found})
        if numbers != list(range(1, len(numbers) + 1)):
            return "REJECTED", "INVALID_FORMAT", SEQUENCE_REASON
    return "APPROVED", "NONE", None
