"""Meta's side of a template's life, on request: verdicts, pauses, re-categorisation, quality.

Each control changes the simulated template and posts the webhook Meta would post
(cloud-api.md 1.6), so tests and demos can drive every path an inbox must handle. A template is
found by its id, or by name (and language and WABA when the name is not unique).
"""

from __future__ import annotations

from . import payloads

PAUSE_DESCRIPTION = "Your template was paused because it received negative feedback from customers."
DISABLE_DESCRIPTION = "Your template was disabled because of repeated low quality."
DEFAULT_RECOMMENDATION = "Review the WhatsApp Business Messaging Policy and edit the template."
CATEGORY_NOTICE_SECONDS = 24 * 3600
STATUS_EVENTS = (
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "REINSTATED",
    "IN_APPEAL",
    "ARCHIVED",
    "UNARCHIVED",
    "DELETED",
    "PENDING_DELETION",
    "LOCKED",
    "LIMIT_EXCEEDED",
)
# The status a template has after an event that is not a status of its own.
STATUS_AFTER = {"REINSTATED": "APPROVED", "UNARCHIVED": "APPROVED"}


class TemplateNotFound(LookupError):
    pass


class TemplateControls:
    """Mixed into the Engine: uses its lock, templates, clock and webhook poster."""

    def find_template(
        self, *, template_id: str | None = None, name: str | None = None, language: str | None = None, waba_id=None
    ) -> dict:
        with self.lock:
            if template_id:
                found = self._templates.get(str(template_id))
                if found is None:
                    raise TemplateNotFound(f"no template with id {template_id}")
                return found
            matches = [
                t
                for t in self._templates.values()
                if t["name"] == name
                and (not language or t["language"].replace("-", "_") == language.replace("-", "_"))
                and (not waba_id or t["waba_id"] == str(waba_id))
            ]
            if len(matches) != 1:
                raise TemplateNotFound(f"{len(matches)} templates match name={name!r} language={language!r}")
            return matches[0]

    def template_add(
        self,
        *,
        waba_id: str,
        name: str,
        language: str,
        category: str,
        components: list[dict],
        status: str = "APPROVED",
        parameter_format: str = "POSITIONAL",
        quality: str = "UNKNOWN",
    ) -> dict:
        """A template made in Meta's own manager (no webhook): what the inbox's sync must import."""
        with self.lock:
            template = {
                "id": payloads.new_numeric_id(),
                "name": name,
                "language": language,
                "category": category.upper(),
                "parameter_format": parameter_format.upper(),
                "components": components,
                "status": status.upper(),
                "quality_score": {"score": quality.upper()},
                "waba_id": str(waba_id),
            }
            self._templates[template["id"]] = template
            return dict(template)

    def template_edit(self, template_id: str, body: dict) -> dict:
        """POST /{template_id}: new content for a template Meta has; it goes back into review."""
        with self.lock:
            template = self._templates.get(str(template_id))
            if template is None:
                return {}
            if isinstance(body.get("components"), list):
                template["components"] = body["components"]
            if body.get("category"):
                template["category"] = str(body["category"]).upper()
            template["status"] = "PENDING"
        if self.auto_review_templates:
            self.scheduler.call_later(self.template_review_delay, lambda: self._review(str(template_id)))
        return {"success": True, "id": str(template_id), "status": "PENDING"}

    def template_set_status(
        self,
        *,
        event: str,
        reason: str = "NONE",
        rejection_info: dict | None = None,
        other_info: dict | None = None,
        disable_info: dict | None = None,
        **lookup,
    ) -> dict:
        """Any `message_template_status_update` event; the template takes the matching status."""
        event = event.upper()
        if event not in STATUS_EVENTS:
            raise ValueError(f"event must be one of {', '.join(STATUS_EVENTS)}")
        with self.lock:
            template = self.find_template(**lookup)
            template["status"] = STATUS_AFTER.get(event, event)
            value = payloads.template_status_value(template=template, event=event, reason=reason)
            for key, part in (
                ("rejection_info", rejection_info),
                ("other_info", other_info),
                ("disable_info", disable_info),
            ):
                if part:
                    value[key] = part
            envelope = payloads.template_webhook(
                waba_id=template["waba_id"], field="message_template_status_update", value=value, at=int(self.clock())
            )
            if event == "DELETED":
                self._templates.pop(template["id"], None)
        self._post("template_status", envelope)
        return dict(template)

    def template_approve(self, **lookup) -> dict:
        return self.template_set_status(event="APPROVED", **lookup)

    def template_reject(
        self, *, reason: str = "INVALID_FORMAT", detail: str = "", recommendation: str = "", **lookup
    ) -> dict:
        info = None
        if detail or recommendation:
            info = {"reason": detail, "recommendation": recommendation or DEFAULT_RECOMMENDATION}
        return self.template_set_status(event="REJECTED", reason=reason, rejection_info=info, **lookup)

    def template_pause(self, *, title: str = "FIRST_PAUSE", **lookup) -> dict:
        return self.template_set_status(
            event="PAUSED", other_info={"title": title, "description": PAUSE_DESCRIPTION}, **lookup
        )

    def template_unpause(self, **lookup) -> dict:
        return self.template_set_status(
            event="APPROVED", other_info={"title": "UNPAUSE", "description": "Your template was unpaused."}, **lookup
        )

    def template_disable(self, **lookup) -> dict:
        return self.template_set_status(
            event="DISABLED",
            other_info={"title": "DISABLED", "description": DISABLE_DESCRIPTION},
            disable_info={"disable_date": int(self.clock())},
            **lookup,
        )

    def template_recategorise(self, *, category: str, notice: bool = False, **lookup) -> dict:
        """`notice`: Meta's advance notice (the change lands about 24 h later); else the completed change."""
        category = category.upper()
        with self.lock:
            template = self.find_template(**lookup)
            now = int(self.clock())
            value = payloads.template_ids_value(template)
            if notice:
                value.update(
                    new_category=template["category"],
                    correct_category=category,
                    category_update_timestamp=now + CATEGORY_NOTICE_SECONDS,
                )
                template["correct_category"] = category
            else:
                value.update(previous_category=template["category"], new_category=category)
                template["category"] = category
                template.pop("correct_category", None)
            envelope = payloads.template_webhook(
                waba_id=template["waba_id"], field="template_category_update", value=value, at=now
            )
        self._post("template_category", envelope)
        return dict(template)

    def template_quality(self, *, score: str, **lookup) -> dict:
        score = score.upper()
        with self.lock:
            template = self.find_template(**lookup)
            previous = (template.get("quality_score") or {}).get("score", "UNKNOWN")
            template["quality_score"] = {"score": score}
            value = payloads.template_ids_value(template)
            value.update(previous_quality_score=previous, new_quality_score=score)
            envelope = payloads.template_webhook(
                waba_id=template["waba_id"], field="message_template_quality_update", value=value, at=int(self.clock())
            )
        self._post("template_quality", envelope)
        return dict(template)

    def templates(self) -> list[dict]:
        with self.lock:
            return [dict(t) for t in self._templates.values()]
