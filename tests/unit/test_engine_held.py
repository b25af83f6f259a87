"""What a run holds, against the in-memory SQS: messages kept hidden while a long scan runs (the
heartbeat, with the visibility timeout asked for), every number true when an error stops a
batch half-way, and the FIFO groups a scan cannot see past (issue 10's review, items 1, 5, 10).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.catalog import Dlq
from bot.cli import print_summary
from bot.engine import RedriveEngine, RedriveLedger
from bot.errors import AwsError
from bot.redrive_model import RedriveReport, RedriveRequest, StopReason
from bot.selection import Selection, day_window
from bot.sqs_model import ReceivedMessage, SendFailure
from tests.unit.fake_sqs import FakeSqs

UTC_ZONE = ZoneInfo("UTC")
YESTERDAY = Selection(window=day_window(date(2026, 11, 25), UTC_ZONE), time_field="day")
OLD = json.dumps({"day": "2026-11-24"})  # outside YESTERDAY
NEW = json.dumps({"day": "2026-11-25"})  # inside


class TimedSqs(FakeSqs):
    """Each receive takes ``seconds`` of the fake's clock (``slow``: that many for the receive
    of that number, counting from 1): a slow network, a --rate wait, a stalled process."""

    def __init__(self, seconds: float, slow: dict[int, float] | None = None) -> None:
        super().__init__()
        self.seconds, self.slow, self.receives = seconds, slow or {}, 0

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:
        self.receives += 1
        assert self.receives < 1_000, "the scan never ends"
        self.clock += self.slow.get(self.receives, self.seconds)
        return super().receive(url, **kwargs)


def engine(sqs: FakeSqs, ledger: RedriveLedger | None = None) -> RedriveEngine:
    """An engine that reads the time from the fake's clock."""
    return RedriveEngine(
        sqs, max_redrives=3, timezone=UTC_ZONE, ledger=ledger, clock=lambda: sqs.clock
    )


def request(**kwargs: Any) -> RedriveRequest:
    return RedriveRequest(**{"confirm_empty_wait_s": 0, "workers": 1, **kwargs})


def setup(sqs: FakeSqs, bodies: list[str]) -> tuple[Dlq, str, str]:
    dlq_url, source = sqs.create("orders-dlq"), sqs.create("orders")
    for body in bodies:
        sqs.put(dlq_url, body)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def extensions(sqs: FakeSqs) -> Counter[str]:
    """How often each message's visibility was extended (its handles are ``<id>#<n>``)."""
    return Counter(handle.split("#")[0] for handle, timeout in sqs.visibility_changes if timeout)


def assert_adds_up(report: RedriveReport) -> None:
    answer = report.to_dict()
    assert answer["scanned"] == answer["matched"] + answer["skipped"], answer
    assert answer["skipped"] == sum(answer["skipped_detail"].values()), answer
    kept = ("failed", "unconfirmed", "held_back", "not_attempted")
    assert answer["matched"] == answer["moved"] + sum(answer[k] for k in kept), answer


# --- 1, 2: the heartbeat keeps held messages hidden, for the timeout asked for ----------------


def test_a_run_shorter_than_half_the_visibility_timeout_extends_nothing() -> None:
    # Given 50 messages outside the selection and receives of 1 s (5 s in all; timeout 300 s)
    sqs = TimedSqs(seconds=1.0)
    dlq, dlq_url, _source = setup(sqs, [OLD] * 50)
    # When the DLQ is scanned
    report = engine(sqs).run(dlq, request(selection=YESTERDAY))
    # Then no visibility was extended: the only change is the release at the end (timeout 0)
    assert report.stopped is StopReason.DRAINED and report.out_of_window == 50
    assert {timeout for _, timeout in sqs.visibility_changes} == {0}
    assert report.api_calls["ChangeMessageVisibilityBatch"] == 5
    assert sqs.visible(dlq_url) == 50


def test_a_long_scan_keeps_every_held_message_hidden_at_a_bounded_cost() -> None:
    # Given 300 messages outside the selection, a 40 s visibility timeout and receives of 2 s:
    # the scan takes 60 s, one and a half timeouts
    sqs = TimedSqs(seconds=2.0)
    dlq, dlq_url, _source = setup(sqs, [OLD] * 300)
    # When the DLQ is scanned
    report = engine(sqs).run(dlq, request(selection=YESTERDAY, visibility_timeout=40))
    # Then no held message came back before the end (each was received once: 30 receives and
    # one empty one), each was extended to the 40 s asked for, at most once per 10 s (a quarter
    # of the timeout), and all are visible again at the end
    assert report.stopped is StopReason.DRAINED and report.scanned == 300
    assert sqs.receives == 31
    assert all(not m.older_handles for m in sqs.queues[dlq_url].messages.values())
    assert {timeout for _, timeout in sqs.visibility_changes} == {40, 0}
    assert 0 < max(extensions(sqs).values()) <= sqs.clock / 10 + 1
    assert sqs.visible(dlq_url) == 300 and report.released == 300


def test_a_held_message_that_comes_back_anyway_is_counted_once_and_released() -> None:
    # Given 40 messages outside the selection and a 30 s timeout, and the third receive taking
    # 100 s (a stalled process): the first 20 held messages come back before any heartbeat
    sqs = TimedSqs(seconds=1.0, slow={3: 100.0})
    dlq, dlq_url, _source = setup(sqs, [OLD] * 40)
    # When the DLQ is scanned
    report = engine(sqs).run(dlq, request(selection=YESTERDAY, visibility_timeout=30))
    # Then each message is counted once, the scan ends, and each is released with the handle
    # of its latest delivery (an older one may not work)
    assert report.stopped is StopReason.DRAINED
    assert report.scanned == report.out_of_window == 40
    released = {handle for handle, timeout in sqs.visibility_changes if timeout == 0}
    assert released == {m.handle for m in sqs.queues[dlq_url].messages.values()}
    assert sqs.visible(dlq_url) == 40


# --- 5: an error that stops a batch half-way -----------------------------------------------


TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}


class DeletedMessageComesBack(FakeSqs):
    """The first message deleted is delivered once more in the next receive: "you might get
    that message copy again when you receive messages" (SQS Developer Guide, at-least-once
    delivery: a server holding a copy was unavailable when it was deleted)."""

    def __init__(self) -> None:
        super().__init__()
        self.ghost: tuple[str, Any] | None = None
        self.came_back = False

    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]:
        if self.ghost is None and url.endswith("-dlq"):
            first = receipt_handles[0].split("#")[0]
            self.ghost = (url, self.queues[url].messages[first])
        return super().delete_batch(url, receipt_handles)

    def receive(self, url: str, **kwargs: Any) -> list[ReceivedMessage]:
        if self.ghost is not None and not self.came_back:
            self.came_back = True
            ghost_url, stored = self.ghost
            queue = self.queues[ghost_url]
            queue.messages = {stored.message_id: stored, **queue.messages}
            stored.invisible_until = 0.0
        return super().receive(url, **kwargs)


class RefusingLedger:
    """A state table that refuses to be read (AccessDenied)."""

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        raise AwsError("the state table refused to read (AccessDenied)", code="AccessDenied")

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        pass


def test_an_error_that_stops_a_batch_half_way_leaves_every_number_true() -> None:
    # Given 10 messages, then one with 10 attributes (the daily job's ledger counts its
    # redrives), a state table that refuses to be read, and SQS delivering the first moved
    # message again, in the same receive as the one with 10 attributes
    sqs = DeletedMessageComesBack()
    dlq, dlq_url, source = setup(sqs, [f"m-{n}" for n in range(10)])
    full = sqs.put(dlq_url, "full")
    sqs.queues[dlq_url].messages[full].message_attributes = dict(TEN_ATTRIBUTES)
    # When the DLQ is redriven
    report = engine(sqs, RefusingLedger()).run(dlq, request())
    # Then the run stops on the error; the selected message it had not sent is counted (not
    # attempted, kept, visible again); the second delivery of the moved one was deleted, never
    # released, and counted once; every number adds up, and nothing is lost or doubled
    assert report.stopped is StopReason.ERROR and "AccessDenied" in (report.error or "")
    assert (report.moved, report.not_attempted, report.redelivered) == (10, 1, 1)
    assert report.to_dict()["not_attempted"] == 1 and not report.complete
    assert sqs.bodies(dlq_url) == ["full"] and sqs.visible(dlq_url) == 1
    assert sorted(sqs.bodies(source)) == sorted(f"m-{n}" for n in range(10))
    assert_adds_up(report)
    summary = io.StringIO()
    print_summary(report, summary)
    assert "1 selected were not sent: the run stopped before it got to them" in summary.getvalue()


# --- 10: FIFO groups a scan cannot see past ---------------------------------------------------


def setup_fifo(sqs: FakeSqs, messages: list[tuple[str, str]]) -> tuple[Dlq, str, str]:
    dlq_url, source = sqs.create("orders-dlq.fifo"), sqs.create("orders.fifo")
    for group, body in messages:
        sqs.put(dlq_url, body, group=group)
    return Dlq(sqs.info(dlq_url), (sqs.info(source),)), dlq_url, source


def test_a_fifo_scan_that_holds_a_message_of_a_group_does_not_claim_it_saw_the_rest() -> None:
    sqs = FakeSqs()
    # Given a FIFO DLQ: group "a" has an old message then one of yesterday, received apart
    # (10 messages of other groups in between, all old)
    old = [("a", OLD)] + [(f"z{n}", OLD) for n in range(10)]
    dlq, dlq_url, source = setup_fifo(sqs, [*old, ("a", json.dumps({"day": "2026-11-25"}))])
    # When yesterday's messages are redriven
    report = engine(sqs).run(dlq, request(selection=YESTERDAY))
    # Then SQS never handed out a's second message while the run held its first, so it was not
    # moved; the run says it may not have seen every message of the 11 groups it held one of,
    # and is not complete
    assert report.stopped is StopReason.DRAINED and report.moved == 0
    assert sqs.bodies(source) == [] and sqs.visible(dlq_url) == 12
    assert report.scanned == 11 and report.blocked_groups == 11
    assert report.to_dict()["blocked_groups"] == 11
    assert report.went_wrong and not report.complete
    summary = io.StringIO()
    print_summary(report, summary)
    assert "may not have seen every message of 11 FIFO message group(s)" in summary.getvalue()


def test_a_fifo_run_that_held_nothing_or_only_what_is_over_the_limit_is_complete() -> None:
    sqs = FakeSqs()
    # Given a FIFO DLQ of three groups of four messages
    messages = [(g, f"{g}-{n}") for n in range(4) for g in "abc"]
    dlq, dlq_url, source = setup_fifo(sqs, messages)
    # When 6 of them are redriven, then the rest
    limited = engine(sqs).run(dlq, request(selection=Selection(limit=6)))
    rest = engine(sqs).run(dlq, request())
    # Then neither run blocked a group: what is held over --limit is where the run stops anyway
    assert limited.stopped is StopReason.LIMIT and limited.moved == 6
    assert limited.blocked_groups == 0 and limited.complete
    assert rest.moved == 6 and rest.blocked_groups == 0 and rest.complete
    assert sqs.visible(dlq_url) == 0 and len(sqs.bodies(source)) == 12
