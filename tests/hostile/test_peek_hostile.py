"""Hostile message text through the real peek paths: Slack (signed command → worker → the local
Slack server, which refuses what real Slack would) and the CLI (against moto).

Whatever a body, an attribute value or a FIFO group id holds, peek shows it as text: no live link,
mention or broadcast in Slack, no code span or fence ended early, no control character acting on a
terminal or hiding in a message, and every message within Slack's limits.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.local.scene import QueuePair, create_pair, put_in_dlq
from tests.integration.cli_helpers import run_cli
from tests.integration.slack.slack_harness import SlackHarness, harness, slack_env

__all__ = ["harness", "slack_env"]  # fixtures

# What SQS lets into a body or an attribute value (tab, LF, CR, then U+0020 upwards: so C1
# controls such as CSI U+009B and OSC U+009D, and U+202E RIGHT-TO-LEFT OVERRIDE).
HOSTILE_BODIES = [
    "<https://evil.example|Runbook: re-authenticate> before you redrive",
    "<@U0ADMIN> <!channel> <!here> <!subteam^S0ONCALL|@oncall> <#C0SECRET>",
    "&lt;not a tag&gt; stays as typed",
    "the real body\rFAKE BODY SHOWN INSTEAD",
    "one\n\n- 00000000-forged  sent 2026-01-01T00:00:00+00:00  receives 1  source orders",
    "\x9b2J\x9d8;;https://evil.example\x9cclick\x9d8;;\x9c",
    "invoice \u202efdp.exe",
    "```\n<!channel>\n``` a fence, then `a code span`",
]
HOSTILE_ATTRIBUTES = {
    "note": {"DataType": "String", "StringValue": "<!channel>\nforged = attribute"},
    "link": {"DataType": "String", "StringValue": "`<https://evil.example|safe>`"},
}
HOSTILE_GROUP = "grp`<!channel>`&<@U0ADMIN>"
# A raw < or > (Slack parses it), or an & that is not one of the three entities we write.
_PARSED = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


def _peek_answer(harness: SlackHarness, text: str) -> dict[str, Any]:
    harness.command(text)
    harness.settle()
    answer = harness.calls("response_url")[-1]
    assert answer.refused is None, answer.problem
    # The message sections: each message's Edit & resend / Discard buttons (an actions block
    # after its section, our own texts, the id only in a JSON value) are tested in
    # tests/unit/slack/test_slack_action_blocks.py.
    body = dict(answer.body)
    body["blocks"] = [b for b in body["blocks"] if b["type"] == "section"]
    return body


def _all_texts(answer: dict[str, Any]) -> list[str]:
    return [answer["text"], *(b["text"]["text"] for b in answer["blocks"])]


def _assert_inert(answer: dict[str, Any]) -> None:
    for text in _all_texts(answer):
        assert not _PARSED.search(text), text
        assert all(c.isprintable() or c == "\n" for c in text), repr(text)
    for block in answer["blocks"][1:]:  # one section per message: fences and spans whole
        text = block["text"]["text"]
        assert text.endswith("```") and text.count("```") in (2, 4), text
        head = text.split("\n", 1)[0]
        assert head.count("`") % 2 == 0, head


def test_slack_peek_shows_hostile_bodies_and_attributes_as_text(harness: SlackHarness) -> None:
    # Given a DLQ whose messages carry links, mentions, entities, CR, LF, C1 controls, U+202E
    # and fences in their bodies, and a mention and a link in their attributes
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, HOSTILE_BODIES, attributes=HOSTILE_ATTRIBUTES)

    # When someone peeks at all of them in Slack
    answer = _peek_answer(harness, f"peek orders-dlq {len(HOSTILE_BODIES)}")

    # Then Slack accepted the answer, nothing in it is live, and every fence is whole
    assert len(answer["blocks"]) == 1 + len(HOSTILE_BODIES)
    _assert_inert(answer)
    # And people read what the messages hold, control characters as escapes
    shown = "\n".join(_all_texts(answer))
    for visible in (
        "&lt;https://evil.example|Runbook: re-authenticate&gt;",
        "&lt;!channel&gt;",
        "&amp;lt;not a tag&amp;gt;",
        "the real body\\rFAKE BODY SHOWN INSTEAD",
        "\\x9b2J\\x9d8;;https://evil.example\\x9cclick",
        "invoice \\u202efdp.exe",
        "note = &lt;!channel&gt;\\nforged = attribute",
        "link = ˋ&lt;https://evil.example|safe&gt;ˋ",
    ):
        assert visible in shown


def test_slack_peek_keeps_a_hostile_group_id_inside_its_code_span(harness: SlackHarness) -> None:
    # Given a FIFO DLQ whose messages' group id holds backticks, a broadcast and a mention
    pair = create_pair(harness.sqs, "payments.fifo")
    put_in_dlq(harness.sqs, pair, ['{"n": 1}', '{"n": 2}'], group_id=HOSTILE_GROUP)

    # When someone peeks at it in Slack
    answer = _peek_answer(harness, "peek payments-dlq.fifo 2")

    # Then the group id is one code span that nothing in it ended or made live
    _assert_inert(answer)
    for block in answer["blocks"][1:]:
        assert " · group `grpˋ&lt;!channel&gt;ˋ&amp;&lt;@U0ADMIN&gt;`" in block["text"]["text"]


def test_slack_peek_of_ten_huge_messages_stays_within_slacks_limits(harness: SlackHarness) -> None:
    # Given ten FIFO messages with the longest group id, ten long attributes each and 60 KiB
    # bodies full of fences and markup (so the header, attributes and body all compete for room)
    pair = create_pair(harness.sqs, "big.fifo")
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "<&>`" * 64} for i in range(10)}
    body = "```<!channel>&\n" * 4_000
    put_in_dlq(
        harness.sqs,
        pair,
        [f"{i}{body}" for i in range(10)],
        attributes=attributes,
        group_id=("`<>&" * 32)[:128],
    )

    # When someone peeks at all ten
    answer = _peek_answer(harness, "peek big-dlq.fifo 10")

    # Then Slack took the message (the server refuses more than ~11,000 characters of block
    # text), every section is within 3,000 characters and cut inside its fences, never through
    assert len(answer["blocks"]) == 11
    _assert_inert(answer)
    for block in answer["blocks"][1:]:
        text = block["text"]["text"]
        assert len(text) <= 3_000 and text.endswith("…```")


def test_slack_peek_marks_poison_messages(harness: SlackHarness) -> None:
    # Given a DLQ with one message redriven MAX_REDRIVES (3) times already and one never
    pair = create_pair(harness.sqs, "orders")
    counter = {"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}
    put_in_dlq(harness.sqs, pair, ['{"poison": true}'], attributes=counter)
    put_in_dlq(harness.sqs, pair, ['{"poison": false}'])

    # When someone peeks at both
    answer = _peek_answer(harness, "peek orders-dlq 2")

    # Then the poison one is marked, and the other is not
    title, *messages = (b["text"]["text"] for b in answer["blocks"])
    assert ":skull: 1 of them are poison" in title
    marked = {'"poison": true' in m: m.startswith(":skull: *poison*") for m in messages}
    assert marked == {True: True, False: False}


# --- the terminal -------------------------------------------------------------------------------


def _hostile_dlq(sqs: Any) -> QueuePair:
    pair = create_pair(sqs, "orders")
    put_in_dlq(sqs, pair, HOSTILE_BODIES, attributes=HOSTILE_ATTRIBUTES)
    return pair


def test_cli_peek_shows_control_characters_as_escapes(sqs: Any, engine_env: dict) -> None:
    # Given the same hostile messages
    _hostile_dlq(sqs)

    # When they are peeked at in a terminal
    result = run_cli(["peek", "orders-dlq", "-n", str(len(HOSTILE_BODIES))], engine_env)

    # Then nothing printed can drive the terminal, return to the line's start or reorder it
    assert result.code == 0, result.err
    assert all(line.isprintable() for line in result.out.splitlines())
    # And each message is one entry: an LF in a body cannot forge another
    assert result.out.count("\n- ") == len(HOSTILE_BODIES)
    for visible in (
        "the real body\\rFAKE BODY SHOWN INSTEAD",
        "one\\n\\n- 00000000-forged",
        "\\x9b2J\\x9d8;;https://evil.example\\x9cclick",
        "invoice \\u202efdp.exe",
        "note = <!channel>\\nforged = attribute",
    ):
        assert visible in result.out


def test_cli_peek_raw_prints_messages_exactly(sqs: Any, engine_env: dict) -> None:
    # Given the same hostile messages
    _hostile_dlq(sqs)

    # When they are peeked at with --raw
    result = run_cli(["peek", "orders-dlq", "-n", str(len(HOSTILE_BODIES)), "--raw"], engine_env)

    # Then their characters are printed as they are
    assert result.code == 0, result.err
    for raw in ("the real body\rFAKE", "\x9b2J", "invoice \u202efdp.exe", "<!channel>\nforged"):
        assert raw in result.out


def test_cli_peek_marks_poison_messages(sqs: Any, engine_env: dict) -> None:
    # Given a DLQ with one message redriven MAX_REDRIVES (2 here) times already and one never
    pair = create_pair(sqs, "orders")
    counter = {"dlq-redrive-count": {"DataType": "Number", "StringValue": "2"}}
    put_in_dlq(sqs, pair, ['{"poison": true}'], attributes=counter)
    put_in_dlq(sqs, pair, ['{"poison": false}'])
    env = {**engine_env, "MAX_REDRIVES": "2"}

    # When they are peeked at, as text and as JSON
    text = run_cli(["peek", "orders-dlq", "-n", "2"], env)
    shown = run_cli(["--json", "peek", "orders-dlq", "-n", "2"], env)

    # Then the poison one is marked in both, and the other is not
    assert "1 of them are POISON: redriven MAX_REDRIVES (2) times already" in text.out
    entries = text.out.split("\n- ")[1:]
    marked = {'"poison": true' in e: "POISON (redriven 2 times)" in e for e in entries}
    assert marked == {True: True, False: False}
    flags = {json.loads(m["body"])["poison"]: m["poison"] for m in shown.json["messages"]}
    assert flags == {True: True, False: False}
    counts = sorted(m["redrive_count"] for m in shown.json["messages"])
    assert counts == [0, 2]


def test_answers_that_quote_what_was_typed_show_it_as_text(harness: SlackHarness) -> None:
    # Given commands whose text carries a broadcast, a mention and a link
    typed = "<!channel> <@U0ADMIN> <https://evil.example|Runbook>"

    # When one is refused at once (unknown command, in the ack) and one by the worker (unknown
    # queue, through response_url)
    ack = harness.command(typed)
    harness.command(f"peek {typed.replace(' ', '')}")
    harness.settle()

    # Then both answers quote the input with nothing in it live, in blocks and fallback text
    answers = [json.loads(str(ack["body"])), harness.calls("response_url")[-1].body]
    for answer in answers:
        for text in _all_texts(answer):
            assert not _PARSED.search(text), text
    assert "unknown command '&lt;!channel&gt;'" in answers[0]["text"]
    assert "Runbook&gt;'" in answers[1]["text"]
