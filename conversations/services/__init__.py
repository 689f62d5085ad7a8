"""Writes for contacts, threads and messages: receiving from Meta and what agents do.

The package follows the pipeline: `contacts` (who the customer is, their marketing opt-out),
`inbound` (webhooks: messages and statuses), `outbound` (what agents and the API send, recorded
as queued), `delivery` (a queued message handed to Meta, once), `threads` (mark read, assign,
status, labels) and `canned` (canned responses). Reads live in `conversations.selectors`.

The names callers use are re-exported here, so `from conversations import services` and
`services.message_send_text(...)` keep working; new code may import from the modules.
"""

from __future__ import annotations

from conversations.services.canned import canned_expand, canned_response_save
from conversations.services.contacts import (
    contact_for_identity,
    contact_opt_in,
    contact_opt_out,
    contact_preference_apply,
    is_opt_out_button,
    is_opt_out_keyword,
    market_for,
)
from conversations.services.delivery import (
    early_statuses_purge,
    may_have_been_delivered_reason,
    message_claim,
    message_claim_loaded,
    message_media_uploaded,
    message_requeue,
    message_send_failed,
    message_sent_record,
    messages_stuck_sending_fail,
)
from conversations.services.inbound import (
    conversation_get_or_create,
    inbound_message_receive,
    message_status_apply,
    number_for_phone_number_id,
)
from conversations.services.outbound import (
    media_kind_for,
    message_react,
    message_retry,
    message_retry_may_duplicate,
    message_retry_refusal,
    message_send_media,
    message_send_template,
    message_send_text,
    note_add,
)
from conversations.services.threads import (
    conversation_assign,
    conversation_label_add,
    conversation_label_remove,
    conversation_mark_read,
    conversation_status_set,
    conversations_wake_snoozed,
)

__all__ = [
    "canned_expand",
    "canned_response_save",
    "contact_for_identity",
    "contact_opt_in",
    "contact_opt_out",
    "contact_preference_apply",
    "conversation_assign",
    "conversation_get_or_create",
    "conversation_label_add",
    "conversation_label_remove",
    "conversation_mark_read",
    "conversation_status_set",
    "conversations_wake_snoozed",
    "early_statuses_purge",
    "inbound_message_receive",
    "is_opt_out_button",
    "is_opt_out_keyword",
    "market_for",
    "may_have_been_delivered_reason",
    "media_kind_for",
    "message_claim",
    "message_claim_loaded",
    "message_media_uploaded",
    "message_react",
    "message_requeue",
    "message_retry",
    "message_retry_may_duplicate",
    "message_retry_refusal",
    "message_send_failed",
    "message_send_media",
    "message_send_template",
    "message_send_text",
    "message_sent_record",
    "message_status_apply",
    "messages_stuck_sending_fail",
    "note_add",
    "number_for_phone_number_id",
]
