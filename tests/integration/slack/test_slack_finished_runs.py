"""A redrive that went to the end is done, also when some messages did not move: the worker
decides to continue from why the run stopped (its time budget), never from whether everything
moved, so a failure that stays in the DLQ cannot start a continuation loop (issue 10's review)."""

from __future__ import annotations

import json

from bot.slack.ids import ActionId
from infra.local.scene import count, create_pair, put_in_dlq
from tests.integration.slack.slack_harness import APPROVER, SlackHarness


def test_a_drained_redrive_with_a_failure_is_done_in_one_invocation(harness: SlackHarness) -> None:
    # Given three orders in the DLQ, one of them too large for its source queue (which takes at
    # most 1,024 bytes), so the redrive cannot move it
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [json.dumps({"order": n}) for n in range(2)])
    harness.sqs.set_queue_attributes(
        QueueUrl=pair.source_url, Attributes={"MaximumMessageSize": "1024"}
    )
    harness.sqs.send_message(QueueUrl=pair.dlq_url, MessageBody=json.dumps({"order": "x" * 2_000}))
    request_id = harness.request_card()

    # When Bob approves
    harness.click(ActionId.APPROVE, request_id, user=APPROVER, message_ts=harness.card_ts())
    harness.settle()

    # Then the run is done in its first invocation: two moved, the big one failed and stays,
    # and no continuation was started for it
    run = harness.state.get_run(request_id)
    assert run is not None and run.status == "done", run
    assert (run.moved, run.failed, run.invocation) == (2, 1, 1)
    assert [i for i in harness.lambdas.calls_to("worker") if i.payload["job"] == "continue"] == []
    assert "Finished with failures: moved *2*, failed *1*" in harness.updates()[-1]
    assert count(harness.sqs, pair.source_url) == 2 and count(harness.sqs, pair.dlq_url) == 1
