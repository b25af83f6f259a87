"""Sampling a DLQ for the report: bounded, never deletes, leaves every message visible."""

from __future__ import annotations

from typing import Any

import pytest

from bot.daily.scan import sample_messages
from bot.errors import AwsError
from bot.sqs_gateway import ReceivedMessage
from tests.unit.fake_sqs import FakeSqs


def _dlq(count: int) -> tuple[FakeSqs, str]:
    sqs = FakeSqs()
    url = sqs.create("orders-dlq")
    for n in range(count):
        sqs.put(url, f"body-{n}")
    return sqs, url


def test_a_small_dlq_is_read_whole_and_left_as_it_was() -> None:
    # Given a DLQ with 25 messages
    sqs, url = _dlq(25)

    # When it is sampled with room for more
    sample = sample_messages(sqs, url, limit=100, expected=25, confirm_wait_s=0)

    # Then every message was seen once, none deleted, all visible again, and no needless receive
    assert sorted(m.body for m in sample.messages) == sorted(f"body-{n}" for n in range(25))
    assert not sample.capped and sample.release_failures == 0
    assert sqs.visible(url) == 25 and len(sqs.queues[url].messages) == 25
    assert [c for c, _ in sqs.calls].count("receive") == 3
    assert "delete" not in [c for c, _ in sqs.calls]


def test_a_big_dlq_is_sampled_up_to_the_limit_and_says_so() -> None:
    sqs, url = _dlq(40)
    sample = sample_messages(sqs, url, limit=15, expected=40, confirm_wait_s=0)
    assert len(sample.messages) == 15 and sample.capped
    assert sqs.visible(url) == 40


def test_an_empty_dlq_costs_no_receive() -> None:
    sqs, url = _dlq(0)
    sample = sample_messages(sqs, url, limit=100, expected=0)
    assert sample.messages == [] and sqs.calls == []


def test_messages_are_released_even_when_a_receive_fails_midway() -> None:
    # Given a DLQ whose second receive fails
    sqs, url = _dlq(30)
    real_receive = sqs.receive
    calls = 0

    def flaky(*args: Any, **kwargs: Any) -> list[ReceivedMessage]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise AwsError("AWS refused receiving: Throttling")
        return real_receive(*args, **kwargs)

    sqs.receive = flaky  # type: ignore[method-assign]

    # When the scan fails, then the error surfaces and the first batch is visible again
    with pytest.raises(AwsError):
        sample_messages(sqs, url, limit=100, expected=30, confirm_wait_s=0)
    assert sqs.visible(url) == 30
