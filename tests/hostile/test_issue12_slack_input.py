"""Hostile input to issue 12's Slack actions: edited bodies that are JSON only to Python, bodies
at Slack's 3,000-character limit as Slack counts it (UTF-16), bodies full of mrkdwn, a view
submission for a modal this app never opened, Discard values pointing into another DLQ, and
guests. Through the real handlers (signed requests, the local Slack server, the worker on the
local Lambda endpoint), SQS, DynamoDB and S3 on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from bot.slack.ids import ActionId
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, put_in_dlq
from infra.local.slack_events import http_event, view_submission_body
from tests.integration.slack.edit_world import EditWorld, dlq_messages, field_error
from tests.integration.slack.slack_harness import (
    APPROVER,
    REQUESTER,
    SECRET,
    SlackHarness,
    make_harness,
    slack_env,
)
from tests.integration.slack.test_slack_discard import BUCKET, archived

__all__ = ["slack_env"]  # fixtures

GUEST = "U_GUEST"
ORDER = json.dumps({"order": 7, "status": "failed"})


@pytest.fixture
def harness(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlackHarness]:
    """The app with an archive bucket; GUEST is a guest of the workspace named in VIEWERS."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    env = {**slack_env, "ARCHIVE_BUCKET": BUCKET, "VIEWERS": GUEST}
    for built in make_harness(aws, env, monkeypatch):
        built.slack.state.add_user(GUEST, is_restricted=True)
        yield built


def _world(harness: SlackHarness, body: str = ORDER) -> tuple[EditWorld, str]:
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [body])
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    return EditWorld(harness, pair), message.message_id


def _nothing_asked(harness: SlackHarness, world: EditWorld, body: str) -> None:
    harness.settle()
    assert harness.calls("chat.postMessage") == []
    assert [m.body for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [body]
    assert dlq_messages(harness.sqs, world.pair.source_url) == []


# --- the edited body --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edited", "why"),
    [
        ('{"order": 7, "status": NaN}', "NaN"),
        ('{"order": 7, "status": Infinity}', "Infinity"),
        ('{"order": 7, "status": -Infinity}', "-Infinity"),
        # The card's diff is of the parsed JSON, where the last "status" wins: the first one
        # (read by parsers that keep the first) would be sent without being shown.
        ('{"order": 7, "status": "refund", "status": "retry"}', "twice"),
    ],
)
def test_a_json_body_edited_into_what_only_python_reads_as_json_is_refused(
    harness: SlackHarness, edited: str, why: str
) -> None:
    # Given the modal of a JSON body
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)

    # When the new body is JSON only to Python's lenient parser (RFC 8259 has no NaN or
    # Infinity; names within an object should be unique)
    problem = field_error(world.submit(view, edited, user=REQUESTER))

    # Then it is refused on the field, saying what is not JSON, and nothing is asked
    assert "must be JSON too" in problem and why in problem, problem
    _nothing_asked(harness, world, ORDER)


def test_a_json_body_edited_into_another_json_value_is_taken_and_the_card_shows_it(
    harness: SlackHarness,
) -> None:
    # Given the modal of a JSON object
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)

    # When it is replaced by a JSON array (JSON, as the issue asks; the consumer's schema is
    # not the app's to know)
    answer = world.submit(view, "[7]", user=REQUESTER)

    # Then it is asked for, and the card's diff shows the whole change
    assert answer["response_action"] == "update"
    harness.settle()
    text = json.dumps(harness.card().body["blocks"])
    assert "+[\\n+  7\\n+]" in text or "+  7" in text, text
    assert '-  \\"status\\": \\"failed\\"' in text


@pytest.mark.parametrize(
    ("edited", "taken"),
    [
        ("\U0001f600" * 1_500, True),  # 1,500 characters, 3,000 UTF-16 code units
        ("\U0001f600" * 1_500 + "a", False),  # 1,501 characters, 3,001 code units
        ("é" * 3_000, True),
        ("é" * 3_001, False),
    ],
)
def test_the_body_limit_is_slack_s_3000_counted_as_slack_counts(
    harness: SlackHarness, edited: str, taken: bool
) -> None:
    # Given the modal of a text body
    world, message_id = _world(harness, body="order 7 failed")
    view = world.open_form(message_id, user=REQUESTER)

    # When a body at or just past 3,000 UTF-16 code units is submitted
    answer = world.submit(view, edited, user=REQUESTER)

    # Then exactly those within the limit are asked for (the card is one Slack takes: the
    # harness checks every payload against Slack's limits)
    if taken:
        assert answer["response_action"] == "update", answer
        harness.settle()
        request = harness.state.get_request(harness.request_id())
        assert request is not None and request.edit_body == edited
    else:
        assert "At most 3,000 characters" in field_error(answer)
        _nothing_asked(harness, world, "order 7 failed")


HOSTILE = (
    "<!channel> <@U_BOB> <https://evil.example|click me> &lt;b&gt; "
    "`x` ```fence``` *bold* ~strike~ \u202eevil\u200b"
)


def test_a_body_full_of_mrkdwn_is_inert_on_the_card_in_the_audit_and_in_the_logs(
    harness: SlackHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the modal of a text body
    world, message_id = _world(harness, body="order 7 failed")
    view = world.open_form(message_id, user=REQUESTER)

    # When the new body is mentions, links, entities, backticks and a right-to-left override
    world.submit(view, HOSTILE, user=REQUESTER)
    harness.settle()

    # Then the card shows it escaped: nothing live, no code span closed early, no hidden text
    card = harness.card().body
    text = json.dumps(card["blocks"], ensure_ascii=False)
    for live in ("<!channel>", "<@U_BOB>", "<https://", "\u202e", "\u200b"):
        assert live not in text, live
    assert "&lt;!channel&gt;" in text and "&amp;lt;b&amp;gt;" in text
    (diff,) = [b["text"]["text"] for b in card["blocks"] if "*Change*" in str(b.get("text"))]
    assert diff.count("```") == 2  # the fences of the block only
    assert "\\u202e" in diff  # the override shown as its escape
    # And the request keeps the exact body; the audit keeps digests, never the body
    request = harness.state.get_request(harness.request_id())
    assert request is not None and request.edit_body == HOSTILE
    (event,) = harness.state.events(request.request_id)
    assert "channel" not in json.dumps(event) and "evil" not in json.dumps(event)
    # And no log line carries the body (nor its right-to-left override)
    logged = capsys.readouterr()
    assert "evil.example" not in logged.out + logged.err
    assert "\u202e" not in logged.out + logged.err


# --- forged submissions and values ------------------------------------------------------------


def test_a_view_submission_for_a_modal_this_app_never_opened_runs_nothing(
    harness: SlackHarness,
) -> None:
    # Given a message in the DLQ and the filled modal of its edit
    world, message_id = _world(harness)
    view = world.open_form(message_id, user=REQUESTER)
    invoked = len(harness.lambdas.calls_to("worker"))

    # When a submission of that view comes back under another callback id
    values = {"edit_body": {"edit_body": {"type": "plain_text_input", "value": "{}"}}}
    for callback in ("someone_elses_modal", "", ActionId.APPROVE.value):
        body = view_submission_body({**view, "callback_id": callback}, values, user=REQUESTER)
        answer = harness.send(http_event(body, SECRET))
        assert answer["statusCode"] in (200, 404), answer

    # Then nothing was handed to the worker, asked, or sent
    harness.settle()
    assert len(harness.lambdas.calls_to("worker")) == invoked
    _nothing_asked(harness, world, ORDER)


def test_a_discard_value_naming_a_message_of_another_dlq_discards_nothing(
    harness: SlackHarness,
) -> None:
    # Given a message in payments-dlq, and a Discard value naming it under orders-dlq
    orders = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, orders, ['{"order": 1}'])
    payments = create_pair(harness.sqs, "payments")
    put_in_dlq(harness.sqs, payments, ['{"payment": 1}'])
    (theirs,) = dlq_messages(harness.sqs, payments.dlq_url)
    value = json.dumps({"queue": "orders-dlq", "message_id": theirs.message_id})

    # When it is clicked
    harness.click(ActionId.PEEK_DISCARD, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then there is nothing to discard in orders-dlq, no card, and both DLQs are whole
    assert harness.calls("chat.postMessage") == []
    assert "Nothing to discard in `orders-dlq`" in harness.responses()[-1]
    assert (count(harness.sqs, orders.dlq_url), count(harness.sqs, payments.dlq_url)) == (1, 1)
    assert archived("") == []


def test_a_guest_named_in_viewers_can_neither_export_nor_edit(harness: SlackHarness) -> None:
    # Given a message in the DLQ, and a guest of the workspace listed in VIEWERS
    world, message_id = _world(harness)
    until = datetime.now(UTC).isoformat()

    # When the guest clicks the expiry line's Export, and a message's Edit & resend
    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_EXPORT, value, user=GUEST, message_ts="1.1")
    harness.settle()
    view = world.open_form(message_id, user=GUEST)

    # Then both are refused: nothing exported, no body in the modal
    assert "Exporting reads message bodies" in harness.responses()[-1]
    assert archived("") == []
    shown = json.dumps(view["blocks"])
    assert "failed" not in shown and '"status"' not in shown
    assert not view.get("submit")


def test_export_answers_the_count_and_the_location_it_wrote(harness: SlackHarness) -> None:
    # Given 3 messages sent before the bound
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [f'{{"order": {i}}}' for i in range(3)])
    until = datetime.now(UTC).isoformat()

    # When an approver exports them
    value = json.dumps({"queue": "orders-dlq", "until": until})
    harness.click(ActionId.REPORT_EXPIRING_EXPORT, value, user=APPROVER, message_ts="1.1")
    harness.settle()

    # Then the answer's count and location are those of the records written, and the audit
    # names who, where and how many
    answer = harness.responses()[-1]
    records = archived("exports/")
    assert len(records) == 3 and "Exported *3* message(s)" in answer
    s3 = boto3.client("s3")
    (prefix,) = {o["Key"].rsplit("/", 1)[0] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    location = f"s3://{BUCKET}/{prefix}/"
    assert f"`{location}`" in answer
    export_id = prefix.removeprefix("exports/")
    (event,) = harness.state.events(export_id)
    detail: dict[str, Any] = event["detail"]
    assert (event["kind"], event["actor"]) == ("exported", APPROVER)
    assert (detail["archive_location"], detail["exported"]) == (location, 3)
    assert count(harness.sqs, pair.dlq_url) == 3


def test_a_number_changed_beyond_what_a_float_holds_is_shown_as_written_on_the_card(
    harness: SlackHarness,
) -> None:
    # Given a JSON order whose amount has more digits than a double keeps (a consumer reading
    # decimals, as payment code does, reads every one of them)
    old = '{"order": 7, "amount": 12345678901234567.89, "status": "failed"}'
    world, message_id = _world(harness, body=old)
    view = world.open_form(message_id, user=REQUESTER)

    # When the amount is changed to another that the same double stands for, with the status
    new = '{"order": 7, "amount": 12345678901234567.00, "status": "retry"}'
    world.submit(view, new, user=REQUESTER)
    harness.settle()

    # Then the card's diff shows both amounts as written: the change approved is the change sent
    (diff,) = [
        b["text"]["text"] for b in harness.card().body["blocks"] if "*Change*" in str(b.get("text"))
    ]
    assert "12345678901234567.89" in diff and "12345678901234567.00" in diff, diff


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        # JSON changed only in its spacing: the parsed JSON is the same, the bytes are not
        (ORDER, ORDER.replace(", ", ",   "), [f"-{ORDER}", "+" + ORDER.replace(", ", ",   ")]),
        # text changed only in its line ends
        ("order 7\nfailed", "order 7\nfailed\n", ["+"]),
        ("order 7\nfailed", "order 7\r\nfailed", ["-order 7", "+order 7\\r"]),
        ("order 7 failed", "order 7\u2028failed", ["+order 7\\u2028failed"]),
    ],
)
def test_a_body_changed_only_in_spacing_or_line_ends_shows_the_change_on_the_card(
    harness: SlackHarness, old: str, new: str, shown: list[str]
) -> None:
    # Given the modal of a body
    world, message_id = _world(harness, body=old)
    view = world.open_form(message_id, user=REQUESTER)

    # When only its spacing or its line ends are changed (the bytes sent differ)
    world.submit(view, new, user=REQUESTER)
    harness.settle()

    # Then the card does not show an empty change: the diff is of the text as written
    (diff,) = [
        b["text"]["text"] for b in harness.card().body["blocks"] if "*Change*" in str(b.get("text"))
    ]
    lines = diff.split("```")[1].split("\n")  # the code block's lines, fences off
    for line in shown:
        assert line in lines, (line, diff)
