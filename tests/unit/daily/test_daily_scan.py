"""Sampling a DLQ for the report: bounded, never deletes, leaves every message visible."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from typing import Any

import pytest

from bot.daily.scan import sample_messages
from bot.errors import AwsError
from bot.sqs_model import ReceivedMessage
from tests.unit.fake_sqs import FakeSqs

# 256 KiB of text with one emoji: Python then stores every character in 4 bytes (1 MiB a body).
LARGE_BODY_CHARS = 256 * 1024 - 4


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
    seen: list[ReceivedMessage] = []
    sample = sample_messages(sqs, url, limit=100, expected=25, on_message=seen.append)

    # Then every message was seen once, none deleted, all visible again, and no needless receive
    assert sorted(m.body for m in seen) == sorted(f"body-{n}" for n in range(25))
    assert sample.received == 25
    assert not sample.capped and sample.release_failures == 0
    assert sqs.visible(url) == 25 and len(sqs.queues[url].messages) == 25
    assert [c for c, _ in sqs.calls].count("receive") == 3
    assert "delete" not in [c for c, _ in sqs.calls]


def test_a_big_dlq_is_sampled_up_to_the_limit_and_says_so() -> None:
    sqs, url = _dlq(40)
    seen: list[ReceivedMessage] = []
    sample = sample_messages(sqs, url, limit=15, expected=40, on_message=seen.append)
    assert len(seen) == sample.received == 15 and sample.capped
    assert sqs.visible(url) == 40


def test_an_empty_dlq_costs_no_receive() -> None:
    sqs, url = _dlq(0)
    seen: list[ReceivedMessage] = []
    sample = sample_messages(sqs, url, limit=100, expected=0, on_message=seen.append)
    assert seen == [] and sample.received == 0 and sqs.calls == []


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
        sample_messages(sqs, url, limit=100, expected=30, on_message=lambda m: None)
    assert sqs.visible(url) == 30


def test_a_message_delivered_twice_is_handed_over_once() -> None:
    # Given a DLQ where SQS delivers one message a second time during the scan
    sqs, url = _dlq(12)
    sqs.redeliver.add(next(iter(sqs.queues[url].messages)))

    # When it is sampled
    seen: list[str] = []
    sample = sample_messages(
        sqs, url, limit=100, expected=12, on_message=lambda m: seen.append(m.message_id)
    )

    # Then each message reached the consumer once, and both deliveries were released
    assert sorted(seen) == sorted(sqs.queues[url].messages) and sample.received == 12
    assert sqs.visible(url) == 12


class FreshLargeBodies:
    """The fake SQS, each delivery carrying a fresh 256 KiB body, as if parsed from the wire;
    it remembers (weakly) what it delivered, to see what the scan keeps alive."""

    def __init__(self, sqs: FakeSqs) -> None:
        self.sqs = sqs
        self.delivered: list[weakref.ref[ReceivedMessage]] = []
        self.alive_at_receive: list[int] = []

    def alive(self) -> int:
        gc.collect()
        return sum(ref() is not None for ref in self.delivered)

    def receive(self, url: str, **options: Any) -> list[ReceivedMessage]:
        self.alive_at_receive.append(self.alive())
        batch = [
            replace(m, body=m.body + "x" * LARGE_BODY_CHARS + "\N{GRINNING FACE}")
            for m in self.sqs.receive(url, **options)
        ]
        self.delivered.extend(weakref.ref(m) for m in batch)
        return batch

    def change_visibility_batch(self, url: str, handles: Any, timeout: int) -> Any:
        return self.sqs.change_visibility_batch(url, handles, timeout)


def test_the_scan_keeps_no_message_once_handed_over() -> None:
    # Given a DLQ of 120 messages of 256 KiB each
    fake, url = _dlq(120)
    sqs = FreshLargeBodies(fake)
    sizes: list[int] = []

    # When it is sampled, the consumer keeping only each body's size
    sample = sample_messages(
        sqs,  # type: ignore[arg-type]
        url,
        limit=1000,
        expected=120,
        on_message=lambda m: sizes.append(len(m.body)),
    )

    # Then all 120 were handed over, yet no receive found an earlier batch still alive, and
    # nothing is alive after the scan: memory holds one batch at a time, whatever the sample
    assert sample.received == 120 and len(sizes) == 120
    assert max(sqs.alive_at_receive) == 0
    assert sqs.alive() == 0
    assert fake.visible(url) == 120
