"""An adversarial review of two promises, on the real paths: signed Slack requests through the app
to the local Slack server, the CLI as a process against moto, the daily job's handler, and the
log lines they write.

1. Untrusted text (bodies, attributes, group ids, what a user typed, AWS errors that quote any of
   them) is shown, never acted on: nothing live in Slack mrkdwn, no character that drives or
   reorders a terminal or a log reader, no escape cut in half.
2. Nothing we post is refused by real Slack: besides what the local server checks, every text
   object has text, a context element stays within 3,000 characters, block ids are unique.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.slack import observability
from bot.slack.blocks import approval_card
from bot.slack.mrkdwn import ELLIPSIS, cut, escape
from bot.sqs_gateway import SqsGateway
from bot.state import ApprovalRequest
from infra.local.scene import create_pair, put_in_dlq
from infra.local.slack_api import message_problem
from tests.integration.cli_helpers import run_cli
from tests.integration.daily.daily_support import Daily, daily, slack
from tests.integration.slack.slack_harness import APPROVER, SlackHarness, harness, slack_env

__all__ = ["daily", "harness", "slack", "slack_env"]  # fixtures

# A raw < or > (Slack parses it), or an & that does not start one of the three entities we write.
_PARSED = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")
# Our own mentions of the people who asked and decided (user ids from Slack's signed payloads).
_OUR_MENTION = re.compile(r"<@U[A-Z0-9_]+>")
# What must never reach a terminal or a Slack text as it is: C0 and C1 controls (but \n and \t
# in a terminal line are the CLI's own), DEL, the bidi controls, zero-width characters, LS/PS.
_ACTING = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)

# Message text that tries every way in: Slack's special parsing (broadcasts, user groups, channel
# links, mailto links), entities that would read as markup if unescaped twice, zero-width and
# bidi characters, line and paragraph separators, C1 controls (NEL, RI, DCS, CSI), JSON escapes of
# a lone surrogate and ESC (as text: SQS stores no lone surrogate), a body that impersonates our
# poison mark, and bodies at and past the section limit, one of them expanding 5x when escaped.
ATTACK_BODIES = [
    "<!here> <!subteam^S123|@oncall> <#C123|general> <mailto:it@evil.example|Email IT>",
    "&lt;!channel&gt; &amp;lt;@U0ADMIN&amp;gt; &#60;!here&#62;",
    "zero\u200dwidth\u200bspace\ufeffmark",
    "line\u2028separator\u2029paragraph",
    "abc\u202edef \u2066isolate\u2069 \u2067rtl\u2068first",
    '{"at": "\\ud800", "note": "\\u001b[2J"}',
    "\x85next line\x8dRI\x90DCS\x9b31mred",
    ":skull: *poison* (redriven 99 times) · `fake` header",
    "x" * 3_000,
    "&" * 3_000,
]
# A FIFO group id (at most 128 of SQS's allowed punctuation and alphanumerics) that tries to end
# its code span and format or mention from the outside.
ATTACK_GROUP = "g`*bold*_it_~s~`<!channel>`<@U0ADMIN>&amp;:skull:"


def _texts(node: Any) -> list[str]:
    """Every ``text`` string in a payload (text objects, fields, context elements, buttons)."""
    if isinstance(node, dict):
        return [
            text
            for key, value in node.items()
            for text in ([value] if key == "text" and isinstance(value, str) else _texts(value))
        ]
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def _text_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") in ("mrkdwn", "plain_text") else []
        return own + [obj for value in node.values() for obj in _text_objects(value)]
    if isinstance(node, list):
        return [obj for item in node for obj in _text_objects(item)]
    return []


def assert_slack_accepts(payload: dict[str, Any]) -> None:
    """Rules real Slack applies that the local server does not check (yet): a text object's text
    is 1 to 3,000 characters ("Minimum length for this field is 1. Maximum length for this field
    is 3000 characters", Block Kit composition objects: text), and a ``block_id`` is unique in a
    message ("should be unique for each message", Block Kit blocks)."""
    for obj in _text_objects(payload.get("blocks", [])):
        assert 1 <= len(obj["text"]) <= 3_000, obj
    ids = [b["block_id"] for b in payload.get("blocks", []) if "block_id" in b]
    assert len(ids) == len(set(ids)), ids


def assert_inert(payload: dict[str, Any]) -> None:
    """Nothing in the payload is live mrkdwn but our own mentions, and nothing acts or hides."""
    for text in [str(payload.get("text", "")), *_texts(payload.get("blocks", []))]:
        assert not _PARSED.search(_OUR_MENTION.sub("", text)), text[:500]
        assert not _ACTING.search(text), repr(text[:500])


def _answer(harness: SlackHarness, text: str) -> dict[str, Any]:
    harness.command(text)
    harness.settle()
    call = harness.calls("response_url")[-1]
    assert call.refused is None, call.problem
    return call.body


# --- Slack: peek ---------------------------------------------------------------------------------


def test_slack_peek_of_every_attack_body_is_accepted_inert_and_readable(
    harness: SlackHarness,
) -> None:
    # Given a DLQ holding one message of each attack
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, ATTACK_BODIES)

    # When someone peeks at all ten in Slack
    answer = _answer(harness, f"peek orders-dlq {len(ATTACK_BODIES)}")

    # Then Slack takes the answer and nothing in it is live, acts or hides
    assert_slack_accepts(answer)
    assert_inert(answer)
    title, *sections = (b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert len(sections) == len(ATTACK_BODIES)
    # And every message's body is one fenced block, its fences whole
    for text in sections:
        assert text.endswith("```") and text.count("```") == 2, text[:300]
    # And the body that impersonates our poison mark stays inside its code block: no message is
    # marked poison and the title counts none
    assert ":skull:" not in title
    assert not any(text.startswith(":skull:") for text in sections)
    shown = "\n".join(sections)
    # And people read what the messages hold: entities once escaped (Slack shows "&lt;" as typed),
    # the invisible and reordering characters as escapes, a JSON escape as the text it is
    for visible in (
        "&lt;!here&gt; &lt;!subteam^S123|@oncall&gt; &lt;#C123|general&gt;",
        "&amp;lt;!channel&amp;gt; &amp;amp;lt;@U0ADMIN&amp;amp;gt; &amp;#60;!here&amp;#62;",
        "zero\\u200dwidth\\u200bspace\\ufeffmark",
        "line\\u2028separator\\u2029paragraph",
        "abc\\u202edef \\u2066isolate\\u2069 \\u2067rtl\\u2068first",
        '"at": "\\ud800", "note": "\\u001b[2J"',
        "\\x85next line\\x8dRI\\x90DCS\\x9b31mred",
        ":skull: *poison* (redriven 99 times) · ˋfakeˋ header",
    ):
        assert visible in shown


def test_slack_peek_of_huge_attributes_a_binary_one_and_a_hostile_group(
    harness: SlackHarness,
) -> None:
    # Given FIFO messages with the hostile group id: one with nine attributes of SQS's longest
    # names (256 characters) and 5,100 character values full of markup and a 150,000 character
    # single-line body; one with a Binary attribute whose bytes are an escape sequence and markup
    pair = create_pair(harness.sqs, "big.fifo")
    value = "<!channel>`*_~&\u202e" * 300
    attributes: dict[str, dict[str, Any]] = {
        f"a{i}." + "n" * 253: {"DataType": "String", "StringValue": value} for i in range(9)
    }
    put_in_dlq(
        harness.sqs,
        pair,
        ["y" * 150_000 + "<!channel>"],
        attributes=attributes,
        group_id=ATTACK_GROUP,
    )
    binary = {"bin": {"DataType": "Binary", "BinaryValue": b"\x1b[2J<!channel>"}}
    put_in_dlq(harness.sqs, pair, ["short <@U0ADMIN>"], attributes=binary, group_id=ATTACK_GROUP)

    # When someone peeks at both in Slack
    answer = _answer(harness, "peek big-dlq.fifo 2")

    # Then Slack takes it, nothing is live, and each message's spans and fences are whole
    assert_slack_accepts(answer)
    assert_inert(answer)
    sections = [b["text"]["text"] for b in answer["blocks"][1:] if b["type"] == "section"]
    assert len(sections) == 2
    for text in sections:
        head = text.split("\n", 1)[0]
        assert head.count("`") % 2 == 0, head
        assert text.count("```") == 4 and text.endswith("```"), text[:300]
        # The group id is one code span: its backticks and marks stay inside it
        assert (
            " · group `gˋ*bold*_it_~s~ˋ&lt;!channel&gt;ˋ&lt;@U0ADMIN&gt;&amp;amp;:skull:`" in head
        )
    # And the binary attribute says its size, not its bytes
    assert "bin = &lt;14 bytes&gt;" in "\n".join(sections)


def test_slack_answers_quoting_a_long_typed_text_never_cut_an_entity_in_half(
    harness: SlackHarness,
) -> None:
    # Given commands whose typed text escapes to more than a section holds (& becomes &amp;)
    typed = "&" * 950

    # When one is refused in the ack (unknown command) and one by the worker (unknown queue)
    ack = harness.command(typed)
    harness.command(f"peek {typed}")
    harness.settle()

    # Then both answers are taken and cut between whole entities: none is left as "&am…"
    answers = [json.loads(str(ack["body"])), harness.calls("response_url")[-1].body]
    for answer in answers:
        assert_slack_accepts(answer)
        assert_inert(answer)
        for text in [answer["text"], *_texts(answer["blocks"])]:
            assert not re.search(r"&[a-z]{0,3}" + ELLIPSIS, text), text[-40:]


def test_cut_never_leaves_part_of_an_entity_or_an_escape() -> None:
    # Given escaped text of entities and control-character escapes
    for raw in ("&" * 1_000, "\x1b" * 1_000, "\u202e" * 1_000, "a<b>" * 500):
        shown = escape(raw)
        # When it is cut at every length near a piece's end
        for limit in range(2_990, 3_000):
            text = cut(f":x: {shown}", limit)
            # Then it ends with whole pieces and the ellipsis, within the limit
            assert len(text) <= limit and text.endswith(ELLIPSIS)
            body = text[len(":x: ") : -len(ELLIPSIS)]
            assert shown.startswith(body)
            assert re.fullmatch(r"(?:&amp;|&lt;|&gt;|\\x1b|\\u202e|a|b)*", body), body[-12:]


# --- Slack: the approval card, its updates and the status ----------------------------------------


def test_card_update_and_status_of_a_hostile_selection_are_inert(harness: SlackHarness) -> None:
    # Given a message whose time sits under a field path that a user types with a broadcast,
    # backticks, marks and an emoji code (a valid dotted path: nothing forbids these characters)
    path = ["<!channel>", "a`b*c*_d_~e~", ":white_check_mark:"]
    body = {path[0]: {path[1]: {path[2]: "2026-03-10T08:00:00Z"}}}
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [json.dumps(body)])

    # When they ask for a redrive of that day by that field, it is approved, and status is asked
    request_id = harness.request_card(
        f"redrive orders-dlq --date 2026-03-10 --time-field '{'.'.join(path)}'"
    )
    harness.click("dlq_redrive.approve", request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()
    status = _answer(harness, "status")

    # Then the card, every update of it and the status are taken by Slack and inert
    payloads = [harness.card().body, *(c.body for c in harness.calls("chat.update")), status]
    assert len(payloads) >= 3
    for payload in payloads:
        assert_slack_accepts(payload)
        assert_inert(payload)
    # And the card shows the selection as typed, in a code span: the typed backtick cannot end
    # it, and the marks and the emoji code format nothing (no bold, no ✅ on someone's request)
    shown = "`2026-03-10 (UTC), by body field '&lt;!channel&gt;.aˋb*c*_d_~e~.:white_check_mark:'`"
    fields = [f["text"] for f in harness.card().body["blocks"][1]["fields"]]
    assert f"*Selection*\n{shown}" in fields
    confirm = harness.card().body["blocks"][-1]["elements"][0]["confirm"]["text"]["text"]
    assert f"({shown})" in confirm
    # And the message moved (the selection was the one shown)
    assert "moved *1*" in harness.updates()[-1]


def test_the_approval_dialog_keeps_a_long_hostile_selection_in_one_whole_span() -> None:
    # Given a request with the longest queue name, a ten-digit count and a typed selection that
    # escapes to far more than the dialog's 300 characters
    now = datetime.now(UTC)
    request = ApprovalRequest(
        request_id="r1",
        dlq="q" * 80,
        selection={},
        selection_text="& :white_check_mark: *approved*" * 60,
        matched=9_999_999_999,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=now,
        approval_expires_at=now,
    )

    # When its card is rendered
    card = approval_card(request, ZoneInfo("UTC"))

    # Then the confirm dialog's text fits and its selection span is closed: no mark or emoji code
    # of it formats the dialog
    assert_slack_accepts(card)
    confirm = card["blocks"][-1]["elements"][0]["confirm"]["text"]["text"]
    assert len(confirm) <= 300 and confirm.endswith("…`).") and confirm.count("`") == 4


# --- the terminal ---------------------------------------------------------------------------------


def _cli(argv: list[str], env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a user runs it: its own process; output kept as the bytes it wrote."""
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.getcwd(), **env, **extra}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=full_env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_cli_peek_list_of_every_attack_writes_nothing_that_acts(
    sqs: Any, engine_env: dict[str, str]
) -> None:
    # Given the attack bodies, and a FIFO DLQ with the hostile group id and a markup attribute
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, ATTACK_BODIES)
    fifo = create_pair(sqs, "pay.fifo")
    note = {"note": {"DataType": "String", "StringValue": "a\u2028b\x85c\u202ed\rX"}}
    put_in_dlq(sqs, fifo, ["{}"], attributes=note, group_id=ATTACK_GROUP)

    # When they are listed and peeked at in a terminal
    runs = [
        _cli(["list"], engine_env),
        _cli(["peek", "orders-dlq", "-n", str(len(ATTACK_BODIES)), "--full"], engine_env),
        _cli(["peek", "pay-dlq.fifo"], engine_env),
    ]

    # Then every byte written is readable text: no control, bidi, zero-width or separator
    # character, and one entry per message
    for run in runs:
        assert run.returncode == 0, run.stderr
        out = run.stdout.decode("utf-8")
        assert not _ACTING.search(out.replace("\n", "")), repr(_ACTING.search(out))
    peeked = runs[1].stdout.decode("utf-8")
    assert peeked.count("\n- ") == len(ATTACK_BODIES)
    assert "line\\u2028separator\\u2029paragraph" in peeked
    assert "abc\\u202edef \\u2066isolate\\u2069" in peeked
    assert "x" * 3_000 in peeked
    fifo_out = runs[2].stdout.decode("utf-8")
    assert f"group: {ATTACK_GROUP}" in fifo_out
    assert "note = a\\u2028b\\x85c\\u202ed\\rX" in fifo_out


def test_cli_peek_json_is_valid_json_of_exactly_what_the_messages_hold(
    sqs: Any, engine_env: dict[str, str]
) -> None:
    # Given the attack bodies
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, ATTACK_BODIES)

    # When they are peeked at as JSON
    run = _cli(["--json", "peek", "orders-dlq", "-n", "10", "--full"], engine_env)

    # Then the output is one JSON document holding every body exactly
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert sorted(m["body"] for m in shown["messages"]) == sorted(ATTACK_BODIES)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_cli_peek_on_a_terminal_that_is_not_utf8_shows_escapes_not_a_traceback(
    sqs: Any, engine_env: dict[str, str], encoding: str
) -> None:
    # Given a body with characters a latin-1 or ASCII terminal cannot show
    pair = create_pair(sqs, "orders")
    body = "café ✓ \U0001f480 naïve"
    put_in_dlq(sqs, pair, [body])

    # When it is peeked at, as text and as JSON, where the output encoding is not UTF-8
    text = _cli(["peek", "orders-dlq"], engine_env, PYTHONIOENCODING=encoding)
    as_json = _cli(["--json", "peek", "orders-dlq"], engine_env, PYTHONIOENCODING=encoding)

    # Then both answer: the text with escapes for what the terminal cannot show, the JSON valid
    # and exact
    assert text.returncode == 0, text.stderr.decode(encoding, "replace")[-500:]
    assert b"Traceback" not in text.stderr
    assert b"body: caf" in text.stdout and b"\\u2713" in text.stdout
    assert as_json.returncode == 0, as_json.stderr.decode(encoding, "replace")[-500:]
    assert json.loads(as_json.stdout)["messages"][0]["body"] == body


def _refusing(operation: str, code: str, message: str) -> SqsGateway:
    """A gateway whose ``operation`` calls AWS refuses with ``code`` and ``message`` (botocore's
    public event hooks; every other call goes to the local server)."""
    client = boto3.client("sqs")

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    client.meta.events.register(f"before-parameter-build.sqs.{operation}", refuse)
    return SqsGateway(client)


# What an AWS error can quote back: the message's text, here with an OSC 8 hyperlink, a CSI
# that clears the screen, CR and LF that forge a line, and U+202E.
QUOTING_ERROR = (
    "Value \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x9b2J for parameter "
    "MessageGroupId is invalid\r\n  moved 999\u202e"
)


@pytest.mark.parametrize(
    ("operation", "code", "shown_as"),
    [
        # a refusal of the send: each message fails with it (a failure line per message)
        ("SendMessageBatch", "InvalidParameterValue", "InvalidParameterValue: Value "),
        # a refusal that stops the run (the "stopped early" line)
        ("ReceiveMessage", "KMS.AccessDeniedException", "stopped early (error: AWS refused"),
    ],
)
def test_cli_redrive_summary_shows_an_aws_error_that_quotes_input_as_text(
    sqs: Any, engine_env: dict[str, str], operation: str, code: str, shown_as: str
) -> None:
    # Given a DLQ whose calls AWS refuses with an error that quotes hostile text
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, ['{"n": 1}'])
    env = {**engine_env, "DLQ_QUEUES": "orders-dlq"}

    # When it is redriven, with a human summary and as JSON
    text = run_cli(
        ["redrive", "orders-dlq"], env, gateway=_refusing(operation, code, QUOTING_ERROR)
    )
    as_json = run_cli(
        ["--json", "redrive", "orders-dlq"], env, gateway=_refusing(operation, code, QUOTING_ERROR)
    )

    # Then the run fails with the error, shown as text on every line of the summary
    assert text.code == 1
    assert shown_as in text.out
    for line in text.out.splitlines():
        assert line.isprintable(), repr(line)
    assert "\\x1b]8;;https://evil.example\\x07click" in text.out
    assert "\\r\\n  moved 999\\u202e" in text.out
    # And the JSON is valid and quotes the error exactly
    assert as_json.code == 1
    assert any(QUOTING_ERROR in text for text in _strings(as_json.json))


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    return [text for item in node for text in _strings(item)] if isinstance(node, list) else []


# --- the daily report -----------------------------------------------------------------------------

RUN = "2026-03-11T06:00:00Z"  # yesterday is 10 March


def _refusing_client(queue: str, message: str) -> Any:
    """An SQS client whose reads of ``queue`` AWS refuses with ``message`` (public event hooks)."""
    client = boto3.client("sqs")

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("QueueUrl", "")).endswith(f"/{queue}"):
            raise ClientError(
                {"Error": {"Code": "KMS.AccessDeniedException", "Message": message}},
                "GetQueueAttributes",
            )

    client.meta.events.register("before-parameter-build.sqs.*", refuse)
    return client


def _daily_scene(sqs: Any, daily: Daily) -> None:
    """Error groups from hostile ERROR_ATTRIBUTE values and body shapes, and a DLQ whose reads AWS
    refuses with an error that quotes hostile text."""
    orders, shapes = create_pair(sqs, "orders"), create_pair(sqs, "shapes")
    create_pair(sqs, "denied")
    labels = [
        "<!channel> `timeout` *now* :skull: poison",
        "\x9b2J\u202eNEL\x85 <@U0ADMIN> &lt;b&gt;",
        "<https://evil.example|Runbook: re-authenticate> " + "z" * 200,
    ]
    for label in labels:
        error = {"error": {"DataType": "String", "StringValue": label}}
        sqs.send_message(QueueUrl=orders.dlq_url, MessageBody="{}", MessageAttributes=error)
    for body in ('{"<!here>": 1, "\\ud800": {"`k`": "v"}}', "<@U0ADMIN> order 12 failed \u2028"):
        sqs.send_message(QueueUrl=shapes.dlq_url, MessageBody=body)
    daily.configure(ERROR_ATTRIBUTE="error", DLQ_QUEUES="orders-dlq,shapes-dlq,denied-dlq")


def test_daily_error_groups_and_a_quoting_aws_error_are_shown_as_text(
    daily: Daily, sqs: Any
) -> None:
    # Given error groups whose labels carry broadcasts, links, code marks, C1 and bidi controls,
    # JSON keys with markup and a lone surrogate's escape, and a DLQ AWS refuses to read with an
    # error that quotes hostile text
    _daily_scene(sqs, daily)

    # When the 06:00 job runs
    daily.run(RUN, sqs_client=_refusing_client("denied-dlq", QUOTING_ERROR))

    # Then Slack takes the report (the fixture fails the test on a refusal), and each label is
    # one code span nothing in it ends or makes live, each error line text
    [report] = daily.reports()
    assert_slack_accepts(report.body)
    lines = [line for text in _texts(report.body["blocks"]) for line in text.split("\n")]
    labels = [line for line in lines if line.startswith("• `")]
    assert len(labels) == 5, lines
    errors = [line for line in lines if "could not be read:" in line]
    assert errors
    for line in [*labels, *errors]:
        assert not _PARSED.search(line), line
        assert not _ACTING.search(line), repr(line)
    for label in labels:
        assert label.count("`") == 2, label
    shown = "\n".join(labels)
    assert "&lt;!channel&gt; ˋtimeoutˋ *now* :skull: poison" in shown
    assert "\\x9b2J\\u202eNEL &lt;@U0ADMIN&gt; &amp;lt;b&amp;gt;" in shown  # NEL: a space
    assert "json {&lt;!here&gt;:num, \\ud800:{ˋkˋ:str}}" in shown
    assert "\\x1b]8;;https://evil.example\\x07click" in "\n".join(errors)


# --- log lines ------------------------------------------------------------------------------------


@pytest.fixture
def worker_log() -> Iterator[io.StringIO]:
    """What the Slack app's powertools logger writes (its handler's stream, for this test)."""
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def test_slack_worker_log_lines_quoting_typed_text_are_printable_json(
    harness: SlackHarness, worker_log: io.StringIO
) -> None:
    # Given a command that names a queue with a CSI, U+202E, an SGR sequence and U+2028 in it
    harness.command("peek orders\x9b2J\u202e\x1b[31m\u2028-dlq")
    harness.settle()

    # Then the worker's log line about it is one JSON object, printable, quoting it as text
    lines = [line for line in worker_log.getvalue().splitlines() if '"job refused"' in line]
    assert len(lines) == 1
    assert lines[0].isprintable(), repr(lines[0])
    assert "orders\\x9b2J\\u202e\\x1b[31m\\u2028-dlq" in json.loads(lines[0])["error"]


# --- open: broken promises left to the owners of bot/daily and infra/local/slack_api.py ----------


def test_daily_report_has_no_raw_angle_bracket_of_its_own(daily: Daily, sqs: Any) -> None:
    # Given a DLQ whose oldest message arrived less than a minute before the report
    pair = create_pair(sqs, "orders")
    sqs.send_message(QueueUrl=pair.dlq_url, MessageBody="{}")
    daily.configure(DLQ_QUEUES="orders-dlq")

    # When the 06:00 job runs
    daily.run(RUN)

    # Then nothing in the report is a raw <, >, or & (Slack's formatting reference: they "must be
    # converted to HTML entities if they're not going to be used for their parsing purpose");
    # today the age reads "oldest <1m" (bot/daily/blocks.py, duration)
    [report] = daily.reports()
    assert_inert(report.body)


def test_daily_plain_log_lines_quoting_an_aws_error_are_printable(daily: Daily, sqs: Any) -> None:
    # Given a DLQ AWS refuses to read with an error that quotes hostile text, and the root
    # logger's handler as the Lambda runtime installs it (plain text lines)
    create_pair(sqs, "denied")
    daily.configure(DLQ_QUEUES="denied-dlq")
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        # When the 06:00 job runs
        daily.run(RUN, sqs_client=_refusing_client("denied-dlq", QUOTING_ERROR))
    finally:
        logging.getLogger().removeHandler(handler)

    # Then the log line that says so quotes the error as text; today bot.daily.* log through
    # plain `logging`, outside the powertools logger and its visible_json, so the OSC, CSI,
    # CR/LF and U+202E reach `aws logs tail` as they are
    lines = [line for line in written.getvalue().splitlines() if "denied-dlq" in line]
    assert lines
    for line in lines:
        assert not _ACTING.search(line.replace("\t", " ")), repr(line)


@pytest.mark.parametrize(
    ("why", "blocks"),
    [
        (
            "a context element's text is a text object: at most 3,000 characters",
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "a" * 3_001}]}],
        ),
        (
            "a text object's text has a minimum length of 1 (a context element)",
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": ""}]}],
        ),
        (
            "a text object's text has a minimum length of 1 (a section field)",
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": ""}]}],
        ),
        (
            "block_id must be unique for each message",
            [
                {"type": "section", "block_id": "x", "text": {"type": "mrkdwn", "text": "a"}},
                {"type": "section", "block_id": "x", "text": {"type": "mrkdwn", "text": "b"}},
            ],
        ),
        (
            "a header's text is plain_text only",
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*a*"}}],
        ),
    ],
)
def test_the_local_slack_server_refuses_what_real_slack_refuses(
    why: str, blocks: list[dict[str, Any]]
) -> None:
    # Given a message Block Kit's reference says is invalid; When the local server checks it;
    # Then it refuses it, so a test through it cannot pass with a payload real Slack refuses
    assert message_problem({"blocks": blocks}) is not None, why
