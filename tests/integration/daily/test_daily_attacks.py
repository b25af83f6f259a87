"""Adversarial review of the 06:00 report (issue 10, items 4, 12-19): each test tries to break one
promise of docs/daily-report.md and the README, on moto, the local Slack Web API server (which
refuses what Slack would) and the local Lambda Invoke endpoint.

A test that fails documents a promise that does not hold today (see the review's report).

Faults are injected the way the other daily tests do it: botocore's public event hooks on the
clients the job is built with, and ``FakeSlack.refuse``. A Lambda *killed* mid-run is a
``SystemExit`` raised from such a hook: like a killed process it runs no cleanup of ours nor of
powertools' idempotency (which only catches ``Exception``). Lambda's retry of an asynchronous
invocation that raised is modelled by sending the same event again (Lambda retries twice).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import handlers.daily
from bot.composition import build_daily_job
from bot.daily.failures import record_daily_failure
from bot.slack.web_api import SlackError
from infra.local.lambda_server import LambdaServer, LocalLambdaContext
from infra.local.scene import count, create_pair, drain
from tests.integration.daily.daily_support import (
    FUNCTION_NAME,
    Daily,
    blocks_text,
    button_values,
    context,
)

RUN = "2026-03-11T06:00:00Z"  # yesterday is 10 March (UTC)
DAY = date(2026, 3, 10)
PEEK = "dlq_redrive.report_peek"
REDRIVE = "dlq_redrive.report_redrive"
LAMBDA_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice


# --- helpers --------------------------------------------------------------------------------------


def _at(moment: str, **extra: Any) -> str:
    return json.dumps({"at": moment, **extra})


def _six_am(day: date) -> str:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC).isoformat()


def _send_direct(
    sqs: Any, url: str, bodies: list[str], *, redriven: int = 0, error: str | None = None
) -> None:
    """Messages straight into a DLQ (no recorded source, as moto's are), in batches of 10."""
    attributes: dict[str, Any] = {}
    if redriven:
        attributes["dlq-redrive-count"] = {"DataType": "Number", "StringValue": str(redriven)}
    if error is not None:
        attributes["error"] = {"DataType": "String", "StringValue": error}
    for start in range(0, len(bodies), 10):
        entries: list[dict[str, Any]] = []
        for n, body in enumerate(bodies[start : start + 10]):
            entry: dict[str, Any] = {"Id": str(n), "MessageBody": body}
            if attributes:
                entry["MessageAttributes"] = attributes
            entries.append(entry)
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)


def _hook(
    client: Any, event: str, when: Callable[[dict[str, Any]], bool], raise_: Callable[[], Any]
) -> list[int]:
    """Raise ``raise_()`` from ``client``'s calls named by ``event`` whose params ``when``
    accepts; returns the list the hook appends to each time it fires."""
    fired: list[int] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(params):
            fired.append(1)
            raise raise_()

    client.meta.events.register(event, hook)
    return fired


def _pk(params: dict[str, Any]) -> str:
    return str(params.get("Key", params.get("Item", {})).get("pk", {}).get("S", ""))


def _retry_failed(server: LambdaServer, *, name: str = FUNCTION_NAME) -> list[Any]:
    """Lambda's retries of the asynchronous invocations that raised: the same event again, up to
    twice each, until one returns. The results of the retries, in order."""
    results = []
    retried: set[int] = set()
    for _ in range(10):
        server.wait_idle(60)
        failed = [
            i
            for i in server.calls_to(name)
            if i.error is not None and id(i) not in retried and i.invocation_type == "Event"
        ]
        if not failed:
            return results
        for invocation in failed:
            retried.add(id(invocation))
            for _attempt in range(LAMBDA_RETRIES):
                try:
                    results.append(handlers.daily.handler(invocation.payload, context()))
                    break
                except Exception as exc:  # noqa: BLE001 - Lambda would retry again
                    results.append(exc)
    return results


def _section_of(text: str, dlq: str) -> str:
    """The lines of ``dlq``'s section in a report's text (up to the next DLQ's name line)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"*{dlq}*"))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if re.match(r"^\*[\w-]+\*", lines[i]) or lines[i].startswith("Redrive ")
        ),
        len(lines),
    )
    return "\n".join(lines[start:end])


def _continuation_scene(daily: Daily, sqs: Any) -> Any:
    """Yesterday's messages in ``orders-dlq``: 4 to move back, 1 poison, 1 without a readable
    time, 1 of the day before (outside the selection)."""
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T10:00:00Z", n=n) for n in range(4)])
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T11:00:00Z")], redriven=3)
    _send_direct(sqs, orders.dlq_url, [_at("half past ten"), _at("2026-03-09T10:00:00Z")])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at", MAX_REDRIVES="3")
    return orders


FINAL_LINE = (
    "orders-dlq: 4 moved back, 1 poison left for a human, 1 without a readable time left, "
    "1 outside the selection left; depth now ≈ 3"
)


def _is_final_reply(body: dict[str, Any]) -> bool:
    return bool(body.get("thread_ts")) and "finished after" in str(body.get("text"))


# --- the report always arrives --------------------------------------------------------------------


def test_a_run_killed_mid_run_is_reported_by_lambdas_retry(daily: Daily, sqs: Any) -> None:
    # Given yesterday's 3 messages in an auto-redriven DLQ
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(3)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    # And the function is killed (out of memory, a crash of the runtime) right after the
    # auto-redrive, while recording what it moved: no cleanup runs
    dynamodb = boto3.client("dynamodb")
    _hook(
        dynamodb,
        "provide-client-params.dynamodb.UpdateItem",
        lambda p: _pk(p).startswith("DAILYRUN#"),
        lambda: SystemExit("killed"),
    )
    with pytest.raises(SystemExit):
        daily.run(RUN, dynamodb_client=dynamodb)

    # When Lambda retries the invocation (a minute later: well within the 15-minute budget)
    retry = daily.run(RUN)

    # Then the day's report is posted, and says the 3 messages went back
    assert count(sqs, orders.source_url) == 3
    assert len(daily.reports()) == 1, retry
    assert "moved 3 back" in daily.report_text()


def test_the_state_table_unavailable_does_not_stop_the_report(daily: Daily, sqs: Any) -> None:
    # Given a DLQ with yesterday's messages, and every call to the state table failing
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(2)])
    daily.configure(AUTO_REDRIVE_TIME_FIELD="at")
    dynamodb = boto3.client("dynamodb")
    _hook(
        dynamodb,
        "provide-client-params.dynamodb",
        lambda _: True,
        lambda: _client_error("ServiceUnavailable", "DynamoDB"),
    )

    # When the job runs, and Lambda retries it twice while the table stays unavailable
    for _attempt in range(1 + LAMBDA_RETRIES):
        try:
            daily.run(RUN, dynamodb_client=dynamodb)
            break
        except Exception:  # noqa: BLE001 - Lambda retries
            continue

    # Then the report (or at least a line saying why the report is missing) reached the channel
    assert len(daily.reports()) >= 1
    assert "2 arrived" in daily.report_text() or "state table" in daily.report_text()


def test_an_aws_error_mid_redrive_keeps_what_it_moved_in_the_dlqs_line(
    daily: Daily, sqs: Any
) -> None:
    # Given two auto-redriven DLQs; alpha has 25 of yesterday's messages, and once the first of
    # them were moved back (deleted from the DLQ), receiving from alpha's DLQ is denied
    alpha, bravo = create_pair(sqs, "alpha"), create_pair(sqs, "bravo")
    _send_direct(sqs, alpha.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(25)])
    _send_direct(sqs, bravo.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(2)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    client = boto3.client("sqs")
    deleted: list[int] = []
    client.meta.events.register(
        "provide-client-params.sqs.DeleteMessageBatch",
        lambda params, **_: (
            deleted.append(1) if params["QueueUrl"].endswith("/alpha-dlq") else None
        ),
    )
    _hook(
        client,
        "provide-client-params.sqs.ReceiveMessage",
        lambda p: bool(deleted) and str(p.get("QueueUrl", "")).endswith("/alpha-dlq"),
        lambda: _client_error("AccessDenied", "ReceiveMessage"),
    )

    # When the job runs
    outcome = daily.run(RUN, sqs_client=client)

    # Then the report is posted; bravo went back; alpha's line names the error
    assert outcome["status"] == "reported" and outcome["redrive_errors"] == ["alpha-dlq"]
    assert count(sqs, bravo.source_url) == 2
    moved = count(sqs, alpha.source_url)
    assert moved > 0 and moved + count(sqs, alpha.dlq_url) == 25
    text = daily.report_text()
    assert "AccessDenied" in text
    # And the summary and alpha's own line agree on what it moved before the error
    assert f"{moved + 2} auto-redriven" in text
    assert f"{moved} back" in _section_of(text, "alpha-dlq"), _section_of(text, "alpha-dlq")


# --- posted once per part -------------------------------------------------------------------------


def test_a_refused_report_is_posted_once_by_the_retry_and_counts_what_was_moved(
    daily: Daily, sqs: Any
) -> None:
    # Given yesterday's 3 messages in an auto-redriven DLQ, and Slack refusing the report once
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(3)])
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-09T08:00:00Z")])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.slack.state.refuse("chat.postMessage", "internal_error")

    # When the run fails on it, and Lambda retries
    with pytest.raises(SlackError):
        daily.run(RUN)
    retry = daily.run(RUN)

    # Then one report went out (the refused attempt is recorded, not shown), with the moves of
    # the failed attempt counted, and the day's figures exact
    shown = [c for c in daily.reports() if c.body.get("blocks")]
    assert len(shown) == 2  # the refused call and the retry's
    assert retry["moved"] == 3 and retry["moved_now"] == 0
    text = daily.report_text()
    assert "Auto-redrive of 2026-03-10: moved 3 back, 1 outside the selection left" in text
    assert "Yesterday: 3 arrived" in text and "3 auto-redriven" in text
    assert "3 arrived yesterday" in text
    assert count(sqs, orders.source_url) == 3 and count(sqs, orders.dlq_url) == 1


def test_a_lost_post_record_and_a_refused_reply_do_not_post_the_report_twice(
    daily: Daily, sqs: Any
) -> None:
    # Given 21 DLQs with a message each: the report and one thread reply
    for n in range(21):
        pair = create_pair(sqs, f"svc{n:02d}")
        _send_direct(sqs, pair.dlq_url, ["{}"])
    # And the state table refusing to record the report's ts once, and Slack the thread reply
    dynamodb = boto3.client("dynamodb")
    fired = _hook(
        dynamodb,
        "provide-client-params.dynamodb.PutItem",
        lambda p: _sk(p) == "POST#report" and not fired,
        lambda: _client_error("ProvisionedThroughputExceededException", "PutItem"),
    )

    daily.slack.state.refuse("chat.postMessage", "internal_error", lambda b: "thread_ts" in b)

    # When the run fails on the reply, and Lambda retries
    with pytest.raises(SlackError):
        daily.run(RUN, dynamodb_client=dynamodb)
    daily.run(RUN)

    # Then the channel shows one report, not two
    assert fired == [1]
    assert len(daily.reports()) == 1


def _sk(params: dict[str, Any]) -> str:
    return str(params.get("Item", {}).get("sk", {}).get("S", ""))


# --- continuations ------------------------------------------------------------------------------


def _continue_with(
    daily: Daily, arrange: Callable[[LambdaServer], None] | None = None
) -> tuple[dict[str, Any], LambdaServer]:
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)
        if arrange is not None:
            arrange(server)
        first = daily.run(RUN, timeout_s=20, lambda_client=lambda_client)
        server.wait_idle(60)
        _retry_failed(server)
        server.wait_idle(60)
    return first, server


def test_a_refused_final_line_is_posted_by_the_retry_with_the_moves_of_the_failed_attempt(
    daily: Daily, sqs: Any
) -> None:
    # Given a report run without time to redrive (a continuation finishes), and Slack refusing
    # the continuation's final line once
    orders = _continuation_scene(daily, sqs)
    refused: list[dict[str, Any]] = []

    def final(body: dict[str, Any]) -> bool:
        if _is_final_reply(body):
            refused.append(body)
            return True
        return False

    daily.slack.state.refuse("chat.postMessage", "internal_error", final)

    # When the continuation fails on it and Lambda retries the continuation
    first, _server = _continue_with(daily)

    # Then the 4 messages went back once, the thread got one final line, and it counts them
    assert refused and count(sqs, orders.source_url) == 4
    # (by identity: the retry's line may read exactly like the refused one)
    finals = [
        p
        for p in daily.posts()
        if p.body.get("thread_ts") == first["ts"] and not any(p.body is r for r in refused)
    ]
    assert len(finals) == 1
    assert FINAL_LINE in finals[0].body["text"], finals[0].body["text"]
    # And the report was updated with the same final count
    text = blocks_text(daily.slack.state.calls_to("chat.update")[-1].body["blocks"])
    assert "Auto-redrive of 2026-03-10: moved 4 back, 1 poison left for a human" in text


def test_a_refused_chat_update_still_leaves_the_report_with_the_final_figures(
    daily: Daily, sqs: Any
) -> None:
    # Given a report run without time to redrive, and Slack refusing the report's update once
    orders = _continuation_scene(daily, sqs)
    daily.slack.state.refuse("chat.update", "internal_error")

    # When the continuation finishes (Lambda retries it if it fails)
    _first, _server = _continue_with(daily)

    # Then the report no longer says "still running": some update carried the final figures
    assert count(sqs, orders.source_url) == 4
    assert "still running" in daily.report_text()
    updates = daily.slack.state.calls_to("chat.update")
    assert len(updates) >= 2, "the refused update was never tried again"
    assert "still running" not in blocks_text(updates[-1].body["blocks"])


def test_a_continuation_killed_mid_run_still_updates_the_report(daily: Daily, sqs: Any) -> None:
    # Given a report run without time to redrive, and its continuation killed while recording
    # the window it went through (after the moves)
    orders = _continuation_scene(daily, sqs)
    dynamodb = boto3.client("dynamodb")
    fired = _hook(
        dynamodb,
        "provide-client-params.dynamodb.PutItem",
        lambda p: _pk(p).startswith("AUTOREDRIVE#") and not fired,
        lambda: SystemExit("killed"),
    )

    # When Lambda retries the killed continuation
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)
        first = daily.run(RUN, timeout_s=20, lambda_client=lambda_client, dynamodb_client=dynamodb)
        server.wait_idle(60)
        killed = [i for i in server.calls_to(FUNCTION_NAME) if isinstance(i.error, SystemExit)]
        results = [handlers.daily.handler(i.payload, context()) for i in killed]
        server.wait_idle(60)

    # Then the thread has the final count and the report was updated with it
    assert fired == [1] and len(killed) == 1, results
    assert count(sqs, orders.source_url) == 4
    finals = [p for p in daily.posts() if p.body.get("thread_ts") == first["ts"]]
    assert [FINAL_LINE in p.body["text"] for p in finals] == [True], results
    updates = daily.slack.state.calls_to("chat.update")
    assert updates and "still running" not in blocks_text(updates[-1].body["blocks"])


def test_a_continuation_killed_on_every_attempt_is_recorded_by_the_on_failure_destination(
    daily: Daily, sqs: Any
) -> None:
    # Given a report run without time to redrive, and its continuation killed on each of
    # Lambda's three attempts (after its moves, while recording the window it went through)
    orders = _continuation_scene(daily, sqs)
    dynamodb = boto3.client("dynamodb")
    fired = _hook(
        dynamodb,
        "provide-client-params.dynamodb.PutItem",
        lambda p: _pk(p).startswith("AUTOREDRIVE#"),
        lambda: SystemExit("killed"),
    )
    with LambdaServer({FUNCTION_NAME: handlers.daily.handler}) as server:
        lambda_client = boto3.client("lambda", endpoint_url=server.endpoint_url)
        first = daily.run(RUN, timeout_s=20, lambda_client=lambda_client, dynamodb_client=dynamodb)
        server.wait_idle(60)
        [killed] = [i for i in server.calls_to(FUNCTION_NAME) if isinstance(i.error, SystemExit)]
    for _retry in range(LAMBDA_RETRIES):  # Lambda's retries keep the request id
        with pytest.raises(SystemExit):
            handlers.daily.handler(
                killed.payload, LocalLambdaContext(FUNCTION_NAME, 900, killed.request_id)
            )
    assert len(fired) == 1 + LAMBDA_RETRIES and "still running" in daily.report_text()

    # When Lambda's on-failure destination gets the record of that invocation (the shape of the
    # AWS Lambda Developer Guide's example)
    record = {
        "version": "1.0",
        "timestamp": "2026-03-11T06:10:05.568Z",
        "requestContext": {
            "requestId": killed.request_id,
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": killed.payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {killed.request_id} Error: Runtime exited with error",
        },
    }
    outcome = record_daily_failure(record, build_daily_job(daily.env).failures)

    # Then the thread says why and what moved, and the report no longer says "still running"
    assert outcome["status"] == "failed" and outcome["update_error"] is None, outcome
    assert count(sqs, orders.source_url) == 4
    [reply] = [p for p in daily.posts() if p.body.get("thread_ts") == first["ts"]]
    assert "orders-dlq: 4 moved back" in reply.body["text"]
    assert (
        "Invocation 2 did not finish: the daily function failed on each of its 3"
        in (reply.body["text"])
    )
    update = blocks_text(daily.slack.state.calls_to("chat.update")[-1].body["blocks"])
    assert "still running" not in update
    assert "moved 4 back" in update and "Runtime.ExitError" in update


def test_a_duplicate_continuation_event_moves_and_posts_nothing_more(
    daily: Daily, sqs: Any
) -> None:
    # Given a run whose continuation finished
    orders = _continuation_scene(daily, sqs)
    first, server = _continue_with(daily)
    [continuation] = [i for i in server.calls_to(FUNCTION_NAME) if i.invocation_type == "Event"]
    posts, updates = len(daily.posts()), len(daily.slack.state.calls_to("chat.update"))

    # When the same continuation event arrives again (Lambda's at-least-once delivery)
    again = handlers.daily.handler(continuation.payload, context())

    # Then it is a replay: nothing posted, updated or moved again
    assert again.get("replayed") is True
    assert len(daily.posts()) == posts
    assert len(daily.slack.state.calls_to("chat.update")) == updates
    assert count(sqs, orders.source_url) == 4 and first["continuing"] == ["orders-dlq"]


# --- every message within Slack's limits ----------------------------------------------------------


HOSTILE = "<!channel> *bold* `tick` &amp; <https://evil.example|Runbook> " + "&<>" * 40


def test_sixty_long_named_dlqs_with_hostile_long_labels_fit_and_nothing_is_live(
    daily: Daily, sqs: Any
) -> None:
    # Given 60 DLQs with 80-character names, two sources each, and five error groups each whose
    # labels are long, escape-heavy (every & < > becomes 4-5 characters) and hostile
    names = [f"{i:02d}-" + "a-rather-long-service-name-" * 2 + "x" * 19 for i in range(60)]
    for name in names:
        pair = create_pair(sqs, name)
        create_pair(sqs, name[:-2] + "-b", dlq_name=pair.dlq_name)
        for kind in "ABCDE":
            _send_direct(sqs, pair.dlq_url, ["{}"], error=f"{kind} {HOSTILE} {name}")
    daily.configure(ERROR_ATTRIBUTE="error")

    # When the report is posted (the local server refuses what Slack would: the fixture fails
    # the test on any refusal)
    daily.run(RUN)

    # Then every message is under the 11,000-character total and 50 blocks
    posts = daily.posts()
    for post in posts:
        total = len(blocks_text(post.body["blocks"]))
        assert total <= 11_000 and len(post.body["blocks"]) <= 50
        assert len(post.body["text"]) <= 40_000
    # And every DLQ is detailed exactly once, with its three top groups and "2 other"
    detailed = [v["queue"] for p in posts for a, v in button_values(p.body["blocks"]) if a == PEEK]
    assert sorted(detailed) == sorted(f"{n}-dlq" for n in names)
    everything = "\n".join(blocks_text(p.body["blocks"]) + "\n" + p.body["text"] for p in posts)
    assert everything.count("• 2 other") == 60
    # And nothing from a message renders live: no mention, no link, no raw < or >
    assert "<!channel>" not in everything and "<https://" not in everything
    assert re.findall(r"<[!@#]|<https?:", everything) == []
    # And the escaped labels still read as the text that was sent
    assert everything.count("&lt;!channel&gt;") >= 60


def test_a_dlq_with_many_long_named_sources_keeps_its_figures(daily: Daily, sqs: Any) -> None:
    # Given a DLQ that 40 source queues with 76-character names dead-letter into (SQS allows
    # up to 1,000 per DLQ), holding yesterday's 2 messages
    names = [f"{i:02d}-" + "a-rather-long-service-name-" * 2 + "x" * 19 for i in range(40)]
    first = create_pair(sqs, names[0], dlq_name="shared-dlq")
    for name in names[1:]:
        create_pair(sqs, name, dlq_name="shared-dlq")
    _send_direct(sqs, first.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(2)])
    daily.configure(AUTO_REDRIVE_TIME_FIELD="at")

    # When the report is posted
    daily.run(RUN)

    # Then its section still holds its depth and yesterday's count (the source list gives way)
    text = daily.report_text()
    section = _section_of(text, "shared-dlq")
    assert "Depth *2*" in section, section[-300:]
    assert "Yesterday: 2 arrived" in section


# --- every figure is true -------------------------------------------------------------------------


def test_every_figure_of_a_whole_sample_with_an_auto_redrive_is_exact(
    daily: Daily, sqs: Any
) -> None:
    # Given an auto-redriven DLQ judged by "at", sampled whole (sample 100 > depth): of 10 March
    # 6 to move, 2 poison; of 9 March 3; of 8 March 1 poison; and 4 without a readable time
    # (not JSON, no field, a 400-digit number, a date no calendar holds); and a second DLQ with
    # two sources (no message says its own: it needs a human), not auto-redriven
    orders = create_pair(sqs, "orders")
    yesterday = [_at(f"2026-03-10T{h:02d}:00:00Z", n=h) for h in range(6)]
    poison_y = [_at("2026-03-10T20:00:00Z", p=n) for n in range(2)]
    older = [_at("2026-03-09T12:00:00Z", n=n) for n in range(3)]
    poison_old = [_at("2026-03-08T12:00:00Z", p=9)]
    unreadable = [
        "plain text",
        json.dumps({"n": 1}),
        '{"at": ' + "9" * 400 + "}",
        _at("99999-01-01"),
    ]
    _send_direct(sqs, orders.dlq_url, [*yesterday, *older, *unreadable])
    _send_direct(sqs, orders.dlq_url, [*poison_y, *poison_old], redriven=3)
    shared = create_pair(sqs, "pay")
    create_pair(sqs, "pay-eu", dlq_name=shared.dlq_name)
    _send_direct(sqs, shared.dlq_url, [_at("2026-03-10T09:00:00Z", k=n) for n in range(5)])
    _send_direct(sqs, shared.dlq_url, [_at("2026-03-07T09:00:00Z")])
    daily.configure(
        AUTO_REDRIVE="orders-dlq",
        AUTO_REDRIVE_TIME_FIELD="at",
        MAX_REDRIVES="3",
        REPORT_SAMPLE_SIZE="100",
    )

    # When the job runs
    outcome = daily.run(RUN)

    # Then the auto-redrive moved exactly yesterday's 6
    assert outcome["moved"] == 6 and count(sqs, orders.source_url) == 6
    text = daily.report_text()
    [post] = daily.reports()
    # orders: 16 before, 10 after; 8 of yesterday (2 poison); 3 poison and 4 unreadable overall
    o = _section_of(text, "orders-dlq")
    assert "Depth *≈ 10* (16 before auto-redrive)" in o, o
    assert "Yesterday: 8 arrived · :skull: 2 poison (need a human)" in o, o
    assert (
        "Auto-redrive of 2026-03-10: moved 6 back, 2 poison left for a human, "
        "4 without a readable time left, 4 outside the selection left"
    ) in o, o
    assert "All days: :skull: 3 poison · 4 without a readable time" in o, o
    assert "Top errors (16 sampled before auto-redrive):" in o, o
    tops = [int(n) for n in re.findall(r"×(\d+)", o)]
    other = re.search(r"• (\d+) other", o)
    assert sum(tops) + (int(other.group(1)) if other else 0) == 16
    # pay: 6 in the DLQ, 5 of yesterday, counted exactly (whole sample), not auto-redriven
    p = _section_of(text, "pay-dlq")
    assert "Depth *6*" in p and "Yesterday: 5 arrived" in p, p
    assert "Auto-redrive" not in p
    # The summary adds up: 16 messages now (≈: orders' depth was re-read), 13 of yesterday,
    # 6 auto-redriven, 3 poison
    assert "*≈ 16 messages* in 2 DLQs" in text
    assert "13 arrived yesterday · 6 auto-redriven · 3 poison (need a human)" in text
    assert "≥" not in text
    # And the fallback text repeats the same figures
    fallback = post.body["text"]
    assert "13 arrived yesterday" in fallback and "6 auto-redriven" in fallback
    assert "orders-dlq: ≈ 10" in fallback and "pay-dlq: 6" in fallback
    # And the buttons offer the day by the same time the figures used
    values = [v for a, v in button_values(post.body["blocks"]) if a == REDRIVE]
    assert {json.dumps(v, sort_keys=True) for v in values} == {
        json.dumps({"queue": q, "date": "2026-03-10", "time_field": "at"}, sort_keys=True)
        for q in ("orders-dlq", "pay-dlq")
    }


def test_a_bound_never_exceeds_the_sample_it_says_it_was_found_in(daily: Daily, sqs: Any) -> None:
    # Given one DLQ sampled whole (8 of yesterday) and one sampled in part (30 of yesterday,
    # sample 10)
    small, big = create_pair(sqs, "small"), create_pair(sqs, "big")
    _send_direct(sqs, small.dlq_url, [_at("2026-03-10T08:00:00Z", n=n) for n in range(8)])
    _send_direct(sqs, big.dlq_url, [_at("2026-03-10T09:00:00Z", n=n) for n in range(30)])
    daily.configure(AUTO_REDRIVE_TIME_FIELD="at", REPORT_SAMPLE_SIZE="10")

    # When the report is posted
    daily.run(RUN)

    # Then every "≥ N … in a sample of S" has N ≤ S: a bound says from what it was found (the
    # bound right before its basis; a headline's breakdown gives each part its own figure)
    [post] = daily.reports()
    checked = 0
    for shown in (daily.report_text(), post.body["text"]):
        for line in shown.split("\n"):
            for found in re.findall(r"≥ ([\d,]+)[^≥]*?in (?:a sample|samples) of ([\d,]+)", line):
                value, sampled = (int(g.replace(",", "")) for g in found)
                assert value <= sampled, line
                checked += 1
    assert checked >= 3  # the big DLQ's line and the headline's part, in blocks and fallback
    assert "8 exact in 1 DLQ; ≥ 10 in a sample of 10 of ≈ 30 in 1 DLQ" in post.body["text"]
    assert "Yesterday: 8 arrived" in _section_of(daily.report_text(), "small-dlq")


def test_a_dlqs_change_is_measured_from_its_own_previous_snapshot_day(
    daily: Daily, sqs: Any
) -> None:
    # Given alpha and bravo reported on 8 March; on 9 March only bravo was watched
    alpha, bravo = create_pair(sqs, "alpha"), create_pair(sqs, "bravo")
    _send_direct(sqs, alpha.dlq_url, ["{}"] * 2)
    _send_direct(sqs, bravo.dlq_url, ["{}"])
    daily.run(_six_am(date(2026, 3, 9)))
    daily.configure(DLQ_QUEUES="bravo-dlq")
    daily.run(_six_am(date(2026, 3, 10)))
    # And alpha has 3 more since
    _send_direct(sqs, alpha.dlq_url, ["{}"] * 3)

    # When the report of 10 March watches both again
    daily.configure(DLQ_QUEUES="*")
    daily.run(RUN)

    # Then alpha's change is +3 since its own last snapshot (8 March), not "since 9 Mar"
    section = _section_of(daily.report_text(), "alpha-dlq")
    assert "+3 since 9 Mar" not in section, section
    assert "+3 since 8 Mar" in section, section


def test_the_total_change_is_the_total_minus_the_previous_total(daily: Daily, sqs: Any) -> None:
    # Given alpha with 2 messages on 9 March's report; bravo appears with 3 the day after
    alpha = create_pair(sqs, "alpha")
    _send_direct(sqs, alpha.dlq_url, ["{}"] * 2)
    daily.run(_six_am(date(2026, 3, 10)))
    bravo = create_pair(sqs, "bravo")
    _send_direct(sqs, bravo.dlq_url, ["{}"] * 3)

    # When the next report is posted
    daily.run(RUN)

    # Then the summary's change (if shown) is 5 - 2 = +3, not alpha's ±0 alone
    summary = daily.report_text().split("\n")[1]
    assert summary.startswith("*5 messages* in 2 DLQs"), summary
    change = re.search(r"\(≈? ?([+±-][\d,]*) since", summary)
    assert change is None or change.group(1) == "+3", summary


def test_a_change_from_an_approximate_snapshot_is_marked_approximate(
    daily: Daily, sqs: Any
) -> None:
    # Given a report whose auto-redrive moved messages: the depth it stored was re-read from
    # SQS's counters (shown "≈", they lag behind deletes)
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-09T08:00:00Z", n=n) for n in range(3)])
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-01T08:00:00Z")])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.run(_six_am(date(2026, 3, 10)))
    assert "Depth *≈ 1*" in daily.report_text()

    # When the next report counts the DLQ exactly (whole sample, nothing moved)
    daily.run(RUN)

    # Then its change against that approximate depth is marked approximate too
    section = _section_of(daily.report_text(), "orders-dlq")
    assert "Depth *1*" in section, section
    assert "≈ ±0 since 9 Mar" in section, section


# --- the auto-redrive takes what is new since the previous run ----------------------------------


def test_a_first_run_takes_yesterday_only_and_a_skipped_day_is_caught_up(
    daily: Daily, sqs: Any
) -> None:
    # Given messages of 7, 8, 9 and 10 March in an auto-redriven DLQ
    orders = create_pair(sqs, "orders")
    days = {d: _at(f"2026-03-{d:02d}T12:00:00Z") for d in (7, 8, 9, 10)}
    _send_direct(sqs, orders.dlq_url, [days[9]])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When the first-ever run reports on 9 March, and no run happens on 11 March
    daily.run(_six_am(date(2026, 3, 10)))
    assert "Auto-redrive of 2026-03-09: moved 1 back" in daily.report_text()
    _send_direct(sqs, orders.dlq_url, [days[7], days[8], days[9], days[10]])
    daily.run(_six_am(date(2026, 3, 12)))

    # Then the catch-up run took 9 to 11 March: 9 and 10 moved, 7 and 8 left outside
    assert "Auto-redrive of 2026-03-09 to 2026-03-11: moved 2 back" in daily.report_text()
    assert "2 outside the selection left" in daily.report_text()
    assert sorted(json.loads(m["Body"])["at"][:10] for m in drain(sqs, orders.dlq_url)) == [
        "2026-03-07",
        "2026-03-08",
    ]


def test_a_message_that_dead_letters_two_days_after_it_was_sent_is_taken(
    daily: Daily, sqs: Any
) -> None:
    # Given a source queue that receives a message 5 times, hiding it 6 hours each time, before
    # it dead-letters (so up to 30 hours after it was sent, by the queue's settings)
    orders = create_pair(sqs, "orders", max_receive_count=5)
    sqs.set_queue_attributes(QueueUrl=orders.source_url, Attributes={"VisibilityTimeout": "21600"})
    # And runs on 11 and 12 March that went through their windows
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.run(_six_am(date(2026, 3, 11)))
    daily.run(_six_am(date(2026, 3, 12)))
    # And a message of 10 March 23:30 that dead-letters only now (its consumer retried it for
    # 31 hours: 5 receives of a 6-hour visibility timeout and more)
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-10T23:30:00Z")])

    # When the next run goes (it is a failure new since the previous run)
    outcome = daily.run(_six_am(date(2026, 3, 13)))

    # Then it is taken back, and the report says which days were taken (two days back from the
    # previous window's end: 30 hours, rounded up to days)
    assert outcome["moved"] == 1, daily.report_text()
    assert "Auto-redrive of 2026-03-10 to 2026-03-12: moved 1 back" in daily.report_text()


@pytest.mark.parametrize(
    ("run", "inside", "outside", "label"),
    [
        # spring forward in New York: 8 March 2026 has 23 hours (EST until 02:00, then EDT)
        (
            "2026-03-09T10:00:00Z",
            ["2026-03-08T05:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T03:59:59Z"],
            ["2026-03-08T04:59:59Z", "2026-03-09T04:00:00Z"],
            "Sun 8 Mar 2026",
        ),
        # fall back: 1 November 2026 has 25 hours (EDT until 02:00, then EST)
        (
            "2026-11-02T11:00:00Z",
            ["2026-11-01T04:00:00Z", "2026-11-01T06:30:00Z", "2026-11-02T04:59:59Z"],
            ["2026-11-01T03:59:59Z", "2026-11-02T05:00:00Z"],
            "Sun 1 Nov 2026",
        ),
    ],
)
def test_a_dst_day_is_reported_and_redriven_by_its_own_hours(
    daily: Daily, sqs: Any, run: str, inside: list[str], outside: list[str], label: str
) -> None:
    # Given a team in New York, and messages just inside and just outside the DST day
    orders = create_pair(sqs, "orders")
    _send_direct(sqs, orders.dlq_url, [_at(t) for t in [*inside, *outside]])
    daily.configure(TIMEZONE="America/New_York", AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When the 06:00 run of the day after goes
    outcome = daily.run(run)

    # Then exactly the day's messages are counted and moved, and the header names the day
    text = daily.report_text()
    assert text.startswith(f"DLQ report for {label} · as of ")
    assert outcome["moved"] == len(inside)
    assert f"Yesterday: {len(inside)} arrived" in text
    assert sorted(json.loads(m["Body"])["at"] for m in drain(sqs, orders.source_url)) == sorted(
        inside
    )


def test_across_the_dst_change_the_next_run_takes_the_straddler(daily: Daily, sqs: Any) -> None:
    # Given a New York team's run on 9 March (spring forward was on the 8th) that went through
    # 8 March, and then a message of 8 March 23:45 EDT dead-lettering after it
    orders = create_pair(sqs, "orders")
    daily.configure(TIMEZONE="America/New_York", AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    daily.run("2026-03-09T10:00:00Z")
    _send_direct(sqs, orders.dlq_url, [_at("2026-03-09T03:45:00Z")])

    # When the next morning's run goes
    outcome = daily.run("2026-03-10T10:00:00Z")

    # Then it is taken back, and the report says the two days it took
    assert outcome["moved"] == 1
    assert "Auto-redrive of 2026-03-08 to 2026-03-09: moved 1 back" in daily.report_text()
