"""Every ``/dlq-redrive`` subcommand and malformed input, through the real Lambda handler."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import (
    APPROVER,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    SlackHarness,
    ack_text,
    make_harness,
    seed_orders,
)


def _ack_json(response: dict[str, object]) -> dict[str, object]:
    return json.loads(str(response["body"]))  # type: ignore[no-any-return]


def test_help_is_answered_in_the_ack_without_the_worker(harness: SlackHarness) -> None:
    # (no text at all opens the request modal since issue 14: test_slack_request_modal.py)
    for text in ("help", "redrive --help"):
        ack = harness.command(text)
        assert ack["statusCode"] == 200
        body = _ack_json(ack)
        assert body["response_type"] == "ephemeral"
        assert "/dlq-redrive peek QUEUE [N]" in str(body["text"])
    assert harness.lambdas.invocations == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("frobnicate", "unknown command 'frobnicate'"),
        ('peek "orders-dlq', "check the quotes"),
        ("peek", "the following arguments are required: queue"),
        ("peek orders-dlq 0", "N must be between 1 and 10"),
        ("peek orders-dlq many", "N must be a whole number"),
        ("redrive orders-dlq --date 2026-13-01", "invalid date '2026-13-01'"),
        ("redrive orders-dlq --yesterday --date 2026-11-01", "cannot be combined"),
        ("redrive orders-dlq --since 2026-11-02 --until 2026-11-01", "is not before"),
        ("redrive orders-dlq --limit -3", "--limit"),
        ("redrive orders-dlq --time-field occurredAt", "--time-field needs a time selection"),
        ("redrive orders-dlq --bogus", "unrecognized arguments: --bogus"),
        ("cancel", "the following arguments are required: run_id"),
        ("list extra", "unrecognized arguments: extra"),
    ],
)
def test_malformed_input_gets_usage_naming_the_problem(
    harness: SlackHarness, text: str, problem: str
) -> None:
    ack = harness.command(text)

    assert ack["statusCode"] == 200
    body = _ack_json(ack)
    assert body["response_type"] == "ephemeral"
    assert problem in str(body["text"])
    assert "/dlq-redrive redrive QUEUE [selection]" in str(body["text"])
    assert harness.lambdas.invocations == []  # nothing reached the worker


def test_list_answers_ephemerally_with_counts(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 4)
    payments = create_pair(harness.sqs, "payments.fifo")
    put_in_dlq(harness.sqs, payments, ["p1", "p2"])

    ack = harness.command("list")
    harness.settle()

    assert ack["statusCode"] == 200 and ack_text(ack) == ""
    answer = harness.calls("response_url")[-1].body
    assert answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"])
    assert "`orders-dlq` \\u2014 *4* visible" in text
    assert "`payments-dlq.fifo` \\u2014 *2* visible, 0 in flight (FIFO)" in text


def _sections(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A peek's sections: the title, then one per message (each message's buttons follow it in
    an actions block)."""
    return [b for b in answer["blocks"] if b["type"] == "section"]


def test_peek_shows_bodies_in_code_blocks_and_leaves_messages(harness: SlackHarness) -> None:
    pair = seed_orders(harness.sqs, 3)

    harness.command("peek orders-dlq 2")
    harness.settle()

    blocks = _sections(harness.calls("response_url")[-1].body)
    assert "showing 2 of ~3 visible" in blocks[0]["text"]["text"]
    assert len(blocks) == 3
    assert all('```{"order": ' in b["text"]["text"] for b in blocks[1:])
    assert count(harness.sqs, pair.dlq_url) == 3


def test_peek_truncates_large_bodies_within_block_kit_limits(harness: SlackHarness) -> None:
    pair = create_pair(harness.sqs, "big")
    put_in_dlq(harness.sqs, pair, ["x" * 50_000 for _ in range(10)])

    harness.command("peek big-dlq 10")
    harness.settle()

    blocks = _sections(harness.calls("response_url")[-1].body)
    assert len(blocks) == 11 <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert all("…```" in b["text"]["text"] for b in blocks[1:])


def test_unknown_queue_is_answered_with_the_watched_ones(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 1)

    harness.command("peek nope-dlq")
    harness.command("redrive nope-dlq")
    harness.settle()

    for answer in harness.responses():
        assert "unknown DLQ 'nope-dlq'; watched DLQs: orders-dlq" in answer
    assert harness.calls("chat.postMessage") == []


def test_redrive_with_nothing_selected_posts_no_card(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 3)

    harness.command("redrive orders-dlq --date 2001-01-01")
    harness.settle()

    assert "Nothing to redrive in `orders-dlq`" in harness.responses()[-1]
    assert "3 are outside the selection and stay" in harness.responses()[-1]
    assert harness.calls("chat.postMessage") == []


def test_redrive_selection_is_shown_on_the_card(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 3)

    harness.command("redrive orders-dlq --since 2001-01-01T00:00:00Z --limit 2")
    harness.settle()

    fields = json.dumps(harness.card().body["blocks"])
    assert "2001-01-01T00:00:00+00:00" in fields and "at most 2" in fields
    assert "*Messages*\\n2" in fields


def test_the_card_note_accounts_for_messages_with_no_readable_time(
    harness: SlackHarness,
) -> None:
    # Given 5 messages: 2 of the selected day, 1 of another day, 2 with no readable time
    pair = create_pair(harness.sqs, "orders")
    bodies = [
        json.dumps({"at": "2026-03-10T08:00:00Z"}),
        json.dumps({"at": "2026-03-10T09:00:00Z"}),
        json.dumps({"at": "2026-03-01T09:00:00Z"}),
        json.dumps({"at": "not a time"}),
        json.dumps({"other": 1}),
    ]
    put_in_dlq(harness.sqs, pair, bodies)

    # When a redrive of that day by the body's time is asked for
    harness.command("redrive orders-dlq --date 2026-03-10 --time-field at")
    harness.settle()

    # Then the card's note accounts for all five
    note = next(b for b in harness.card().body["blocks"] if b["type"] == "context")
    assert note["elements"][0]["text"] == (
        "Of 5 checked, 2 match; 2 have no readable time and stay; "
        "1 are outside the selection and stay."
    )


def test_the_card_counts_what_would_move_and_notes_what_is_too_large(
    harness: SlackHarness,
) -> None:
    # Given three orders in the DLQ, one of them too large for its source queue (which takes at
    # most 1,024 bytes)
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [json.dumps({"order": n}) for n in range(2)])
    harness.sqs.set_queue_attributes(
        QueueUrl=pair.source_url, Attributes={"MaximumMessageSize": "1024"}
    )
    harness.sqs.send_message(QueueUrl=pair.dlq_url, MessageBody=json.dumps({"order": "x" * 2_000}))

    # When a redrive of them all is asked for
    harness.request_card()

    # Then the card offers the two that would move, and its note says why the third would not
    card = harness.card().body
    assert "2 message(s) from orders-dlq" in card["text"]
    assert "*Messages*\\n2" in json.dumps(card["blocks"])
    note = next(b for b in card["blocks"] if b["type"] == "context")
    assert note["elements"][0]["text"] == (
        "Of the 3 that match, 2 would move; 1 are too large for their destination queue and stay."
    )


def test_a_fifo_card_says_the_runs_bound_when_its_count_could_not_see_everything(
    harness: SlackHarness,
) -> None:
    # Given a FIFO DLQ with one message in each of three groups
    payments = create_pair(harness.sqs, "payments.fifo")
    for group in ("g1", "g2", "g3"):
        put_in_dlq(harness.sqs, payments, [f"pay-{group}"], group_id=group)

    # When a redrive is asked for
    harness.request_card("redrive payments-dlq.fifo")

    # Then the count held each message it counted, so SQS handed out no later message of their
    # groups: the card says why, and shows the bound the approved run keeps (it moves only the
    # counted messages: "up to 3"), never the count as exact
    card = harness.card().body
    assert "up to 3 message(s) from payments-dlq.fifo" in card["text"]
    assert "*Messages*\\nup to 3" in json.dumps(card["blocks"])
    note = next(b for b in card["blocks"] if b["type"] == "context")
    assert note["elements"][0]["text"].startswith(
        "At least 3 would move; the count could not see past held messages of 3 FIFO group(s)"
    )
    # And so does the card once approved (rendered again from the stored request)
    request_id = harness.request_id()
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    updated = harness.calls("chat.update")[-1].body
    assert "up to 3 message(s) from `payments-dlq.fifo`" in json.dumps(updated["blocks"])


def test_status_lists_running_and_finished_redrives(harness: SlackHarness) -> None:
    # Given one finished redrive
    seed_orders(harness.sqs, 2)
    request_id = harness.request_card()
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # When anyone asks for the status
    harness.command("status")
    harness.settle()

    # Then the finished run is listed with its counts
    text = json.dumps(harness.calls("response_url")[-1].body["blocks"])
    assert "*In progress (0)*" in text
    assert f"`{request_id}` \\u00b7 `orders-dlq` \\u00b7 done \\u00b7 moved 2, failed 0" in text


def test_status_with_no_redrives(harness: SlackHarness) -> None:
    harness.command("status")
    harness.settle()
    assert harness.responses() == ["No redrives yet."]


def test_cancel_of_unknown_or_finished_redrive_is_explained(harness: SlackHarness) -> None:
    seed_orders(harness.sqs, 1)
    request_id = harness.request_card()
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    harness.command("cancel 20200101-000000-abcdef")
    harness.settle()
    harness.command(f"cancel {request_id}")
    harness.settle()

    answers = harness.responses()
    assert "no redrive with id '20200101-000000-abcdef'" in answers[-2]
    assert f"redrive {request_id} already ended (done)" in answers[-1]


def test_cancel_stops_a_running_redrive(harness: SlackHarness) -> None:
    # Given a redrive that moves slowly (each send batch takes a second; 4 workers, 3 rounds)
    pair = seed_orders(harness.sqs, 120)
    request_id = harness.request_card()
    worker_sqs = _worker_sqs_client()

    sending = threading.Event()

    def slow(**_: object) -> None:
        sending.set()
        time.sleep(1.0)

    worker_sqs.meta.events.register("before-send.sqs.SendMessageBatch", slow)
    try:
        harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
        assert sending.wait(30)  # the first batch is on its way

        # When an outsider tries to cancel, then the requester does
        harness.command(f"cancel {request_id}", user=OUTSIDER)
        harness.command(f"cancel {request_id}", user=REQUESTER)
        harness.settle()
    finally:
        worker_sqs.meta.events.unregister("before-send.sqs.SendMessageBatch", slow)

    # Then the outsider was refused, the run stopped early, and the card says who cancelled
    assert any("only the requester or an approver" in r for r in harness.responses())
    assert any("Cancel requested" in r for r in harness.responses())
    assert f"Cancelled by <@{REQUESTER}>" in harness.updates()[-1]
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "cancelled"
    assert 0 < run.moved < 120
    # and every message is in exactly one place
    assert count(harness.sqs, pair.source_url) == run.moved
    assert count(harness.sqs, pair.dlq_url) == 120 - run.moved


def _worker_sqs_client():  # type: ignore[no-untyped-def]
    """The worker's client for SendMessageBatch (its own, without transport retries)."""
    import handlers.worker

    return handlers.worker.worker().gateway.send_client


@pytest.fixture
def channel_harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    yield from make_harness(aws, {**slack_env, "ALLOWED_CHANNELS": "C_OTHER"}, monkeypatch)


def test_command_outside_allowed_channels_is_refused(channel_harness: SlackHarness) -> None:
    ack = channel_harness.command("list", channel=CHANNEL)

    assert "not enabled in this channel; use it in <#C_OTHER>" in ack_text(ack)
    assert channel_harness.lambdas.invocations == []


def test_base64_encoded_body_as_function_urls_send_it(harness: SlackHarness) -> None:
    # Given a Function URL style event whose form body arrives base64-encoded
    import base64

    from infra.local.slack_events import command_body, http_event
    from tests.integration.slack.slack_harness import SECRET

    body = command_body("help", user=REQUESTER, channel=CHANNEL, response_url="http://x")
    event = http_event(body, SECRET)
    event["body"] = base64.b64encode(body.encode()).decode()
    event["isBase64Encoded"] = True

    # When it reaches the handler, then the signature checks out against the decoded body
    response = harness.send(event)
    assert response["statusCode"] == 200
    assert "/dlq-redrive list" in ack_text(response)
