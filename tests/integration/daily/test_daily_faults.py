"""One message or one DLQ never stops the 06:00 report (issue 10, item 4).

A time field no calendar can place is "time unreadable", and any unexpected error while reading
or auto-redriving one DLQ becomes an error line for that DLQ: the report is still posted, the other
DLQs are still read and redriven, and nothing is lost.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from bot.sqs_gateway import send_sqs_client
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.integration.daily.daily_support import Daily

RUN = "2026-03-11T06:00:00Z"  # yesterday is 10 March (UTC)
HUGE_TIME = '{"at": ' + "9" * 400 + "}"  # a 400-digit integer: too large even for a float


def _fail_calls(client: Any, operation: str, queue_suffix: str) -> None:
    """Make ``operation`` on the queue whose URL ends with ``queue_suffix`` raise an error that
    is none of ours nor botocore's (a bug's stand-in), through botocore's public event hooks."""

    def explode(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("QueueUrl", "")).endswith(queue_suffix):
            raise RuntimeError("boom")

    client.meta.events.register(f"provide-client-params.sqs.{operation}", explode)


def test_a_400_digit_time_field_is_unreadable_and_the_report_is_posted(
    daily: Daily, sqs: Any
) -> None:
    # Given an auto-redriven DLQ judged by the body's "at" field: two messages of yesterday, one
    # of the day before, and one whose "at" is a 400-digit integer
    orders = create_pair(sqs, "orders")
    yesterdays = [json.dumps({"at": "2026-03-10T08:00:00Z", "n": n}) for n in range(2)]
    older = json.dumps({"at": "2026-03-09T08:00:00Z"})
    put_in_dlq(sqs, orders, [*yesterdays, older, HUGE_TIME])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    # When the 06:00 job runs
    outcome = daily.run(RUN)

    # Then the report was posted with the right figures
    assert outcome["status"] == "reported" and len(daily.reports()) == 1
    assert outcome["unreadable"] == [] and outcome["redrive_errors"] == []
    text = daily.report_text()
    assert "Yesterday: 2 arrived" in text
    assert "1 without a readable time" in text
    assert "Auto-redrive of 2026-03-10: moved 2 back" in text
    # And yesterday's two went back; the older one and the unreadable one stayed in the DLQ
    assert outcome["moved"] == 2
    assert sorted(m["Body"] for m in drain(sqs, orders.source_url)) == sorted(yesterdays)
    assert sorted(m["Body"] for m in drain(sqs, orders.dlq_url)) == sorted([older, HUGE_TIME])


def test_an_unexpected_error_reading_one_dlq_is_that_dlqs_line(daily: Daily, sqs: Any) -> None:
    # Given two DLQs, and receiving from one of them failing with an error nobody expected
    alpha, bravo = create_pair(sqs, "alpha"), create_pair(sqs, "bravo")
    put_in_dlq(sqs, alpha, [json.dumps({"at": "2026-03-10T08:00:00Z"})])
    put_in_dlq(sqs, bravo, [json.dumps({"at": "2026-03-10T08:00:00Z"})])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    client = boto3.client("sqs")
    _fail_calls(client, "ReceiveMessage", "/alpha-dlq")

    # When the job runs
    outcome = daily.run(RUN, sqs_client=client)

    # Then the report was posted: alpha as an error line, bravo read and redriven
    assert outcome["status"] == "reported" and len(daily.reports()) == 1
    assert outcome["unreadable"] == ["alpha-dlq"]
    text = daily.report_text()
    assert ":warning: *alpha-dlq* could not be read: unexpected RuntimeError" in text
    assert "Auto-redrive of 2026-03-10: moved 1 back" in text
    assert count(sqs, bravo.source_url) == 1
    # And alpha's message is still in its DLQ
    assert count(sqs, alpha.dlq_url) == 1 and count(sqs, alpha.source_url) == 0


def test_an_unexpected_error_in_one_auto_redrive_is_that_dlqs_line(daily: Daily, sqs: Any) -> None:
    # Given two auto-redriven DLQs, and sending back to alpha's source failing unexpectedly
    alpha, bravo = create_pair(sqs, "alpha"), create_pair(sqs, "bravo")
    put_in_dlq(sqs, alpha, [json.dumps({"at": "2026-03-10T08:00:00Z", "n": n}) for n in range(3)])
    put_in_dlq(sqs, bravo, [json.dumps({"at": "2026-03-10T08:00:00Z", "n": n}) for n in range(2)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    send_client = send_sqs_client()  # sends go through the production send client
    _fail_calls(send_client, "SendMessageBatch", "/alpha")

    # When the job runs
    outcome = daily.run(RUN, sqs_send_client=send_client)

    # Then the report was posted, alpha's redrive as an error line, bravo's redrive done
    assert outcome["status"] == "reported" and len(daily.reports()) == 1
    assert outcome["redrive_errors"] == ["alpha-dlq"]
    text = daily.report_text()
    assert "Auto-redrive failed: unexpected RuntimeError" in text
    assert count(sqs, bravo.source_url) == 2 and count(sqs, bravo.dlq_url) == 0
    # And none of alpha's messages was lost or moved: all three are visible in its DLQ again
    assert count(sqs, alpha.source_url) == 0
    assert len(drain(sqs, alpha.dlq_url)) == 3


def test_an_unexpected_error_re_reading_a_depth_after_the_auto_redrive_is_not_fatal(
    daily: Daily, sqs: Any
) -> None:
    # Given an auto-redriven DLQ whose attributes can no longer be read once the redrive has
    # deleted its first messages (an error nobody expected, in the engine and after it)
    alpha = create_pair(sqs, "alpha")
    put_in_dlq(sqs, alpha, [json.dumps({"at": "2026-03-10T08:00:00Z", "n": n}) for n in range(3)])
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")
    client = boto3.client("sqs")
    deleted = []
    client.meta.events.register(
        "provide-client-params.sqs.DeleteMessageBatch", lambda params, **_: deleted.append(1)
    )

    def explode(params: dict[str, Any], **_: Any) -> None:
        if deleted and str(params.get("QueueUrl", "")).endswith("/alpha-dlq"):
            raise RuntimeError("boom")

    client.meta.events.register("provide-client-params.sqs.GetQueueAttributes", explode)

    # When the job runs
    outcome = daily.run(RUN, sqs_client=client)

    # Then the report was posted, and says what the redrive moved before the error
    assert outcome["status"] == "reported" and len(daily.reports()) == 1
    moved = count(sqs, alpha.source_url)
    assert moved > 0 and outcome["moved"] == moved
    assert (
        f"Auto-redrive of 2026-03-10: moved {moved} back; then it stopped: unexpected "
        "RuntimeError while auto-redriving it; details in the function's log; a batch in hand "
        "then may have moved too"
    ) in daily.report_text()
    # And nothing was lost
    assert moved + count(sqs, alpha.dlq_url) == 3


def test_an_injected_sqs_client_still_sends_without_transport_retries(
    daily: Daily, sqs: Any, aws: LocalAws
) -> None:
    # Given three of yesterday's messages to auto-redrive, and a network that loses SQS's answer
    # to the first SendMessageBatch after SQS stored the batch (a connection reset)
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"at": "2026-03-10T08:00:00Z", "n": n}) for n in range(3)]
    put_in_dlq(sqs, orders, bodies)
    daily.configure(AUTO_REDRIVE="*", AUTO_REDRIVE_TIME_FIELD="at")

    def lose_first_send(action: str, seen: int) -> Fault:
        return Fault.RESET_AFTER if action == "SendMessageBatch" and seen == 0 else Fault.PASS

    # When the job runs with an SQS client injected for its calls (through that network)
    with FaultProxy(aws.endpoint, lose_first_send) as proxy:
        outcome = daily.run(RUN, sqs_client=boto3.client("sqs", endpoint_url=proxy.endpoint))

    # Then the send was made once, as in production (no transport retry stored a second copy):
    # each message arrived once, and all three stay in the DLQ (they may have been delivered)
    assert outcome["status"] == "reported"
    assert proxy.injected("SendMessageBatch") == 1 and proxy.calls("SendMessageBatch") == 1
    assert sorted(m["Body"] for m in drain(sqs, orders.source_url)) == sorted(bodies)
    assert count(sqs, orders.dlq_url) == 3
