"""Meta's template webhooks in every order and repeated: never moved back by a late delivery."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from templates_app import services
from templates_app.models import Template, TemplateEvent
from tests.simulator.helpers import wait_for

from .conftest import WABA, apply_posted, change_of, created

pytestmark = pytest.mark.django_db
T0 = 1_900_000_000  # Meta times after the submission (which happens now)


def status(event, *, template_id="555", at=None, **extra):
    value = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": "shipping_notice",
        "message_template_language": "en-US",
        "reason": extra.pop("reason", "NONE"),
        "message_template_category": extra.pop("category", "UTILITY"),
        **extra,
    }
    return change_of("message_template_status_update", value, at=at)


def quality(previous, new, *, at=None):
    value = {
        "message_template_id": 555,
        "message_template_name": "shipping_notice",
        "message_template_language": "en_US",
        "previous_quality_score": previous,
        "new_quality_score": new,
    }
    return change_of("message_template_quality_update", value, at=at)


def category(*, previous="", new="", correct="", when=None, at=None):
    value = {
        "message_template_id": 555,
        "message_template_name": "shipping_notice",
        "message_template_language": "en_US",
    }
    if previous:
        value["previous_category"] = previous
    if new:
        value["new_category"] = new
    if correct:
        value.update(correct_category=correct, category_update_timestamp=when or T0 + 86400)
    return change_of("template_category_update", value, at=at)


@pytest.fixture
def submitted(admin_user):
    """A template a second admin approved and Meta received (id 555), awaiting Meta's verdict."""
    template = created(admin_user)
    version = template.current_version
    version.state = "approved"
    version.save()
    answer = {"id": "555", "status": "PENDING"}
    services.template_meta_submitted(version_id=version.pk, answer=answer, now=timezone.now())
    template = Template.objects.get(pk=template.pk)
    assert (template.meta_template_id, template.meta_status) == ("555", "PENDING")
    return template


def apply(change, at=None):
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(at, tz=UTC) if at else None
    kind = type(change).__name__
    fn = {
        "TemplateStatusChange": services.template_status_apply,
        "TemplateQualityChange": services.template_quality_apply,
        "TemplateCategoryChange": services.template_category_apply,
    }[kind]
    return fn(change=change, now=timezone.now(), at=when)


def fresh(template):
    return Template.objects.get(pk=template.pk)


def test_approval_makes_the_submitted_version_the_sending_one(submitted):
    apply(status("APPROVED"))
    template = fresh(submitted)
    assert template.meta_status == "APPROVED"
    assert template.sending_version == template.current_version


def test_a_repeated_webhook_changes_nothing_and_writes_no_history(submitted):
    for _ in range(3):
        apply(status("APPROVED"))
    assert fresh(submitted).events.filter(kind=TemplateEvent.Kind.META_STATUS).count() == 1


@pytest.mark.parametrize("order", list(itertools.permutations(["PENDING", "APPROVED", "PAUSED"])))
def test_without_times_statuses_only_move_forward(submitted, order):
    for event in order:
        apply(status(event))
    assert fresh(submitted).meta_status == "PAUSED"


LIFE = [
    ("PENDING", {}),
    ("APPROVED", {}),
    ("PAUSED", {"other_info": {"title": "FIRST_PAUSE", "description": "Low quality."}}),
    ("APPROVED", {"other_info": {"title": "UNPAUSE", "description": "Unpaused."}}),
    ("DISABLED", {"disable_info": {"disable_date": T0}}),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(LIFE)))))
def test_with_metas_times_every_order_ends_in_the_latest_state(submitted, order):
    for index in order:
        event, extra = LIFE[index]
        apply(status(event, **extra), at=T0 + index * 10)
    template = fresh(submitted)
    assert template.meta_status == "DISABLED"
    assert template.events.filter(kind=TemplateEvent.Kind.META_STATUS, to_value="DISABLED").count() == 1


def test_an_unpause_moves_a_paused_template_back_but_a_late_approval_does_not(submitted):
    apply(status("APPROVED"))
    apply(status("PAUSED", other_info={"title": "FIRST_PAUSE", "description": "Low quality."}))
    apply(status("APPROVED"))  # the first approval, delivered again late
    assert fresh(submitted).meta_status == "PAUSED"
    apply(status("APPROVED", other_info={"title": "UNPAUSE", "description": "Unpaused."}))
    assert fresh(submitted).meta_status == "APPROVED"
    apply(status("REINSTATED"))
    assert fresh(submitted).meta_status == "APPROVED"


def test_an_older_webhook_by_metas_time_is_ignored(submitted):
    apply(status("REJECTED", reason="INVALID_FORMAT"), at=T0 + 20)
    apply(status("APPROVED"), at=T0 + 10)
    assert fresh(submitted).meta_status == "REJECTED"


def test_rejection_keeps_metas_reason_and_recommendation(submitted):
    apply(
        status(
            "REJECTED",
            reason="INVALID_FORMAT",
            rejection_info={"reason": "Adjacent parameters.", "recommendation": "Separate parameters with text."},
        )
    )
    template = fresh(submitted)
    assert (template.meta_status, template.meta_reason) == ("REJECTED", "INVALID_FORMAT")
    assert template.meta_reason_detail == "Adjacent parameters."
    assert template.meta_recommendation == "Separate parameters with text."
    event = template.events.get(kind=TemplateEvent.Kind.META_STATUS)
    assert event.detail["recommendation"] == "Separate parameters with text."


@pytest.mark.parametrize(
    "event", ["FLAGGED", "IN_APPEAL", "ARCHIVED", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "LOCKED"]
)
def test_every_status_event_is_recorded(submitted, event):
    apply(status("APPROVED"))
    apply(status(event))
    assert fresh(submitted).meta_status == event


def test_a_status_of_an_unknown_template_is_left_for_sync(db):
    assert apply(status("APPROVED", template_id="999")) is None


def test_approved_as_marketing_changes_the_category(submitted):
    apply(status("APPROVED", category="MARKETING"))
    template = fresh(submitted)
    assert template.category == "MARKETING"
    assert template.events.filter(kind=TemplateEvent.Kind.CATEGORY, to_value="MARKETING").exists()


# --- quality ---------------------------------------------------------------------------------------


def test_quality_changes_and_repeats(submitted):
    apply(quality("UNKNOWN", "GREEN"))
    apply(quality("GREEN", "YELLOW"))
    apply(quality("GREEN", "YELLOW"))
    template = fresh(submitted)
    assert template.quality == "YELLOW"
    assert list(template.events.filter(kind="quality").order_by("id").values_list("to_value", flat=True)) == [
        "GREEN",
        "YELLOW",
    ]


def test_a_late_quality_change_does_not_undo_a_later_one(submitted):
    apply(quality("UNKNOWN", "GREEN"))
    apply(quality("YELLOW", "RED"))
    apply(quality("GREEN", "YELLOW"))  # happened before YELLOW -> RED
    assert fresh(submitted).quality == "RED"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_quality_in_every_order_with_times(submitted, order):
    changes = [("UNKNOWN", "GREEN"), ("GREEN", "YELLOW"), ("YELLOW", "RED")]
    for index in order:
        apply(quality(*changes[index]), at=T0 + index)
    assert fresh(submitted).quality == "RED"


# --- category ----------------------------------------------------------------------------------------


def test_category_notice_then_change(submitted):
    apply(category(new="UTILITY", correct="MARKETING"))
    template = fresh(submitted)
    assert (template.category, template.correct_category) == ("UTILITY", "MARKETING")
    assert template.category_change_at is not None
    apply(category(new="UTILITY", correct="MARKETING"))  # repeated notice
    apply(category(previous="UTILITY", new="MARKETING"))
    apply(category(previous="UTILITY", new="MARKETING"))  # repeated change
    template = fresh(submitted)
    assert (template.category, template.correct_category, template.category_change_at) == ("MARKETING", "", None)
    kinds = list(template.events.filter(kind__startswith="category").order_by("id").values_list("kind", flat=True))
    assert kinds == ["category_notice", "category"]


def test_a_late_notice_after_the_change_is_ignored(submitted):
    apply(category(previous="UTILITY", new="MARKETING"))
    apply(category(new="UTILITY", correct="MARKETING"))
    template = fresh(submitted)
    assert (template.category, template.correct_category) == ("MARKETING", "")


def test_a_late_category_change_does_not_undo_a_later_one(submitted):
    apply(category(previous="MARKETING", new="UTILITY"), at=T0 + 20)
    apply(category(previous="UTILITY", new="MARKETING"), at=T0 + 10)
    assert fresh(submitted).category == "UTILITY"


# --- through the real simulator's webhooks --------------------------------------------------------


def test_the_simulators_webhooks_drive_every_path(
    make_sim, receiver, settings, admin_user, reviewer, django_capture_on_commit_callbacks
):
    sim = make_sim(auto_review_templates=False)
    settings.WHATSAPP_GRAPH_URL = sim.url
    settings.WHATSAPP_ACCESS_TOKEN = "test-access-token"
    template = created(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(version=template.current_version, reviewer=reviewer, now=timezone.now())
    seen = 0

    def step(action, field, **kwargs):
        nonlocal seen
        before = len(receiver.changes(field))
        getattr(sim, action)(name="shipping_notice", **kwargs)
        wait_for(lambda: len(receiver.changes(field)) > before, what=f"{action} webhook")
        seen = apply_posted(receiver, start=seen)
        return fresh(template)

    rejected = step(
        "template_reject", "message_template_status_update", detail="Adjacent parameters.", recommendation="Add text."
    )
    assert (rejected.meta_status, rejected.meta_reason, rejected.meta_recommendation) == (
        "REJECTED",
        "INVALID_FORMAT",
        "Add text.",
    )
    assert step("template_approve", "message_template_status_update").meta_status == "APPROVED"
    assert step("template_quality", "message_template_quality_update", score="RED").quality == "RED"
    assert step("template_pause", "message_template_status_update").meta_status == "PAUSED"
    assert step("template_unpause", "message_template_status_update").meta_status == "APPROVED"
    noticed = step("template_recategorise", "template_category_update", category="MARKETING", notice=True)
    assert noticed.correct_category == "MARKETING"
    changed = step("template_recategorise", "template_category_update", category="MARKETING")
    assert (changed.category, changed.correct_category) == ("MARKETING", "")
    disabled = step("template_disable", "message_template_status_update")
    assert disabled.meta_status == "DISABLED" and disabled.waba_id == WABA


def _approved_internally(admin_user):
    """A version a second admin approved; returns what the task reads before calling Meta."""
    template = created(admin_user)
    version = template.current_version
    version.state = "approved"
    version.reviewed_at = timezone.now()
    version.save()
    return template, version, fresh(template).meta_status_seq


def test_metas_webhook_may_beat_its_own_answer_to_the_submission(admin_user):
    template, version, seen = _approved_internally(admin_user)
    apply(status("APPROVED"))  # found by name and language: we do not know Meta's id yet
    answer = {"id": "555", "status": "PENDING"}
    services.template_meta_submitted(version_id=version.pk, answer=answer, now=timezone.now(), seen_seq=seen)
    template = fresh(template)
    assert (template.meta_status, template.meta_template_id) == ("APPROVED", "555")
    assert template.sending_version_id == version.pk


def test_a_rejection_that_beats_the_answer_is_kept(admin_user):
    template, version, seen = _approved_internally(admin_user)
    apply(
        status(
            "REJECTED", reason="INVALID_FORMAT", rejection_info={"reason": "Adjacent.", "recommendation": "Add text."}
        )
    )
    answer = {"id": "555", "status": "PENDING"}
    services.template_meta_submitted(version_id=version.pk, answer=answer, now=timezone.now(), seen_seq=seen)
    template = fresh(template)
    assert (template.meta_status, template.meta_reason_detail, template.sending_version) == (
        "REJECTED",
        "Adjacent.",
        None,
    )


def test_without_a_webhook_in_between_the_answer_sets_pending(admin_user):
    template, version, seen = _approved_internally(admin_user)
    answer = {"id": "555", "status": "PENDING"}
    services.template_meta_submitted(version_id=version.pk, answer=answer, now=timezone.now(), seen_seq=seen)
    assert fresh(template).meta_status == "PENDING"


def test_an_approved_template_shows_no_old_reason(submitted):
    apply(status("REJECTED", reason="INVALID_FORMAT", rejection_info={"reason": "Adjacent.", "recommendation": "x"}))
    apply(status("APPROVED"))  # after an appeal, say: same stage, applied in arrival order
    template = fresh(submitted)
    assert (template.meta_status, template.meta_reason, template.meta_reason_detail) == ("APPROVED", "", "")
    apply(status("PAUSED", other_info={"title": "FIRST_PAUSE", "description": "Low quality."}))
    assert fresh(submitted).meta_reason_detail == "Low quality."
    apply(status("APPROVED", other_info={"title": "UNPAUSE", "description": "Unpaused."}))
    apply(status("APPROVED", other_info={"title": "UNPAUSE", "description": "Unpaused."}))
    template = fresh(submitted)
    assert (template.meta_status, template.meta_reason_detail) == ("APPROVED", "")
    assert template.events.filter(kind="meta_status").count() == 4


def test_an_appeal_that_wins_makes_the_rejected_version_send(submitted):
    apply(status("REJECTED", reason="INCORRECT_CATEGORY"))
    assert fresh(submitted).sending_version is None
    apply(status("IN_APPEAL"))
    apply(status("APPROVED"))
    template = fresh(submitted)
    assert template.meta_status == "APPROVED" and template.sending_version == template.current_version
