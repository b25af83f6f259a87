"""The daily report of DLQs of every kind (issue 13): each DLQ's kind and what feeds it, the
messages left for a person because no retry delivers them, an auto-redrive without its canary,
and the kinds discovery could not read. Rendering only: no server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.daily.blocks import fallback_text
from bot.daily.codec import from_json, to_json
from bot.daily.report import AutoRedrive, DailyReport, DlqStatus
from bot.feeders import Feeder, Kind
from tests.unit.daily.fakes import report_blocks

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 6, tzinfo=UTC)
SUBSCRIPTION = "arn:aws:sns:us-east-1:123456789012:alerts:0a1b2c3d-1111-2222-3333-444455556666"
HOSTILE = "<!channel> <@U123> <https://evil.example|click> & `tick`"


def _report(*dlqs: DlqStatus, **overrides: Any) -> DailyReport:
    values: dict[str, Any] = {"day": DAY, "timezone": "UTC", "generated_at": NOW, "dlqs": dlqs}
    values.update(overrides)
    return DailyReport(**values)


def _text(report: DailyReport) -> str:
    return "\n".join(b["text"]["text"] for b in report_blocks(report) if b["type"] == "section")


def _sns_feeder(name: str = SUBSCRIPTION) -> Feeder:
    return Feeder(
        kind=Kind.SNS,
        dlq_arn="arn:aws:sqs:us-east-1:123456789012:alerts-dlq",
        name=name,
        target_arn="arn:aws:sqs:us-east-1:123456789012:alerts-worker",
        protocol="sqs",
        topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
    )


def test_a_dlq_shows_its_kind_and_names_each_feeder_precisely() -> None:
    # Given a DLQ fed by an SQS queue and an SNS subscription, and one fed by a Lambda function
    mixed = DlqStatus(
        name="alerts-dlq",
        depth=2,
        depth_before=2,
        sources=("alerts-retry",),
        kind="sqs+sns",
        feeders=(_sns_feeder().describe(),),
    )
    function = Feeder(
        kind=Kind.LAMBDA,
        dlq_arn="arn:aws:sqs:us-east-1:123456789012:resize-dlq",
        name="resize-images",
        target_arn="arn:aws:lambda:us-east-1:123456789012:function:resize-images",
        protocol="lambda",
    )
    async_dlq = DlqStatus(
        name="resize-dlq", depth=1, depth_before=1, kind="lambda", feeders=(function.describe(),)
    )

    # When the report is rendered
    text = _text(_report(mixed, async_dlq))

    # Then each DLQ's first line says its kind, and a line names what else feeds it
    lines = text.splitlines()
    assert "*alerts-dlq* (sqs+sns) → alerts-retry" in lines
    assert f"Fed by: sns subscription {SUBSCRIPTION} → sqs alerts-worker" in lines
    assert "*resize-dlq* (lambda)" in lines
    assert "Fed by: lambda resize-images (async DLQ)" in lines


def test_feeder_names_are_escaped_and_bounded() -> None:
    # Given 40 feeders, one of whose names carries mrkdwn that would ping the channel
    feeders = tuple(
        _sns_feeder(f"{SUBSCRIPTION}-{n}" if n else HOSTILE).describe() for n in range(40)
    )
    status = DlqStatus(name="alerts-dlq", depth=1, depth_before=1, kind="sns", feeders=feeders)

    # When rendered
    text = _text(_report(status))

    # Then nothing of it is markup, and the line names as many as fit and counts the rest
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://" not in text
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp;" in text
    fed = next(line for line in text.splitlines() if line.startswith("Fed by: "))
    assert fed.endswith(" more") and len(fed) < 800
    shown = fed.count("sns subscription ")
    assert fed.endswith(f" and {40 - shown} more")


def test_messages_no_retry_delivers_are_counted_apart_from_poison_with_their_reasons() -> None:
    # Given an auto-redrive that moved 3, held 4 EventBridge messages for a person (2 reasons)
    # and left 1 poison message
    redrive = AutoRedrive(
        moved=3,
        needs_human=1,
        for_human=(
            ("EventBridge ERROR_CODE NO_PERMISSIONS: the target refuses the rule's role", 3),
            ("EventBridge ERROR_CODE NO_RESOURCE: the target does not exist", 1),
        ),
    )
    status = DlqStatus(
        name="orders-events-dlq", depth=5, depth_before=8, kind="events", redrive=redrive
    )
    report = _report(status, auto_redrive_names=("orders-events-dlq",))

    # When rendered
    text = _text(report)

    # Then the auto-redrive's line counts them apart from poison, and a line gives each reason
    assert (
        "moved 3 back, 1 poison left for a human, 4 not redriven, for a human "
        "(no retry delivers them)" in text
    )
    assert (
        ":raising_hand: Not redriven, for a human: EventBridge ERROR_CODE NO_PERMISSIONS: the "
        "target refuses the rule's role ×3; EventBridge ERROR_CODE NO_RESOURCE: the target does "
        "not exist ×1" in text
    )
    # And the summary adds them up, exactly
    assert "4 not auto-redriven (need a human)" in text
    assert report.for_human == 4


def test_many_reasons_show_the_top_three_and_count_the_rest_escaped() -> None:
    reasons = tuple((f"EventBridge ERROR_CODE CODE_{n} {HOSTILE}", 5 - n) for n in range(5))
    status = DlqStatus(
        name="e-dlq",
        depth=20,
        depth_before=20,
        kind="events",
        redrive=AutoRedrive(for_human=reasons),
    )

    text = _text(_report(status, auto_redrive_names=("e-dlq",)))

    line = next(line for line in text.splitlines() if line.startswith(":raising_hand:"))
    assert "CODE_2" in line and "CODE_3" not in line and line.endswith("; 3 for other reasons")
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line


def test_an_auto_redrive_without_a_canary_says_why() -> None:
    # Given a DLQ whose kind cannot take a canary
    why = "a copy delivered to a function never comes back marked <@U1>"
    status = DlqStatus(
        name="resize-dlq",
        depth=0,
        depth_before=2,
        kind="lambda",
        redrive=AutoRedrive(moved=2, no_canary=why),
    )

    # When rendered
    text = _text(_report(status, auto_redrive_names=("resize-dlq",)))

    # Then its auto-redrive says it ran without one, and why (escaped)
    assert (
        ":warning: no canary: a copy delivered to a function never comes back marked &lt;@U1&gt;"
        in text.splitlines()
    )


def test_no_canary_is_said_when_the_auto_redrive_stopped_on_an_error_too() -> None:
    status = DlqStatus(
        name="resize-dlq",
        depth=2,
        depth_before=2,
        kind="lambda",
        redrive=AutoRedrive(error="Lambda refused", no_canary="functions take no canary"),
    )
    text = _text(_report(status, auto_redrive_names=("resize-dlq",)))
    assert "Auto-redrive failed: Lambda refused" in text
    assert ":warning: no canary: functions take no canary" in text


def test_kinds_not_read_are_said_and_the_report_is_never_all_clear() -> None:
    # Given no DLQ found, while SNS subscriptions could not be read
    report = _report(unread=(("sns", "AccessDenied: not allowed <!here>"),))

    # When rendered
    text = _text(report)

    # Then it is not "all clear", and it says what was not read and why
    assert not report.all_clear
    assert "All clear" not in text
    assert (
        ":warning: sns subscriptions not read: AccessDenied: not allowed &lt;!here&gt; (a DLQ "
        "only they feed is not listed)" in text
    )
    assert "sns subscriptions not read" in fallback_text(report)


def test_a_quiet_report_with_every_kind_read_is_all_clear() -> None:
    quiet = DlqStatus(name="alerts-dlq", depth=0, depth_before=0, kind="sns")
    assert _report(quiet).all_clear


def test_the_new_fields_travel_to_a_continuation() -> None:
    # The continuation's event and the kept report carry them (bot.daily.codec)
    redrive = AutoRedrive(
        moved=1, for_human=(("EventBridge ERROR_CODE NO_RESOURCE", 2),), no_canary="why"
    )
    status = DlqStatus(name="d", depth=1, kind="sqs+events", feeders=("a", "b"), redrive=redrive)
    report = _report(status, unread=(("lambda", "AccessDenied"),))
    assert from_json(AutoRedrive, to_json(redrive)) == redrive
    assert from_json(DailyReport, to_json(report)) == report


def test_a_report_kept_before_kinds_renders_as_before() -> None:
    # A report stored by the previous version (no kind, no feeders) re-renders unchanged
    data = to_json(_report(DlqStatus(name="orders-dlq", depth=1, sources=("orders",))))
    for status in data["dlqs"]:
        del status["kind"], status["feeders"]
    del data["unread"]
    text = _text(from_json(DailyReport, data))
    assert "*orders-dlq* → orders" in text.splitlines()


def test_failures_say_their_codes_escaped() -> None:
    # Given an auto-redrive whose failures have codes (a forged target, an ambiguous message,
    # one code no one foresaw)
    redrive = AutoRedrive(
        moved=1,
        failed=6,
        failed_codes=(("UnknownTarget", 3), ("Ambiguous", 2), ("<!here>", 1), ("Other", 1)),
    )
    status = DlqStatus(name="d", depth=6, depth_before=7, kind="events", redrive=redrive)

    text = _text(_report(status, auto_redrive_names=("d",)))

    # Then the top three codes are said, escaped
    assert "*6 failed* (left in the DLQ: UnknownTarget ×3, Ambiguous ×2, &lt;!here&gt; ×1)" in text


def test_quiet_dlqs_are_named_with_their_kind() -> None:
    calm = DlqStatus(name="calm-dlq", depth=0, depth_before=0, kind="sns")
    busy = DlqStatus(name="busy-dlq", depth=1, depth_before=1, kind="sqs", sources=("busy",))
    blocks = report_blocks(_report(calm, busy))
    context = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert context.endswith(" · quiet: calm-dlq (sns)")


def test_messages_held_by_an_unfinished_auto_redrive_are_a_bound() -> None:
    # Given an auto-redrive still running (its time ran out) that held 2 so far
    redrive = AutoRedrive(moved=1, continuing=True, for_human=(("EventBridge ERROR_CODE X", 2),))
    status = DlqStatus(name="e-dlq", depth=5, depth_before=6, kind="events", redrive=redrive)

    text = _text(_report(status, auto_redrive_names=("e-dlq",)))

    # Then the summary says at least 2, and why it is a bound
    assert (
        "≥ 2 not auto-redriven (need a human) (so far: an auto-redrive that held some did not "
        "finish)" in text
    )


def test_where_a_dlq_with_feeders_moved_its_messages_is_said() -> None:
    # Given one auto-redrive whose destinations add up to what it moved, and one whose earlier
    # attempt moved 2 more without their destinations being known
    to = (("lambda resize (async invoke)", 3), ("queue <x> (the rule's target, not the bus)", 1))
    whole = DlqStatus(
        name="a-dlq", depth=0, depth_before=4, kind="lambda", redrive=AutoRedrive(4, moved_to=to)
    )
    part = DlqStatus(
        name="b-dlq", depth=0, depth_before=6, kind="lambda", redrive=AutoRedrive(6, moved_to=to)
    )

    text = _text(_report(whole, part, auto_redrive_names=("a-dlq", "b-dlq")))

    # Then each says where, escaped; the second only of which it knows
    places = "lambda resize (async invoke) ×3; queue &lt;x&gt; (the rule's target, not the bus) ×1"
    assert f"moved 4 back (to {places})" in text
    assert f"moved 6 back (of which to {places})" in text
