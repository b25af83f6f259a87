"""Slack's words for DLQs of every kind (issue 13), rendered from plain data (no server): the
list's kinds, sources and kinds not read; a peek's kind and sources; the card's "Goes to"; the
count's and the outcome's "needs a human" and "ambiguous" with why. Every name is escaped and
every message stays within Slack's limits."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.catalog import Dlq
from bot.feeders import Kind
from bot.inspection import summarize
from bot.kind_words import unread_lines
from bot.redrive_model import RedriveReport
from bot.slack import blocks
from bot.state import ApprovalRequest, RunRecord, RunStatus
from infra.local.slack_api import message_problem
from tests.unit.approval_requests import approval_request
from tests.unit.test_cli_list_kinds import events, function, queue, sns

UTC_TZ = ZoneInfo("UTC")
HOSTILE = "<!channel> <@UEVIL> <https://evil.example|click>\u202e\x1b[2J"


def texts(message: dict[str, object]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def within_limits(message: dict[str, object]) -> None:
    assert message["text"]
    assert message_problem(message) is None


def inert(shown: str) -> None:
    """Nothing of HOSTILE is live: no mention, no link, no control character."""
    assert "<!channel>" not in shown and "<@UEVIL>" not in shown and "<https://" not in shown
    assert "\u202e" not in shown and "\x1b" not in shown


def test_the_list_names_each_kind_and_source_and_what_was_not_read_all_escaped() -> None:
    # Given DLQs of each kind, one fed by feeders with hostile names, and a kind not read
    dlqs = [
        Dlq(queue("payments-dlq", 3), (queue("payments"),)),
        Dlq(
            queue("hostile-dlq"),
            (),
            (
                sns("hostile-dlq", endpoint=f"https://x/{HOSTILE}", protocol="https"),
                events("hostile-dlq", rule=f"r{HOSTILE}"),
                function("hostile-dlq", name=f"f{HOSTILE}"),
            ),
        ),
    ]
    not_read = unread_lines(((Kind.LAMBDA, f"AccessDenied: {HOSTILE}"),))

    # When the list is rendered
    message = blocks.dlq_list(summarize(dlqs), not_read)

    # Then each DLQ says its kind, and each source is on its own line, inert
    within_limits(message)
    shown = texts(message)
    inert(shown)
    assert "`payments-dlq` — *3* visible, 0 in flight · kind `sqs` ← payments" in shown
    assert "`hostile-dlq` — *0* visible, 0 in flight · kind `sns+events+lambda`" in shown
    assert "← sns subscription arn:aws:sns:" in shown
    assert "&lt;!channel&gt;" in shown and "\\u202e" in shown
    assert ":warning: lambda functions not read: AccessDenied: &lt;!channel&gt;" in shown


def test_a_dlq_fed_by_hundreds_of_functions_shows_a_few_and_says_how_many_more() -> None:
    feeders = tuple(function("fan-dlq", name=f"fn-{i:03d}") for i in range(300))
    message = blocks.dlq_list(summarize([Dlq(queue("fan-dlq"), (), feeders)]))

    within_limits(message)
    shown = texts(message)
    assert "lambda fn-004 (async DLQ)" in shown and "fn-005" not in shown
    assert "…and 295 more: `dlq-redrive list` names them all" in shown


def test_no_dlq_found_still_says_what_was_not_read() -> None:
    message = blocks.dlq_list([], unread_lines(((Kind.SNS, "AccessDenied"),)))

    assert "sns subscriptions not read: AccessDenied" in texts(message)


def test_peek_is_headed_by_the_kind_and_the_sources() -> None:
    dlq = Dlq(queue("orders-sub-dlq"), (), (sns("orders-sub-dlq", endpoint=f"https://{HOSTILE}"),))

    message = blocks.peek(
        dlq.name, 0, [], UTC_TZ, kind=dlq.kind_label(), sources=dlq.describe_sources()
    )

    shown = texts(message)
    inert(shown)
    assert "kind `sns`" in shown and "← sns subscription arn:aws:sns:" in shown


def request(deliveries: str | None) -> ApprovalRequest:
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    return approval_request(
        requested_at=now,
        dlq="orders-sub-dlq",
        matched=3,
        requester="U1",
        channel="C1",
        deliveries=deliveries,
    )


def test_the_card_says_where_the_copies_go_on_every_card_escaped() -> None:
    # Given a request whose copies go to a function and a subscription's queue, one hostile
    where = (
        f"lambda f{HOSTILE} (async invoke): 2\n"
        "queue orders-inbox (the subscription's endpoint, not the topic): 1\n"
        "nothing is published to the topic again: its other subscriptions get no duplicate"
    )
    card = blocks.approval_card(request(where), UTC_TZ)
    update = blocks.card_update(request(where), UTC_TZ, "Approved")

    # Then the card and its updates have the "Goes to" field, each line inert
    for message in (card, update):
        within_limits(message)
        shown = texts(message)
        inert(shown)
        assert "*Goes to*\\n• lambda f&lt;!channel&gt;" in shown
        assert "• queue orders-inbox (the subscription's endpoint, not the topic): 1" in shown
    # And the Approve dialog says the copies go only to those targets
    dialog = card["blocks"][-1]["elements"][0]["confirm"]["text"]["text"]  # type: ignore[index]
    assert "to only the targets that failed them" in dialog
    # And a plain SQS request's card is as before (no field)
    assert "Goes to" not in texts(blocks.approval_card(request(None), UTC_TZ))


def test_the_count_note_and_the_outcome_say_why_messages_stay() -> None:
    # Given a count that held one for a human (EventBridge) and found two ambiguous
    dry = RedriveReport("billing-dlq", True, "all", scanned=5, matched=4, skipped=1)
    dry.needs_human = 1
    dry.needs_human_reasons = Counter({f"EventBridge ERROR_CODE NO_PERMISSIONS {HOSTILE}": 1})
    dry.failure_reasons = Counter({"Ambiguous": 2})
    dry.failures = [
        {"message_id": "m1", "destination": "", "code": "Ambiguous", "reason": f"why {HOSTILE}"}
    ]
    dry.by_destination = Counter({"billing-inbox": 2})

    # When the card's note is written
    note = blocks.dry_run_note(dry)

    # Then it says why each stays, not "poison"
    inert(note)
    assert "1 stay for a human: EventBridge ERROR_CODE NO_PERMISSIONS" in note
    assert "redriven too often" not in note
    assert "2 are ambiguous and stay (why &lt;!channel&gt;" in note

    # And the final card says the same of the run, with where copies went
    report = RedriveReport("billing-dlq", False, "all", scanned=5, matched=4, moved=2)
    report.needs_human = 1
    report.needs_human_reasons = dry.needs_human_reasons
    report.failure_reasons = dry.failure_reasons
    report.failures = dry.failures
    report.by_destination = Counter({"billing-inbox": 1, "lambda refunds": 1})
    started = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    run = RunRecord("r1", "billing-dlq", "U1", "U2", RunStatus.DONE, started, started, moved=2)
    _head, details = blocks.outcome_lines(run, report, request("queue billing-inbox: 1"))
    shown = "\n".join(details)
    inert(shown)
    assert "→ billing-inbox: 1" in shown and "→ lambda refunds (async invoke): 1" in shown
    assert "ledger counts the redrives of the 1 sent to functions" in shown
    assert "1 stay in the DLQ for a human: EventBridge ERROR_CODE NO_PERMISSIONS" in shown
    assert "redriven too often" not in shown
    assert "2 failed with Ambiguous (kept in the DLQ: why &lt;!channel&gt;" in shown
