"""An approved redrive moves what its count counted (issue 11): the dry run's ``matched_digests``
and the approved run's ``Selection.pin``, on the in-memory SQS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.redrive_model import RedriveRequest
from bot.selection import PIN_MAX_IDS, Pin, PinTally, Selection, TimeWindow, pin_digest
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")
COUNTED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


def put(sqs: FakeSqs, url: str, body: str, sent: datetime) -> str:
    """A message with the SentTimestamp ``sent`` (a standard DLQ keeps the original one)."""
    message_id = sqs.put(url, body)
    sqs.queues[url].messages[message_id].attributes["SentTimestamp"] = str(
        int(sent.timestamp() * 1000)
    )
    return message_id


def setup(sqs: FakeSqs) -> tuple[Dlq, str, str]:
    dlq_url = sqs.create("orders-dlq")
    source = sqs.create("orders")
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def engine(sqs: FakeSqs) -> RedriveEngine:
    return RedriveEngine(sqs, max_redrives=3, timezone=UTC_ZONE)  # type: ignore[arg-type]


def request(selection: Selection, *, dry_run: bool = False) -> RedriveRequest:
    return RedriveRequest(selection=selection, dry_run=dry_run, workers=2, confirm_empty_wait_s=0)


def approved(count_report_digests: frozenset[bytes] | None, limit: int) -> Selection:
    """The selection of the run an approval starts: the count's cap and its pin."""
    return Selection(limit=limit, pin=Pin(COUNTED_AT, count_report_digests))


def test_a_pinned_run_moves_the_counted_messages_not_the_newcomers(sqs: FakeSqs) -> None:
    # Given a count of 3 messages, then 2 of them moved by someone else, and 3 newcomers
    # (dead-lettered after the count, but sent earlier: a standard DLQ keeps SentTimestamp)
    dlq, dlq_url, source = setup(sqs)
    counted = [put(sqs, dlq_url, f"counted-{i}", COUNTED_AT - timedelta(hours=1)) for i in range(3)]
    count = engine(sqs).run(dlq, request(Selection(), dry_run=True))
    assert count.matched == 3
    for message_id in counted[:2]:
        del sqs.queues[dlq_url].messages[message_id]
    for i in range(3):
        put(sqs, dlq_url, f"newcomer-{i}", COUNTED_AT - timedelta(days=1))
    # When the approved run starts, with the cap of 3 and the pin of the count
    report = engine(sqs).run(dlq, request(approved(count.matched_digests, limit=3)))
    # Then it moves the one counted message left and leaves the newcomers in the DLQ
    assert sqs.bodies(source) == ["counted-2"]
    assert sorted(m.body for m in sqs.queues[dlq_url].messages.values()) == [
        "newcomer-0",
        "newcomer-1",
        "newcomer-2",
    ]
    assert (report.matched, report.moved, report.out_of_window, report.skipped) == (1, 1, 3, 3)
    assert sqs.visible(dlq_url) == 3  # released like any message outside the selection


def test_without_the_pin_the_cap_alone_takes_the_newcomers(sqs: FakeSqs) -> None:
    # Given the same DLQ: the counted messages gone, newcomers there
    dlq, dlq_url, source = setup(sqs)
    counted = [put(sqs, dlq_url, f"counted-{i}", COUNTED_AT - timedelta(hours=1)) for i in range(3)]
    count = engine(sqs).run(dlq, request(Selection(), dry_run=True))
    for message_id in counted:
        del sqs.queues[dlq_url].messages[message_id]
    for i in range(3):
        put(sqs, dlq_url, f"newcomer-{i}", COUNTED_AT - timedelta(days=1))
    # When a run has only the count's cap
    capped = engine(sqs).run(dlq, request(Selection(limit=3)))
    # Then the cap alone moved the 3 newcomers (what the issue reproduced on main)
    assert capped.moved == 3 and sqs.bodies(source) == ["newcomer-0", "newcomer-1", "newcomer-2"]
    # And when, after 3 more newcomers, a run has the count's pin too, it moves none of them
    for i in range(3):
        put(sqs, dlq_url, f"later-{i}", COUNTED_AT - timedelta(days=1))
    pinned = engine(sqs).run(dlq, request(approved(count.matched_digests, limit=3)))
    assert pinned.moved == 0 and pinned.out_of_window == 3
    assert len(sqs.queues[dlq_url].messages) == 3


def test_a_message_sent_at_or_after_the_count_is_not_moved(sqs: FakeSqs) -> None:
    # Given a pin without ids (the count matched too many) and messages around its time
    dlq, dlq_url, source = setup(sqs)
    put(sqs, dlq_url, "before", COUNTED_AT - timedelta(seconds=1))
    put(sqs, dlq_url, "at", COUNTED_AT)
    put(sqs, dlq_url, "after", COUNTED_AT + timedelta(seconds=1))
    # When the pinned run moves
    report = engine(sqs).run(dlq, request(Selection(pin=Pin(COUNTED_AT, None))))
    # Then only the one sent before the count's time moved
    assert sqs.bodies(source) == ["before"]
    assert (report.moved, report.out_of_window) == (1, 2)


def test_a_counted_id_sent_after_the_pin_time_is_not_moved(sqs: FakeSqs) -> None:
    # Given a pinned id whose SentTimestamp is not before the pin's time (both must hold)
    dlq, dlq_url, source = setup(sqs)
    late = put(sqs, dlq_url, "late", COUNTED_AT + timedelta(minutes=1))
    on_time = put(sqs, dlq_url, "on-time", COUNTED_AT - timedelta(minutes=1))
    pin = Pin(COUNTED_AT, frozenset({pin_digest(late), pin_digest(on_time)}))
    # When the pinned run moves
    report = engine(sqs).run(dlq, request(Selection(pin=pin)))
    # Then only the one sent before the time moved
    assert sqs.bodies(source) == ["on-time"] and report.moved == 1


def test_a_dry_run_pins_exactly_the_messages_it_matched(sqs: FakeSqs) -> None:
    # Given messages in and out of a window, one unreadable and one poison
    dlq, dlq_url, _ = setup(sqs)
    window = TimeWindow(COUNTED_AT - timedelta(days=1), COUNTED_AT)
    inside = [put(sqs, dlq_url, f"in-{i}", COUNTED_AT - timedelta(hours=i + 1)) for i in range(5)]
    put(sqs, dlq_url, "old", COUNTED_AT - timedelta(days=2))
    poison = put(sqs, dlq_url, "poison", COUNTED_AT - timedelta(hours=2))
    sqs.queues[dlq_url].messages[poison].message_attributes["dlq-redrive-count"] = {
        "DataType": "Number",
        "StringValue": "3",
    }
    # When it is counted by a dry run
    report = engine(sqs).run(dlq, request(Selection(window=window), dry_run=True))
    # Then its digests are those of exactly the matched messages
    assert report.matched == 5 and (report.out_of_window, report.needs_human) == (1, 1)
    assert report.matched_digests == frozenset(pin_digest(m) for m in inside)
    assert len(sqs.queues[dlq_url].messages) == 7  # a dry run moves nothing


def test_a_dry_run_over_a_limit_pins_only_what_it_counted(sqs: FakeSqs) -> None:
    # Given more messages than the count's limit
    dlq, dlq_url, _ = setup(sqs)
    for i in range(12):
        put(sqs, dlq_url, json.dumps({"n": i}), COUNTED_AT - timedelta(hours=1))
    # When a dry run counts at most 4
    report = engine(sqs).run(dlq, request(Selection(limit=4), dry_run=True))
    # Then it pins the 4 it counted
    assert report.matched == 4
    assert report.matched_digests is not None and len(report.matched_digests) == 4


def test_a_real_run_keeps_no_digests(sqs: FakeSqs) -> None:
    dlq, dlq_url, _ = setup(sqs)
    put(sqs, dlq_url, "one", COUNTED_AT)
    report = engine(sqs).run(dlq, request(Selection()))
    assert report.moved == 1 and report.matched_digests is None


def test_the_tally_keeps_digests_up_to_the_bound_and_none_past_it() -> None:
    # Given a tally at the real bound
    tally = PinTally()
    ids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(PIN_MAX_IDS)]
    for message_id in ids:
        tally.add(message_id)
    tally.add(ids[0])  # a message counted twice (delivered twice) is one message
    # Then at the bound every digest is kept
    assert tally.digests == frozenset(pin_digest(m) for m in ids)
    # When one more is matched, none is kept, and none is collected from then on
    tally.add("one-too-many")
    assert tally.digests is None
    tally.add("yet-another")
    assert tally.digests is None


def test_a_pinned_run_says_the_poison_of_its_selection_needs_a_human(sqs: FakeSqs) -> None:
    # Given a DLQ with 2 messages and 1 poison (redriven 3 times): the count says the poison
    # one "stays for a human" (the LocalStack drill: its card said 284 poison, the approved
    # run's card "0 need a human", with the 284 still in the DLQ)
    from bot.selection import REDRIVE_COUNT_ATTRIBUTE

    dlq, dlq_url, _source = setup(sqs)
    before = COUNTED_AT - timedelta(hours=1)
    for i in range(2):
        put(sqs, dlq_url, f"ok-{i}", before)
    poison_id = put(sqs, dlq_url, "poison", before)
    counter = {"DataType": "Number", "StringValue": "3"}
    sqs.queues[dlq_url].messages[poison_id].message_attributes[REDRIVE_COUNT_ATTRIBUTE] = counter
    count = engine(sqs).run(dlq, request(Selection(), dry_run=True))
    assert (count.matched, count.needs_human) == (2, 1)
    # When the approved run goes, pinned to the 2 counted
    report = engine(sqs).run(dlq, request(approved(count.matched_digests, limit=2)))
    # Then it moves them and says, like the count, that the poison one needs a human
    assert report.moved == 2
    assert (report.needs_human, report.out_of_window) == (1, 0)
    assert sqs.bodies(dlq_url) == ["poison"]
