from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.models import Contact, Conversation, Message
from conversations.services import (
    contact_preference_apply,
    inbound_message_receive,
    message_status_apply,
    number_for_phone_number_id,
)
from tests.conversations.conftest import inbound, preference, profile, status, utc

T0 = utc(2026, 3, 10, 9, 0, 0)


@pytest.mark.django_db
def test_number_for_phone_number_id(number):
    assert number_for_phone_number_id(number.phone_number_id) == number
    assert number_for_phone_number_id("nope") is None


@pytest.mark.django_db
def test_first_message_creates_contact_thread_and_opens_window(number):
    msg = inbound_message_receive(
        number=number, message=inbound(at=T0, user_id="DE.abc"), profile=profile(user_id="DE.abc")
    )
    conv = msg.conversation
    contact = conv.contact
    assert (contact.wa_id, contact.user_id, contact.profile_name, contact.market) == (
        "4915112345678",
        "DE.abc",
        "Jana Schmidt",
        "DE",
    )
    assert conv.last_inbound_at == T0
    assert conv.last_message_at == T0
    assert conv.unread_count == 1
    assert msg.direction == "in" and msg.status == "received" and msg.sent_at == T0


@pytest.mark.django_db
def test_duplicate_wamid_returns_none(number):
    m = inbound(at=T0, wamid="wamid.DUP")
    assert inbound_message_receive(number=number, message=m, profile=None) is not None
    assert inbound_message_receive(number=number, message=m, profile=None) is None
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.django_db
def test_contact_found_by_user_id_then_wa_id_and_name_updated(number):
    inbound_message_receive(number=number, message=inbound(at=T0), profile=profile(name="Jana"))
    # The same customer, now with a BSUID: the contact is completed, not duplicated.
    inbound_message_receive(
        number=number,
        message=inbound(at=T0 + timedelta(minutes=1), user_id="DE.xyz"),
        profile=profile(user_id="DE.xyz", name="Jana S."),
    )
    # Username adopted: no phone number, the BSUID finds the contact.
    inbound_message_receive(
        number=number,
        message=inbound(at=T0 + timedelta(minutes=2), wa_id=None, user_id="DE.xyz"),
        profile=profile(wa_id=None, user_id="DE.xyz", name="Jana S."),
    )
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id, contact.profile_name) == ("4915112345678", "DE.xyz", "Jana S.")
    assert Conversation.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wa_id", "market"),
    [("4915112345678", "DE"), ("447700900123", "GB"), ("5511987654321", "BR"), ("14155550123", "US")],
)
def test_market_from_country_calling_code(number, wa_id, market):
    msg = inbound_message_receive(number=number, message=inbound(at=T0, wa_id=wa_id), profile=None)
    assert msg.conversation.contact.market == market


@pytest.mark.django_db
def test_resolved_reopens_snoozed_wakes(number):
    msg = inbound_message_receive(number=number, message=inbound(at=T0), profile=None)
    conv = msg.conversation
    Conversation.objects.filter(pk=conv.pk).update(status="resolved")
    inbound_message_receive(number=number, message=inbound(at=T0 + timedelta(hours=1)), profile=None)
    conv.refresh_from_db()
    assert conv.status == "open"
    Conversation.objects.filter(pk=conv.pk).update(status="snoozed", snoozed_until=T0 + timedelta(days=2))
    inbound_message_receive(number=number, message=inbound(at=T0 + timedelta(hours=2)), profile=None)
    conv.refresh_from_db()
    assert (conv.status, conv.snoozed_until) == ("open", None)
    assert Conversation.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["reaction", "system", "unsupported"])
def test_reactions_system_unsupported_do_not_move_window(number, kind):
    first = inbound_message_receive(number=number, message=inbound(at=T0), profile=None)
    inbound_message_receive(
        number=number, message=inbound(at=T0 + timedelta(hours=5), type=kind, text="👍"), profile=None
    )
    first.conversation.refresh_from_db()
    assert first.conversation.last_inbound_at == T0


@pytest.mark.django_db
def test_naive_timestamp_raises(number):
    with pytest.raises(ValueError):
        inbound_message_receive(number=number, message=inbound(at=T0.replace(tzinfo=None)), profile=None)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["STOP", "stopp.", "Abmelden!", "  unsubscribe ", "Parar", "SAIR?", "Stop!!"])
def test_stop_keywords_opt_out_with_source_and_time(number, text):
    msg = inbound_message_receive(number=number, message=inbound(at=T0, text=text), profile=None)
    contact = msg.conversation.contact
    assert contact.marketing_opted_out_at == T0
    assert contact.marketing_opt_out_source == Contact.OptOutSource.KEYWORD


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["please stop calling me", "stopped", "Stopfen", ""])
def test_other_text_does_not_opt_out(number, text):
    msg = inbound_message_receive(number=number, message=inbound(at=T0, text=text), profile=None)
    assert not msg.conversation.contact.marketing_opted_out


@pytest.mark.django_db
def test_stop_keywords_configurable(number, settings):
    settings.CONVERSATIONS_OPT_OUT_KEYWORDS = ["HALT"]
    msg = inbound_message_receive(number=number, message=inbound(at=T0, text="halt!"), profile=None)
    assert msg.conversation.contact.marketing_opted_out


@pytest.mark.django_db
def test_stop_promotions_button_opts_out(number):
    raw = {"type": "button", "button": {"payload": "STOP_PROMO", "text": "Stop promotions"}}
    msg = inbound_message_receive(
        number=number, message=inbound(at=T0, type="button", text="Stop promotions", raw=raw), profile=None
    )
    assert msg.conversation.contact.marketing_opt_out_source == "button"  # a tapped stop button, not a typed keyword


@pytest.mark.django_db
def test_user_preferences_stop_and_resume(number):
    inbound_message_receive(number=number, message=inbound(at=T0), profile=None)
    contact = contact_preference_apply(preference=preference(value="stop", at=T0 + timedelta(hours=1)))
    assert contact.marketing_opted_out_at == T0 + timedelta(hours=1)
    assert contact.marketing_opt_out_source == "preferences"
    # A resume older than the stop (late webhook) does not undo it.
    contact = contact_preference_apply(preference=preference(value="resume", at=T0))
    assert contact.marketing_opted_out
    contact = contact_preference_apply(preference=preference(value="resume", at=T0 + timedelta(hours=2)))
    assert not contact.marketing_opted_out and contact.marketing_opt_out_source == ""


@pytest.mark.django_db
def test_preference_stop_for_unknown_contact_is_remembered(db):
    contact = contact_preference_apply(preference=preference(value="stop", at=T0, wa_id="447700900123"))
    assert contact.marketing_opted_out and contact.market == "GB"
    assert contact_preference_apply(preference=preference(value="resume", at=T0, wa_id="15550000000")) is None


def _outbound(conversation, wamid="wamid.OUT1", state="sent"):
    return Message.objects.create(
        conversation=conversation, direction="out", type="text", text="hi", wamid=wamid, status=state
    )


@pytest.mark.django_db
def test_status_monotonic_and_times_kept(number):
    conv = inbound_message_receive(number=number, message=inbound(at=T0), profile=None).conversation
    out = _outbound(conv)
    message_status_apply(status=status(wamid="wamid.OUT1", value="read", at=T0 + timedelta(seconds=30)))
    message_status_apply(status=status(wamid="wamid.OUT1", value="delivered", at=T0 + timedelta(seconds=20)))
    message_status_apply(status=status(wamid="wamid.OUT1", value="sent", at=T0 + timedelta(seconds=10)))
    out.refresh_from_db()
    assert out.status == "read"
    assert (out.sent_at, out.delivered_at, out.read_at) == (
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=20),
        T0 + timedelta(seconds=30),
    )
    message_status_apply(status=status(wamid="wamid.OUT1", value="played", at=T0 + timedelta(seconds=40)))
    message_status_apply(status=status(wamid="wamid.OUT1", value="read", at=T0 + timedelta(seconds=50)))
    out.refresh_from_db()
    assert out.status == "played"
    assert message_status_apply(status=status(wamid="wamid.unknown", value="read", at=T0)) is None


@pytest.mark.django_db
def test_failed_keeps_code_and_131047_closes_window(number):
    conv = inbound_message_receive(number=number, message=inbound(at=T0), profile=None).conversation
    out = _outbound(conv)
    closed = T0 + timedelta(hours=3)
    message_status_apply(
        status=status(
            wamid="wamid.OUT1",
            value="failed",
            at=closed,
            code=131047,
            title="Re-engagement message",
            details="More than 24 hours have passed",
        )
    )
    out.refresh_from_db()
    conv.refresh_from_db()
    assert (out.status, out.error_code, out.error_title) == ("failed", 131047, "Re-engagement message")
    assert out.error_details == "More than 24 hours have passed"
    assert out.failed_at == closed
    assert conv.window_closed_at == closed
    assert not conv.window_open(closed + timedelta(minutes=1))
    # A later delivered does not resurrect a failed message.
    message_status_apply(status=status(wamid="wamid.OUT1", value="delivered", at=closed + timedelta(seconds=1)))
    out.refresh_from_db()
    assert out.status == "failed"
    # The customer writing again opens a new window.
    inbound_message_receive(number=number, message=inbound(at=closed + timedelta(hours=1)), profile=None)
    conv.refresh_from_db()
    assert conv.window_open(closed + timedelta(hours=2))


@pytest.mark.django_db
def test_131050_opts_contact_out(number):
    conv = inbound_message_receive(number=number, message=inbound(at=T0), profile=None).conversation
    _outbound(conv)
    message_status_apply(status=status(wamid="wamid.OUT1", value="failed", at=T0, code=131050, title="Stopped"))
    conv.contact.refresh_from_db()
    assert conv.contact.marketing_opt_out_source == "meta_error"


@pytest.mark.django_db
def test_receive_pushes_events_on_commit(number, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    import conversations.events as ev

    monkeypatch.setattr(ev, "_push", lambda names, payload: sent.append((names, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        msg = inbound_message_receive(number=number, message=inbound(at=T0), profile=None)
    ids = {"conversation_id": msg.conversation_id, "number_id": number.pk}
    assert ([f"number.{number.pk}"], {"type": "message.new", **ids, "message_id": msg.pk}) in sent
    assert ([f"number.{number.pk}"], {"type": "conversation.updated", **ids}) in sent
