"""Demo templates for seed_demo, in every state an admin meets (idempotent: skipped when present).

Written through the services with past times, as if each step had happened: admins write and
review, and Meta's verdicts are applied as the webhooks would have been (the simulator is not
called; nothing leaves the building while seeding). Needs the admins "admin" and "reviewer".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from templates_app import services
from templates_app.history import event_add
from templates_app.models import Template, TemplateEvent, TemplateVersion
from whatsapp.schemas import TemplateCategoryChange, TemplateQualityChange, TemplateStatusChange

WABA_ID = "200000000000001"


def _body(text: str, *examples: str) -> dict:
    part: dict = {"type": "BODY", "text": text}
    if examples:
        part["example"] = {"body_text": [list(examples)]}
    return part


def _named_body(text: str, **examples: str) -> dict:
    return {
        "type": "BODY",
        "text": text,
        "example": {"body_text_named_params": [{"param_name": k, "example": v} for k, v in examples.items()]},
    }


def _order_update(language: str, header: str, body: str, footer: str, track: str) -> dict:
    return {
        "name": "order_update",
        "language": language,
        "category": "UTILITY",
        "parameter_format": "named",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": header,
                "example": {"header_text_named_params": [{"param_name": "order_id", "example": "1042"}]},
            },
            _named_body(body, first_name="Anna", delivery_day="Friday" if language.startswith("en") else "Freitag"),
            {"type": "FOOTER", "text": footer},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": track,
                        "url": "https://shop.example/track/{{1}}",
                        "example": ["https://shop.example/track/1042"],
                    }
                ],
            },
        ],
    }


# (data, state, extra): state is what happened to it; extra holds Meta's verdict details.
DEMO = [
    (
        {
            "name": "spring_sale",
            "language": "en_US",
            "category": "MARKETING",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
                _body("Hi {{1}}, everything in our spring range is {{2}} off until Sunday.", "Anna", "20%"),
                {"type": "FOOTER", "text": "Tap Stop promotions to opt out"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Show me"},
                        {"type": "QUICK_REPLY", "text": "Stop promotions"},
                    ],
                },
            ],
        },
        "approved",
        {"quality": "GREEN"},
    ),
    (
        {
            "name": "fruehlingsaktion",
            "language": "de",
            "category": "MARKETING",
            "components": [
                _body("Hallo {{1}}, unser ganzes Frühlingssortiment ist bis Sonntag {{2}} günstiger.", "Anna", "20 %"),
                {"type": "FOOTER", "text": "Keine Werbung mehr? Tippe unten."},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Zeig mal"},
                        {"type": "QUICK_REPLY", "text": "Werbung stoppen"},
                    ],
                },
            ],
        },
        "approved",
        # An edit awaiting review: the approved version keeps sending meanwhile (the queue shows the diff).
        {"edit": "Hallo {{1}}, unser ganzes Frühlingssortiment ist nur noch dieses Wochenende {{2}} günstiger."},
    ),
    (
        _order_update(
            "de",
            "Bestellung {{order_id}}",
            "Hallo {{first_name}}, deine Bestellung ist unterwegs und kommt am {{delivery_day}}.",
            "Fragen? Antworte einfach auf diese Nachricht.",
            "Sendung verfolgen",
        ),
        "approved",
        {"quality": "GREEN"},
    ),
    (
        _order_update(
            "en_US",
            "Order {{order_id}}",
            "Hi {{first_name}}, your order is on its way and arrives on {{delivery_day}}.",
            "Questions? Just reply to this message.",
            "Track parcel",
        ),
        "approved",
        {"notice": "MARKETING"},
    ),
    (
        {
            "name": "delivery_tracking",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                _body("Hello {{1}}, parcel {{2}} is out for delivery today.", "Anna", "DE1042"),
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {
                            "type": "URL",
                            "text": "Track parcel",
                            "url": "https://parcels.example/t/{{1}}",
                            "example": ["https://parcels.example/t/DE1042"],
                        },
                        {"type": "PHONE_NUMBER", "text": "Call support", "phone_number": "+4930123456"},
                    ],
                },
            ],
        },
        "approved",
        {},
    ),
    (
        {
            "name": "appointment_reminder",
            "language": "de",
            "category": "UTILITY",
            "components": [
                _body(
                    "Hallo {{1}}, nicht vergessen: Ihr Termin ist am {{2}}. Jetzt 10 % Rabatt sichern!",
                    "Anna",
                    "3. Mai",
                )
            ],
        },
        "meta_rejected",
        {
            "reason": "PROMOTIONAL",
            "detail": "The template is marked as utility but contains promotional content (a discount).",
            "recommendation": "Remove the offer, or submit it as a marketing template.",
        },
    ),
    (
        {
            "name": "back_in_stock",
            "language": "en_US",
            "category": "MARKETING",
            "components": [
                _body("Good news {{1}}: the {{2}} you liked is back in stock.", "Anna", "rain jacket"),
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
            ],
        },
        "paused",
        {"quality": "RED"},
    ),
    (
        {
            "name": "zahlungserinnerung",
            "language": "de",
            "category": "UTILITY",
            "components": [
                _body(
                    "Hallo {{1}}, Ihre Rechnung {{2}} über {{3}} ist seit gestern fällig.",
                    "Anna",
                    "R-2026-17",
                    "49,90 €",
                ),
                {"type": "FOOTER", "text": "Bereits bezahlt? Dann ignorieren Sie diese Nachricht."},
            ],
        },
        "in_review",
        {},
    ),
    (
        {
            "name": "welcome_message",
            "language": "en_US",
            "category": "UTILITY",
            "components": [_body("Welcome {{1}}! Reply here any time, we usually answer within an hour.", "Anna")],
        },
        "draft",
        {},
    ),
]


def _status(template: Template, event: str, **extra) -> TemplateStatusChange:
    return TemplateStatusChange(
        waba_id=template.waba_id,
        template_id=template.meta_template_id,
        name=template.name,
        language=template.language,
        event=event,
        reason=extra.pop("reason", "NONE"),
        category=template.category,
        **extra,
    )


def _approve_internally(template: Template, *, reviewer, at: datetime) -> TemplateVersion:
    """What template_approve records, without queueing the Meta call (the demo never calls Meta)."""
    version = template.current_version
    version.state = TemplateVersion.State.APPROVED
    version.reviewer = reviewer
    version.reviewed_at = at
    version.save(update_fields=["state", "reviewer", "reviewed_at"])
    event_add(
        template,
        TemplateEvent.Kind.APPROVED,
        at=at,
        version=version,
        actor=reviewer,
        from_value=TemplateVersion.State.IN_REVIEW,
        to_value=TemplateVersion.State.APPROVED,
    )
    return version


def _seed_one(index: int, data: dict, state: str, extra: dict, *, admin, reviewer, now: datetime) -> Template:
    start = now - timedelta(days=20 - index, hours=3)
    template = services.template_create(author=admin, waba_id=WABA_ID, data=data, now=start, submit=state != "draft")
    if state in ("draft", "in_review"):
        return template
    version = _approve_internally(template, reviewer=reviewer, at=start + timedelta(hours=1))
    services.template_meta_submitted(
        version_id=version.pk,
        answer={"id": str(900000000000000 + index), "status": "PENDING", "category": data["category"]},
        now=start + timedelta(hours=1, seconds=2),
    )
    template.refresh_from_db()
    verdict_at = start + timedelta(hours=2)
    if state == "meta_rejected":
        services.template_status_apply(
            change=_status(
                template,
                "REJECTED",
                reason=extra["reason"],
                rejection_info={"reason": extra["detail"], "recommendation": extra["recommendation"]},
            ),
            now=verdict_at,
            at=verdict_at,
        )
        return template
    services.template_status_apply(change=_status(template, "APPROVED"), now=verdict_at, at=verdict_at)
    if extra.get("quality"):
        services.template_quality_apply(
            change=TemplateQualityChange(
                waba_id=WABA_ID,
                template_id=template.meta_template_id,
                name=template.name,
                language=template.language,
                previous_quality="UNKNOWN",
                new_quality=extra["quality"],
            ),
            now=start + timedelta(days=3),
            at=start + timedelta(days=3),
        )
    if state == "paused":
        paused_at = start + timedelta(days=3, minutes=5)
        services.template_status_apply(
            change=_status(
                template,
                "PAUSED",
                other_info={
                    "title": "FIRST_PAUSE",
                    "description": "Your template was paused because it received negative feedback from customers.",
                },
            ),
            now=paused_at,
            at=paused_at,
        )
    if extra.get("edit"):
        edited = {**data, "components": [dict(c) for c in data["components"]]}
        edited["components"][0] = {**edited["components"][0], "text": extra["edit"]}
        edit_at = now - timedelta(hours=6)
        services.template_update(template=template, by=admin, data=edited, now=edit_at)
        services.template_submit_for_review(template=template, by=admin, now=edit_at + timedelta(minutes=1))
    if extra.get("notice"):
        services.template_category_apply(
            change=TemplateCategoryChange(
                waba_id=WABA_ID,
                template_id=template.meta_template_id,
                name=template.name,
                language=template.language,
                new_category=template.category,
                correct_category=extra["notice"],
                category_update_timestamp=now + timedelta(hours=20),
            ),
            now=now - timedelta(hours=4),
        )
    return template


def seed_templates(*, stdout, now: datetime) -> list[Template]:
    """The demo templates for WABA 200000000000001 (German and English, every state); idempotent."""
    users = get_user_model().objects
    admin, reviewer = users.get(username="admin"), users.get(username="reviewer")
    made = []
    for index, (data, state, extra) in enumerate(DEMO):
        exists = Template.objects.filter(waba_id=WABA_ID, name=data["name"], language=data["language"]).exists()
        if exists:
            continue
        with transaction.atomic():
            made.append(_seed_one(index, data, state, extra, admin=admin, reviewer=reviewer, now=now))
    stdout.write(f"Templates: {len(made)} added ({len(DEMO) - len(made)} already there).")
    return made
