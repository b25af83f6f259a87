"""A daily invocation that died on every attempt (timeout, out of memory) is recorded from
Lambda's on-failure destination record: its run is marked failed, unless another attempt
completed it or holds it, and the report stops saying "still running" (issue 11). Against the
in-memory state table and Slack: no server."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.daily.events import Continuation
from bot.daily.failures import DailyFailures, daily_reason, record_daily_failure
from bot.daily.lease import DONE, FAILED
from bot.daily.once import Attempt, LeaseTiming
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus
from bot.errors import UsageError
from bot.lambda_api import FailedInvocation
from bot.selection import Selection, day_window
from tests.unit.daily.fakes import Stores, calls_to, section_texts

SCHEDULED = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)
DAY = date(2026, 3, 10)
REQUEST_ID = "e4b46cbf-b738-xmpl-8880-a18cdf61200e"
NOW_MS = int(datetime(2026, 3, 11, 6, 30, tzinfo=UTC).timestamp() * 1000)

# The record as the AWS Lambda Developer Guide shows it ("Capturing records of Lambda
# asynchronous invocations"), its requestPayload replaced by the daily's own event.
AWS_RECORD: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2019-11-14T18:16:05.568Z",
    "requestContext": {
        "requestId": REQUEST_ID,
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {},
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "responsePayload": {
        "errorMessage": f"RequestId: {REQUEST_ID} Process exited before completing request"
    },
}
SCHEDULE_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "time": "2026-03-11T06:00:00Z",
    "detail": {},
}


def _record(payload: dict[str, Any], **response: str) -> dict[str, Any]:
    record = copy.deepcopy(AWS_RECORD)
    record["requestPayload"] = payload
    if response:
        record["responsePayload"] = response
    return record


def _failures(stores: Stores) -> DailyFailures:
    return DailyFailures(
        leases=stores.leases,
        snapshots=stores.snapshots,
        poster=stores.poster,
        updates=stores.updates,
        timezone=ZoneInfo("UTC"),
        clock=stores.clock,
    )


def _posted_report_still_running(stores: Stores) -> str:
    """A 06:00 run that posted its report with orders-dlq's auto-redrive still running, kept
    the report for its continuation and counted 4 moves; the report's ts."""
    selection = Selection(window=day_window(DAY, ZoneInfo("UTC")))
    running = AutoRedrive(moved=4, continuing=True, selection=selection)
    report = DailyReport(
        day=DAY,
        timezone="UTC",
        generated_at=SCHEDULED,
        dlqs=(DlqStatus(name="orders-dlq", depth=20, depth_before=24, redrive=running),),
        auto_redrive_names=("orders-dlq",),
    )
    key = SCHEDULED.isoformat()
    first = Attempt(None, "report#" + key, "r1", LeaseTiming(), None)
    ts = stores.updates.publish(key, report, first)
    assert ts is not None and "still running" in section_texts(stores.slack)[-1]
    stores.updates.keep(SCHEDULED, report, SCHEDULED)
    stores.snapshots.add_moved(key, "orders-dlq", 4, now=SCHEDULED)
    return ts


def _continuation(ts: str) -> Continuation:
    selection = Selection(window=day_window(DAY, ZoneInfo("UTC")))
    return Continuation(
        scheduled=SCHEDULED,
        day=DAY,
        queues=("orders-dlq",),
        invocation=2,
        channel="C0REPORT",
        thread_ts=ts,
        results={"orders-dlq": AutoRedrive(moved=4, continuing=True, selection=selection)},
    )


def test_a_continuation_that_died_on_every_attempt_no_longer_reads_still_running() -> None:
    # Given a report whose auto-redrive went on in a continuation, which moved 3 (counted) and
    # 2 more (noted in its lease, not counted) before every attempt of it was killed
    stores = Stores.make()
    ts = _posted_report_still_running(stores)
    work = _continuation(ts)
    stores.leases.claim(work.idempotency_key, REQUEST_ID, now_ms=NOW_MS - 60_000, lease_ms=45_000)
    stores.snapshots.add_moved(SCHEDULED.isoformat(), "orders-dlq", 3, now=SCHEDULED)
    stores.leases.renew(
        work.idempotency_key, REQUEST_ID, until_ms=NOW_MS - 10_000, pending={"orders-dlq": 2}
    )

    # When Lambda's on-failure destination record of that continuation arrives
    outcome = record_daily_failure(_record(work.to_event()), _failures(stores))

    # Then the run is marked failed, with the reason
    assert outcome["status"] == "failed" and outcome["update_error"] is None
    lease = stores.leases.read(work.idempotency_key, now_ms=NOW_MS)
    assert lease is not None and lease.state == FAILED
    assert "failed on each of its 3 attempts" in str(lease.result)
    # And the thread says it stopped, why, and what moved in all (4 + 3 + 2)
    reply = calls_to(stores.slack, "chat.postMessage")[-1]
    assert reply["thread_ts"] == ts
    text = section_texts(stores.slack)[-1]
    assert "stopped after 2 invocations without finishing" in text
    assert "orders-dlq*: 9 moved back" in text
    assert "Invocation 2 did not finish: the daily function failed on each of its 3 attempts" in (
        text
    )
    assert "Process exited before completing request" in text
    # And the report itself no longer says "still running", but that it stopped and why
    [update] = section_texts(stores.slack, "chat.update")
    assert "still running" not in update
    assert "moved 9 back; then it stopped: the daily function failed on each of its 3" in update


def test_a_run_another_attempt_completed_is_left_alone() -> None:
    # Given a continuation whose last attempt died after a duplicate delivery completed it
    stores = Stores.make()
    ts = _posted_report_still_running(stores)
    work = _continuation(ts)
    stores.leases.claim(work.idempotency_key, "other", now_ms=NOW_MS - 60_000, lease_ms=45_000)
    stores.leases.complete(work.idempotency_key, "other", {"status": "finished"})
    calls = len(stores.slack.calls)

    # When the failed invocation's record arrives
    outcome = record_daily_failure(_record(work.to_event()), _failures(stores))

    # Then nothing changes: the run stays done and Slack hears nothing
    assert outcome["status"] == "not_failed"
    lease = stores.leases.read(work.idempotency_key, now_ms=NOW_MS)
    assert lease is not None and lease.state == DONE and lease.result == {"status": "finished"}
    assert len(stores.slack.calls) == calls


def test_a_run_a_live_attempt_holds_is_left_alone() -> None:
    # Given a continuation another invocation is running right now (its lease is renewed)
    stores = Stores.make()
    work = _continuation(_posted_report_still_running(stores))
    stores.leases.claim(work.idempotency_key, "alive", now_ms=NOW_MS - 1_000, lease_ms=45_000)

    # When a record of another, failed invocation of it arrives
    outcome = record_daily_failure(_record(work.to_event()), _failures(stores))

    # Then the live attempt keeps it
    assert outcome["status"] == "not_failed"
    lease = stores.leases.read(work.idempotency_key, now_ms=NOW_MS)
    assert lease is not None and (lease.state, lease.owner) == ("running", "alive")


def test_a_06_00_run_that_never_posted_says_so_in_the_channel_escaped() -> None:
    # Given a 06:00 run killed on each attempt before it posted anything, with an error message
    # that tries to ping the channel and link somewhere
    stores = Stores.make()
    hostile = "<!channel> see <https://evil.example|the fix> & *now*"
    record = _record(SCHEDULE_EVENT, errorType="Runtime.OutOfMemory", errorMessage=hostile)

    # When its record arrives
    outcome = record_daily_failure(record, _failures(stores))

    # Then the channel gets one message in the report's place, saying why, escaped
    assert outcome == {
        "status": "failed",
        "key": "report#2026-03-11T06:00:00+00:00",
        "reason": f"the daily function failed on each of its 3 attempts "
        f"(Runtime.OutOfMemory: {hostile})",
        "posted": "report",
    }
    [post] = calls_to(stores.slack, "chat.postMessage")
    assert "thread_ts" not in post
    text = section_texts(stores.slack)[0]
    assert "The DLQ report for 2026-03-10 was not made" in text
    assert "&lt;!channel&gt; see &lt;https://evil.example|the fix&gt; &amp; *now*" in text
    for shown in (text, post["text"]):
        assert "<!channel>" not in shown and "<https://" not in shown
    # And a later delivery of the same event may run it again (the failed run is claimable)
    claimed, lease = stores.leases.claim(
        "report#2026-03-11T06:00:00+00:00", "retry", now_ms=NOW_MS, lease_ms=45_000
    )
    assert claimed and lease is not None and lease.state == "running"


def test_a_06_00_run_that_posted_its_report_says_why_in_the_thread() -> None:
    # Given a 06:00 run that posted its report (auto-redrive still running), then died on each
    # attempt before it could hand over
    stores = Stores.make()
    ts = _posted_report_still_running(stores)

    # When its record arrives
    outcome = record_daily_failure(
        _record(SCHEDULE_EVENT, errorType="Sandbox.Timedout", errorMessage="Task timed out"),
        _failures(stores),
    )

    # Then the thread says why, and the report no longer says "still running"
    assert outcome["posted"] == "thread" and outcome["update_error"] is None
    reply = calls_to(stores.slack, "chat.postMessage")[-1]
    assert reply["thread_ts"] == ts
    assert (
        "The 06:00 run did not finish: the daily function failed on each of its 3"
        in (section_texts(stores.slack)[-1])
    )
    [update] = section_texts(stores.slack, "chat.update")
    assert "still running" not in update and "Sandbox.Timedout: Task timed out" in update


def test_the_same_record_twice_posts_each_part_once() -> None:
    # Given a continuation's record already handled (the destination's own retry sends it again)
    stores = Stores.make()
    work = _continuation(_posted_report_still_running(stores))
    record = _record(work.to_event())
    record_daily_failure(record, _failures(stores))
    posts = len(calls_to(stores.slack, "chat.postMessage"))

    # When it comes again
    again = record_daily_failure(record, _failures(stores))

    # Then nothing new is posted (the parts are updated in place)
    assert again["status"] == "failed"
    assert len(calls_to(stores.slack, "chat.postMessage")) == posts


def test_an_event_too_old_is_worded_as_such() -> None:
    record = _record(SCHEDULE_EVENT)
    record["requestContext"]["condition"] = "EventAgeExceeded"
    record["requestContext"]["approximateInvokeCount"] = 1
    reason = daily_reason(FailedInvocation.from_record(record))
    assert reason.startswith(
        "Lambda dropped the daily function's event: it grew older than the maximum event age "
        "after 1 attempt"
    )


@pytest.mark.parametrize(
    "record",
    [{}, {"requestContext": {"requestId": "r"}}, {"requestPayload": {}}, {"requestContext": []}],
)
def test_anything_but_a_destination_record_is_refused_clearly(record: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="not a Lambda destination record"):
        record_daily_failure(record, _failures(Stores.make()))
