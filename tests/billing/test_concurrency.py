"""Parallel sends: one record each, the exact sum, and a hard-stop budget that never overshoots."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import Sum

from billing.exceptions import BudgetExceeded
from billing.models import BillingRecord, Budget
from billing.selectors import summary
from billing.services import billing_record_for_message
from tests.billing.conftest import conversation_for, outbound, utc


def _race(conversation, n: int) -> tuple[int, int, list[BaseException]]:
    """n threads, each its own transaction: create the message, then bill it (the send path)."""
    barrier = threading.Barrier(n)
    ok, refused, errors = [], [], []

    def one(i: int):
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                message = outbound(conversation, name=f"promo_{i % 3}")
                billing_record_for_message(message=message, now=utc(2026, 8, 3, 10, 0, i % 60))
            ok.append(i)
        except BudgetExceeded:
            refused.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    return len(ok), len(refused), errors


@pytest.mark.django_db(transaction=True)
def test_100_parallel_template_sends_make_exactly_100_records_and_the_exact_sum(number):
    conversation = conversation_for(number)
    ok, refused, errors = _race(conversation, 100)
    assert errors == [] and (ok, refused) == (100, 0)
    assert BillingRecord.objects.count() == 100
    assert BillingRecord.objects.values("message").distinct().count() == 100
    assert BillingRecord.objects.aggregate(s=Sum("amount"))["s"] == Decimal("0.1365") * 100
    (usd,) = summary(month=date(2026, 8, 1)).totals
    assert (usd.count, usd.total) == (100, Decimal("13.65"))


@pytest.mark.django_db(transaction=True)
def test_the_budget_stop_holds_under_50_parallel_sends(number):
    # Room for exactly 7 marketing messages at 0.1365 (0.9555), not 8 (1.092).
    Budget.objects.create(number=number, month=date(2026, 8, 1), amount=Decimal("1.00"), hard_stop=True)
    conversation = conversation_for(number)
    ok, refused, errors = _race(conversation, 50)
    assert errors == []
    assert (ok, refused) == (7, 43)
    spent = BillingRecord.objects.aggregate(s=Sum("amount"))["s"]
    assert spent == Decimal("0.9555") <= Decimal("1.00")
    # Refused sends left nothing behind: their transactions rolled back with the message.
    from conversations.models import Message

    assert Message.objects.filter(direction="out").count() == 7
