"""``make demo``'s alert step: the checks between the daily reports on the demo's moto, and what
Slack gets from them.

``run_alerts_demo(aws_env)`` expects moto to be running (``aws_env`` points boto3 at it). It adds
a ``checkout`` queue whose DLQ starts filling, then sends three scheduled events five minutes
apart into ``handlers.alerts.handler``, against the local Slack Web API server: the first alert
(every DLQ holding messages, in one message), the growth in its thread, and the drained note.
Each message is printed as text with a Block Kit Builder link to see it rendered.

Run alone: ``python -m infra.local.demo_alerts`` on a fresh moto.
"""

from __future__ import annotations

import contextlib
import io
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import handlers.alerts
from bot.composition import build_alert_job
from bot.daily.blocks import blocks_as_text, builder_url
from bot.state_table import create_state_table
from infra.local.lambda_server import LocalLambdaContext
from infra.local.moto_server import client_for
from infra.local.scene import create_pair, drain
from infra.local.slack_api import SlackApiServer, SlackCall

DEMO_TABLE = "dlq-redrive-demo-alerts"
DEMO_CHANNEL = "C0DLQALERTS"
CHECK_EVERY = timedelta(minutes=5)


def _send(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [
            {"Id": str(n), "MessageBody": f'{{"order": {n}}}'}
            for n in range(start, min(count, start + 10))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _show(calls: list[SlackCall], out: TextIO) -> None:
    for call in calls:
        where = "thread reply" if call.body.get("thread_ts") else "chat.postMessage"
        print(f"\n-- {where} to {call.body['channel']} --\n", file=out)
        print(blocks_as_text(call.body["blocks"]), file=out)
        print(f"-- text fallback --\n{call.body['text']}", file=out)
        print(f"See it rendered (Block Kit Builder):\n{builder_url(call.body['blocks'])}", file=out)


def run_alerts_demo(aws_env: dict[str, str], *, out: TextIO | None = None) -> None:
    """Three alert checks on the running moto; print what each one posted."""
    out = out or sys.stdout
    sqs, dynamodb = client_for("sqs", aws_env), client_for("dynamodb", aws_env)
    create_state_table(dynamodb, DEMO_TABLE)
    checkout = create_pair(sqs, "checkout")
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    now = [start]
    with SlackApiServer() as slack:
        env = {
            **aws_env,
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "SLACK_API_URL": slack.api_url,
            "STATE_TABLE": DEMO_TABLE,
            "REPORT_CHANNEL": DEMO_CHANNEL,
            "ALERT_THRESHOLD": "1",
            "ALERT_GROWTH": "10",
        }
        job = build_alert_job(env, sqs_client=sqs, dynamodb_client=dynamodb, clock=lambda: now[0])
        handlers.alerts.job.use(job)
        print("\n== Alerts between the reports (a check every 5 minutes) ==", file=out)
        steps = [
            ("checkout-dlq receives 4 messages", lambda: _send(sqs, checkout.dlq_url, 4)),
            ("checkout-dlq receives 12 more", lambda: _send(sqs, checkout.dlq_url, 12)),
            ("someone drains checkout-dlq", lambda: drain(sqs, checkout.dlq_url)),
        ]
        try:
            for index, (what, act) in enumerate(steps):
                act()
                now[0] = start + index * CHECK_EVERY
                seen = len(slack.state.calls_to("chat.postMessage"))
                event = {"time": now[0].isoformat().replace("+00:00", "Z")}
                context = LocalLambdaContext("dlq-redrive-alerts", 60, str(uuid.uuid4()))
                with contextlib.redirect_stdout(io.StringIO()):  # powertools' metric lines
                    outcome = handlers.alerts.handler(event, context)
                print(f"\n{now[0]:%H:%M} UTC: {what}. Check: {_summary(outcome)}", file=out)
                _show(slack.state.calls_to("chat.postMessage")[seen:], out)
        finally:
            handlers.alerts.job.use(None)


def _summary(outcome: dict[str, Any]) -> str:
    said = [
        f"{key} {', '.join(outcome[key])}"
        for key in ("alerted", "growing", "reopened", "resolved")
        if outcome.get(key)
    ]
    return f"{outcome['watched']} DLQs read; " + ("; ".join(said) or "nothing to say")


def main() -> None:
    """A fresh moto with one more DLQ holding messages, then the demo."""
    from infra.local.moto_server import local_aws

    with local_aws() as aws:
        sqs = client_for("sqs", aws.env)
        orders = create_pair(sqs, "orders")
        _send(sqs, orders.dlq_url, 3)
        run_alerts_demo(aws.env)


if __name__ == "__main__":
    main()
