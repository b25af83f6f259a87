"""A daily auto-redrive that continues in a new invocation sends nothing a second time that an
earlier part sent without an answer (the copy may have arrived), on moto (SQS) and the local
Lambda endpoint (async invokes, a lost answer), posting to the local Slack server."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3

import handlers.daily
from bot.delivery_gateway import DeliveryGateway
from infra.local.kinds_scene import KindsBuilder
from infra.local.lambda_server import LambdaServer
from infra.local.scene import count
from tests.integration.daily.daily_support import (
    FUNCTION_NAME,
    Daily,
    blocks_text,
    context,
    scheduled_event,
)
from tests.integration.daily.test_daily_kinds import _tomorrow_six_am, lambda_kinds
from tests.unit.kind_messages import lambda_async_dlq_message

# The daily function keeps this much of its time for the report (bot.daily.continuing).
RESERVE_S = 30.0
BUDGET_S = 10.0  # part 1's time for reading the DLQs, reporting and redriving


def test_a_daily_auto_redrive_continued_in_a_new_invocation_invokes_no_event_twice(
    daily: Daily, sqs: Any, lambdas: LambdaServer
) -> None:
    # Given a function's async DLQ with 15 events (two batches), this daily function on the
    # same endpoint, and Lambda's answer to the first invoke lost after it queued the event
    scene = KindsBuilder(sqs, lambdas)
    lambda_kinds(scene)
    events = [{"image": f"{n}.png"} for n in range(15)]
    scene.seed("resize-dlq", *(lambda_async_dlq_message(e) for e in events))
    lambdas.register(FUNCTION_NAME, handlers.daily.handler)
    daily.configure(AUTO_REDRIVE="resize-dlq")
    daily.build(lambda_client=boto3.client("lambda", endpoint_url=lambdas.endpoint_url))
    lambdas.fault("resize", lose_answer=True)
    # ... and the first batch's invokes slow enough that part 1's time runs out during them
    started = time.monotonic()
    slowed = threading.Semaphore(10)

    def slow(**_: object) -> None:
        if slowed.acquire(blocking=False):
            time.sleep(max(0.0, started + BUDGET_S + 0.5 - time.monotonic()))

    targets = handlers.daily.job().report_run.redriver.engine.targets
    assert isinstance(targets, DeliveryGateway)
    invoke_client = targets.lambda_.invoke_client
    invoke_client.meta.events.register("before-send.lambda.Invoke", slow)
    try:
        # When the 06:00 run redrives until its time runs out and a continuation finishes it
        first = handlers.daily.handler(
            scheduled_event(_tomorrow_six_am()), context(RESERVE_S + BUDGET_S)
        )
        lambdas.wait_idle(60)
        lambdas.raise_errors()
    finally:
        invoke_client.meta.events.unregister("before-send.lambda.Invoke", slow)

    # Then part 1 lost the answer and continued, every event was invoked exactly once (the one
    # whose answer was lost too: it was queued, so it stays in the DLQ, never invoked again by
    # the continuation), the DLQ holds only that one, and the final count says it is unconfirmed
    assert first["continuing"] == ["resize-dlq"], first
    assert lambdas.faults_left("resize") == 0
    invoked = [json.dumps(c.payload, sort_keys=True) for c in lambdas.calls_to("resize")]
    twice = sorted({e for e in invoked if invoked.count(e) > 1})
    assert not twice, f"invoked more than once: {twice}"
    assert sorted(invoked) == sorted(json.dumps(e, sort_keys=True) for e in events)
    assert count(sqs, scene.urls["resize-dlq"]) == 1
    replies = [c for c in daily.posts() if c.body.get("thread_ts") == first["ts"]]
    assert len(replies) == 1, [r.body["text"] for r in replies]
    final = replies[0].body["text"]
    assert "resize-dlq: 14 moved back" in final, final
    assert "finished after 2 invocations" in final, final
    assert "1 may have been delivered (the answer to their delivery was lost; left in the DLQ)" in (
        final
    ), final
    updated = daily.slack.state.calls_to("chat.update")[-1].body["blocks"]
    assert (
        "moved 14 back (to lambda resize (async invoke) ×14), 1 may have been delivered (the "
        "answer to their delivery was lost; left in the DLQ)"
    ) in blocks_text(updated)
