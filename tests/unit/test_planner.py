"""What is sent back: body, attributes, trace header, FIFO ids, counter, batch limits."""

from __future__ import annotations

from bot.planner import (
    MAX_ATTRIBUTES,
    MAX_MESSAGE_BYTES,
    batch_entries,
    batches,
    build_outgoing,
    dedup_id,
    group_waves,
)
from bot.selection import REDRIVE_COUNT_ATTRIBUTE
from bot.sqs_model import ReceivedMessage

ATTRS = {
    "text": {
        "DataType": "String",
        "StringValue": "héllo",
        "StringListValues": [],
        "BinaryListValues": [],
    },
    "num": {"DataType": "Number", "StringValue": "-1.5e3"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"},
    "custom": {"DataType": "String.tenant", "StringValue": "acme"},
}


def received(body: str = '{"id": 1}', attrs: dict | None = None, **system: str) -> ReceivedMessage:
    return ReceivedMessage("msg-1", "handle-1", body, dict(system), dict(attrs or {}))


def test_body_and_every_attribute_are_kept_and_the_counter_starts_at_one() -> None:
    out = build_outgoing(received("ünïcode ✓ 🎉", ATTRS), fifo=False)
    assert out.entry["MessageBody"] == "ünïcode ✓ 🎉"
    sent = out.entry["MessageAttributes"]
    assert sent["text"] == {"DataType": "String", "StringValue": "héllo"}  # empty lists dropped
    assert sent["num"] == ATTRS["num"]
    assert sent["blob"] == ATTRS["blob"]
    assert sent["custom"] == ATTRS["custom"]
    assert sent[REDRIVE_COUNT_ATTRIBUTE] == {"DataType": "Number", "StringValue": "1"}
    assert "MessageGroupId" not in out.entry
    assert not out.counter_dropped


def test_the_counter_is_incremented_not_duplicated() -> None:
    attrs = {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "2"}}
    out = build_outgoing(received(attrs=attrs), fifo=False)
    assert out.entry["MessageAttributes"] == {
        REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "3"}
    }


def test_a_message_with_ten_attributes_goes_without_the_counter_and_says_so() -> None:
    attrs = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(MAX_ATTRIBUTES)}
    out = build_outgoing(received(attrs=attrs), fifo=False)
    assert out.counter_dropped
    assert out.entry["MessageAttributes"] == attrs


def test_a_message_the_counter_would_take_over_the_size_limit_goes_without_it() -> None:
    # Given a body that fits SQS's message size exactly, and one that leaves room for the counter
    full = build_outgoing(received("x" * MAX_MESSAGE_BYTES), fifo=False)
    counter_bytes = len(REDRIVE_COUNT_ATTRIBUTE) + len("Number") + len("1")
    roomy = build_outgoing(received("x" * (MAX_MESSAGE_BYTES - counter_bytes)), fifo=False)
    # Then the first travels without the counter (SQS would refuse it), and says so
    assert full.counter_dropped and "MessageAttributes" not in full.entry
    assert full.size == MAX_MESSAGE_BYTES
    # And the second keeps it, exactly at the limit
    assert not roomy.counter_dropped
    assert roomy.entry["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert roomy.size == MAX_MESSAGE_BYTES


def test_a_message_already_over_the_default_size_keeps_the_counter() -> None:
    # A queue may allow up to 1 MiB: a message that big was accepted without the counter's help
    big = build_outgoing(received("x" * (MAX_MESSAGE_BYTES + 1)), fifo=False)
    assert not big.counter_dropped
    assert big.entry["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"


def test_a_counter_among_ten_attributes_keeps_its_place() -> None:
    attrs = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(9)}
    attrs[REDRIVE_COUNT_ATTRIBUTE] = {"DataType": "Number", "StringValue": "1"}
    out = build_outgoing(received(attrs=attrs), fifo=False)
    assert not out.counter_dropped
    assert out.entry["MessageAttributes"][REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "2"


def test_the_trace_header_is_the_one_system_attribute_sent_back() -> None:
    out = build_outgoing(received(AWSTraceHeader="Root=1-abc", SenderId="X"), fifo=False)
    assert out.entry["MessageSystemAttributes"] == {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
    }


def test_fifo_keeps_the_group_and_gets_a_stable_dedup_id_per_redrive() -> None:
    first = build_outgoing(received(MessageGroupId="customer-7"), fifo=True)
    again = build_outgoing(received(MessageGroupId="customer-7"), fifo=True)
    assert first.entry["MessageGroupId"] == "customer-7"
    # a retried send of the same redrive is deduplicated by SQS ...
    assert first.entry["MessageDeduplicationId"] == again.entry["MessageDeduplicationId"]
    # ... while the next redrive of the message (counter 1 -> 2) is a new message
    attrs = {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"}}
    later = build_outgoing(received(attrs=attrs, MessageGroupId="customer-7"), fifo=True)
    assert later.entry["MessageDeduplicationId"] != first.entry["MessageDeduplicationId"]
    assert len(first.entry["MessageDeduplicationId"]) <= 128
    assert first.entry["MessageDeduplicationId"] == dedup_id("msg-1", 1)


def test_batches_respect_ten_entries_and_the_payload_limit_in_order() -> None:
    small = [build_outgoing(received(f"m{i}"), fifo=False) for i in range(23)]
    sizes = [len(b) for b in batches(small)]
    assert sizes == [10, 10, 3]
    big = [build_outgoing(received("x" * 100_000), fifo=False) for _ in range(5)]
    grouped = list(batches(big, max_bytes=256 * 1024))
    assert [len(b) for b in grouped] == [2, 2, 1]
    assert all(sum(item.size for item in b) <= 256 * 1024 for b in grouped)
    huge = [build_outgoing(received("y" * 300_000), fifo=False)]
    assert [len(b) for b in batches(huge)] == [1]  # travels alone


def test_batch_entries_have_ids_that_index_the_batch() -> None:
    batch = [build_outgoing(received(f"m{i}"), fifo=False) for i in range(3)]
    entries = batch_entries(batch)
    assert [e["Id"] for e in entries] == ["0", "1", "2"]
    assert [e["MessageBody"] for e in entries] == ["m0", "m1", "m2"]


def test_the_counter_follows_the_destinations_maximum_message_size() -> None:
    # Given a destination that takes 1 MiB (SQS's maximum since 2025)
    mib = 1024 * 1024
    counter_bytes = len(REDRIVE_COUNT_ATTRIBUTE) + len("Number") + len("1")
    # Then a body at the old 256 KiB limit keeps its counter, one that fills 1 MiB goes without
    old_limit = build_outgoing(received("x" * MAX_MESSAGE_BYTES), fifo=False, max_message_bytes=mib)
    full = build_outgoing(received("x" * mib), fifo=False, max_message_bytes=mib)
    roomy = build_outgoing(received("x" * (mib - counter_bytes)), fifo=False, max_message_bytes=mib)
    assert not old_limit.counter_dropped and old_limit.size == MAX_MESSAGE_BYTES + counter_bytes
    assert full.counter_dropped and full.size == mib
    assert not roomy.counter_dropped and roomy.size == mib
    # And for a queue that takes 1,024 bytes, its own limit decides
    small = build_outgoing(received("x" * 1024), fifo=False, max_message_bytes=1024)
    assert small.counter_dropped and small.size == 1024


def test_fifo_waves_carry_one_message_per_group_each_group_in_order() -> None:
    # Given a receive with three groups, one of them interleaved
    order = ["a0", "a1", "b0", "a2", "c0", "b1"]
    items = [build_outgoing(received(name, MessageGroupId=name[0]), fifo=True) for name in order]
    # Then the waves hold each group at most once, and keep each group's order
    waves = [[item.entry["MessageBody"] for item in wave] for wave in group_waves(items)]
    assert waves == [["a0", "b0", "c0"], ["a1", "b1"], ["a2"]]
    assert all(item.group == item.entry["MessageGroupId"] for item in items)
