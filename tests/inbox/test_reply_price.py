"""Inside the window a reply is free within the number's monthly tier; once the tier is used up
(from 2026-10-01) the composer says what the reply will cost before the agent sends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conversations.conftest import receive


@pytest.mark.django_db
def test_the_composer_shows_a_replys_price_only_past_the_free_tier(client, agent, number, settings):
    thread = receive(number, at=timezone.now() - timedelta(hours=1)).conversation
    client.force_login(agent)

    assert b"This reply costs" not in client.get(f"/inbox/c/{thread.pk}/").content

    settings.BILLING_SERVICE_FREE_TIER = 0  # the month's free service messages are used up
    page = client.get(f"/inbox/c/{thread.pk}/").content.decode()
    assert "This reply costs" in page and "USD" in page


@pytest.mark.django_db
@pytest.mark.parametrize("treatment", ["free", "free_tier", "charged"])
@pytest.mark.parametrize("tier", [0, 1, 1000])
def test_the_composers_price_is_the_quotes(number, settings, treatment, tier, django_assert_max_num_queries):
    """reply_price settles "free" from the rule and the month's count alone: the same answer as
    the full quote, whatever the rule's treatment and however much of the tier is used."""
    from billing.models import MonthlyUsage, PricingRule
    from billing.rules import month_of
    from billing.selectors import quote, reply_price

    now = timezone.now()
    thread = receive(number, at=now - timedelta(hours=1)).conversation
    in_force = PricingRule.objects.filter(category="service", effective_from__lte=now.date()).latest("effective_from")
    PricingRule.objects.filter(category="service", effective_from=in_force.effective_from).update(treatment=treatment)
    settings.BILLING_SERVICE_FREE_TIER = tier
    MonthlyUsage.objects.update_or_create(number=number, month=month_of(now), defaults={"service_count": 1})

    full = quote(number=number, contact=thread.contact, kind="service", at=now, in_window=True)
    with django_assert_max_num_queries(2 if full.free else 8):
        price = reply_price(number=number, contact=thread.contact, at=now)
    assert price == (None if full.free else full)
    assert full.free == (treatment == "free" or (treatment == "free_tier" and tier > 1))
