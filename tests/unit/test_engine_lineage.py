"""The lineage a run stamps on its copies (the canary recognises what came back by it): the
planner adds it after the counter, drops it when no room is left, and a run never sends again a
copy of its own lineage that came back during it."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.planner import MAX_MESSAGE_BYTES, build_outgoing
from bot.redrive_model import RedriveRequest
from bot.selection import LINEAGE_ATTRIBUTE, REDRIVE_COUNT_ATTRIBUTE, lineage_of
from bot.sqs_model import ReceivedMessage
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")


def received(body: str = "{}", attrs: dict | None = None) -> ReceivedMessage:  # type: ignore[type-arg]
    return ReceivedMessage("m1", "h1", body, {"SentTimestamp": "1"}, attrs or {})


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def test_the_lineage_travels_after_the_counter() -> None:
    out = build_outgoing(received(attrs={"a": string("1")}), fifo=False, lineage="canary-1")
    attributes = out.entry["MessageAttributes"]
    assert attributes[LINEAGE_ATTRIBUTE] == string("canary-1")
    assert attributes[REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert not out.lineage_dropped and not out.counter_dropped
    expected_size = 2 + (1 + 6 + 1) + (17 + 6 + 1) + (19 + 6 + 8)
    assert out.size == expected_size


def test_no_lineage_asked_none_travels_and_an_old_one_is_removed() -> None:
    old = received(attrs={LINEAGE_ATTRIBUTE: string("old-run"), "a": string("1")})
    out = build_outgoing(old, fifo=False)
    assert LINEAGE_ATTRIBUTE not in out.entry["MessageAttributes"] and not out.lineage_dropped
    again = build_outgoing(old, fifo=False, lineage="new-run")
    assert again.entry["MessageAttributes"][LINEAGE_ATTRIBUTE] == string("new-run")


def test_the_lineage_is_dropped_when_the_counter_took_the_last_attribute() -> None:
    nine = {f"a{i}": string("x") for i in range(9)}
    out = build_outgoing(received(attrs=nine), fifo=False, lineage="canary-1")
    assert REDRIVE_COUNT_ATTRIBUTE in out.entry["MessageAttributes"]
    assert LINEAGE_ATTRIBUTE not in out.entry["MessageAttributes"]
    assert out.lineage_dropped and not out.counter_dropped
    assert len(out.entry["MessageAttributes"]) == 10


def test_the_lineage_is_dropped_when_the_size_has_no_room_for_it() -> None:
    counter_bytes = len(REDRIVE_COUNT_ATTRIBUTE) + len("Number") + 1
    body = "x" * (MAX_MESSAGE_BYTES - counter_bytes)
    out = build_outgoing(received(body), fifo=False, lineage="canary-1")
    assert not out.counter_dropped and out.lineage_dropped
    assert out.size == MAX_MESSAGE_BYTES


def setup(sqs: FakeSqs, count: int, attrs: int = 0) -> tuple[Dlq, str, str]:
    dlq_url = sqs.create("orders-dlq")
    source = sqs.create("orders", dead_letter_to=dlq_url)
    extra = {f"a{i}": string("x") for i in range(attrs)}
    for i in range(count):
        sqs.put(dlq_url, json.dumps({"n": i}), **extra)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def engine(sqs: FakeSqs) -> RedriveEngine:
    return RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE)  # type: ignore[arg-type]


def test_a_run_with_a_lineage_stamps_every_copy_and_counts_those_without() -> None:
    sqs = FakeSqs()
    dlq, dlq_url, source = setup(sqs, 6)
    sqs.put(dlq_url, "full", **{f"a{i}": string("x") for i in range(9)})
    report = engine(sqs).run(dlq, RedriveRequest(lineage="L1", confirm_empty_wait_s=0))
    copies = list(sqs.queues[source].messages.values())
    stamped = [m for m in copies if m.message_attributes.get(LINEAGE_ATTRIBUTE) == string("L1")]
    assert report.moved == 7 and len(stamped) == 6
    assert report.lineage_dropped == 1
    assert report.to_dict()["warnings"]["sent_without_lineage"] == 1


def test_a_run_does_not_send_again_a_copy_of_its_own_lineage_that_came_back() -> None:
    # Given a DLQ holding a copy this run's lineage sent before (it came back: the consumer
    # failed it again), a copy of another lineage, and a fresh message
    sqs = FakeSqs()
    dlq, dlq_url, source = setup(sqs, 1)
    sqs.put(dlq_url, "came back", **{LINEAGE_ATTRIBUTE: string("L1")})
    sqs.put(dlq_url, "older canary", **{LINEAGE_ATTRIBUTE: string("L0")})
    # When the run with lineage L1 goes on
    report = engine(sqs).run(dlq, RedriveRequest(lineage="L1", confirm_empty_wait_s=0))
    # Then the copy that came back stays in the DLQ, counted; the others move
    assert sqs.bodies(dlq_url) == ["came back"] and sqs.visible(dlq_url) == 1
    assert report.moved == 2 and report.returned == 1 and report.skipped == 1
    assert report.to_dict()["skipped_detail"]["returned_during_run"] == 1
    copies = [_as_received(m) for m in sqs.queues[source].messages.values()]
    assert [lineage_of(m) for m in copies] == ["L1", "L1"]


def test_without_a_lineage_a_returned_canary_copy_moves_like_any_message() -> None:
    sqs = FakeSqs()
    dlq, dlq_url, source = setup(sqs, 0)
    sqs.put(dlq_url, "came back", **{LINEAGE_ATTRIBUTE: string("L1")})
    report = engine(sqs).run(dlq, RedriveRequest(confirm_empty_wait_s=0))
    assert report.moved == 1 and report.returned == 0
    (copy,) = sqs.queues[source].messages.values()
    assert LINEAGE_ATTRIBUTE not in copy.message_attributes


def _as_received(stored: object) -> ReceivedMessage:
    return ReceivedMessage(
        "x",
        "h",
        stored.body,  # type: ignore[attr-defined]
        {},
        stored.message_attributes,  # type: ignore[attr-defined]
    )
