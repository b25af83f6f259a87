"""The redrive summary of a DLQ fed by SNS subscriptions, EventBridge targets and Lambda
functions: each destination named as what it is to the messages, "needs a human" with the
EventBridge reason, "ambiguous" with why, and where the counter cannot travel. Rendering only."""

from __future__ import annotations

import io
from collections import Counter

from bot.cli_run import print_summary
from bot.redrive_model import RedriveReport
from tests.unit.test_cli_list_kinds import events, function, sns

DLQ = "orders-dlq"
NEEDS_HUMAN = (
    "EventBridge could not deliver it: ERROR_CODE NO_PERMISSIONS (no retry delivers it until "
    "the target's permissions are fixed); redrive it with --force once they are"
)
AMBIGUOUS = (
    "functions orders-handler, refunds share this DLQ and the message does not say which "
    "failed it: redrive it by hand or give each function its own DLQ"
)


def summary(report: RedriveReport, **kwargs: object) -> str:
    out = io.StringIO()
    print_summary(report, out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def kinds_report(*, dry_run: bool = False) -> RedriveReport:
    report = RedriveReport(DLQ, dry_run=dry_run, selection="all", scanned=25, matched=25)
    report.by_destination = Counter({"lambda orders-handler": 12, "orders-billing": 5})
    report.moved = 0 if dry_run else 17
    report.counter_dropped = 0 if dry_run else 12  # the engine counts a function's sends there
    report.needs_human = 4
    report.needs_human_reasons = Counter({NEEDS_HUMAN: 3})  # and 1 poison
    report.skipped = 4
    report.failed = 2
    report.failure_reasons = Counter({"Ambiguous": 2})
    report.failures = [
        {"message_id": f"m{i}", "destination": "", "code": "Ambiguous", "reason": AMBIGUOUS}
        for i in range(2)
    ]
    return report


FEEDERS = (sns(DLQ), events(DLQ), function(DLQ))


def test_each_destination_is_named_as_what_it_is_to_the_messages() -> None:
    # Given a run that invoked a function and sent to a subscription's queue
    text = summary(kinds_report(), feeders=FEEDERS)

    # Then each destination says how its copies were delivered, and never to the topic or bus
    assert "  → lambda orders-handler (async invoke): 12" in text
    assert "  → queue orders-billing (the subscription's endpoint, not the topic): 5" in text
    assert "nothing is published to the topic again" in text
    assert "nothing is put on the bus again" in text


def test_needs_a_human_and_ambiguous_are_counted_with_why() -> None:
    text = summary(kinds_report(), feeders=FEEDERS)

    # Poison and target-held messages are told apart, the EventBridge reason given once
    assert "  needs a human (poison)     1\n" in text
    assert "  needs a human (target)     3\n" in text
    assert f"  needs a human: 3: {NEEDS_HUMAN}" in text
    # Ambiguous ones are counted with why, their reason said once (ids listed)
    assert f"  ambiguous (kept in DLQ): 2: {AMBIGUOUS}" in text
    assert text.count(AMBIGUOUS) == 1
    assert "    m0: Ambiguous\n" in text


def test_it_says_where_the_counter_cannot_travel() -> None:
    text = summary(kinds_report(), feeders=FEEDERS)

    # The function's 12 are said apart from a queue's dropped counter (none here)
    assert "sent without the dlq-redrive-count attribute" not in text
    assert "lambda payloads carry no counter" in text
    assert "the 12 sent to functions" in text
    # And a dry run says the same of those that would go
    dry = summary(kinds_report(dry_run=True), feeders=FEEDERS)
    assert "the 12 that would go to functions" in dry
    assert "  → lambda orders-handler (async invoke): 12" in dry


def test_to_says_every_message_goes_to_the_queue_named() -> None:
    report = RedriveReport(DLQ, dry_run=False, selection="all", scanned=3, matched=3, moved=3)
    report.by_destination = Counter({"parking": 3})

    text = summary(report, feeders=FEEDERS, to="parking")

    assert "  → queue parking (--to: every message selected, whatever fed it): 3" in text


def test_names_in_the_summary_are_escaped() -> None:
    hostile = "h\x1b[31m\u202e"
    report = RedriveReport(DLQ, dry_run=True, selection="all", scanned=1, matched=1)
    report.by_destination = Counter({f"lambda {hostile}": 1})

    text = summary(report, feeders=(function(DLQ, name=hostile),))

    assert "\x1b" not in text and "\u202e" not in text
    assert "lambda h\\x1b[31m\\u202e (async invoke): 1" in text
