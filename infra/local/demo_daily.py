"""``make demo``'s 06:00 step: run the daily report job on the demo scene and show what Slack gets.

``run_daily_demo(aws_env)`` expects moto to be running (``aws_env`` points boto3 at it) and the
demo queues to exist with messages (orders / orders-dlq, payments.fifo / payments-dlq.fifo). It
starts the local Slack Web API server, creates the state table, seeds six days of made-up depth
snapshots (so the trend has something to draw), sends a scheduled event into
``handlers.daily.handler`` and prints the report: the blocks as readable text, the plain-text
fallback, any thread replies, and a Block Kit Builder link to see it rendered.

The scene's messages were sent a moment ago, so the event is scheduled for 06:00 *tomorrow*: its
"yesterday" is today, and ``orders-dlq``'s messages are auto-redriven. Run it as the last step.

Run alone: ``python -m infra.local.demo_daily`` builds its own small scene on a fresh moto.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import handlers.daily
from bot.composition import build_daily_job
from bot.daily.blocks import blocks_as_text, builder_url
from bot.daily.job import DailyJob
from bot.daily.snapshots import Snapshot, SnapshotStore
from bot.selection import yesterday
from bot.state_table import StateTable, create_state_table
from infra.local.lambda_server import LocalLambdaContext
from infra.local.moto_server import client_for
from infra.local.slack_api import SlackApiServer

DEMO_TABLE = "dlq-redrive-demo-state"
DEMO_CHANNEL = "C0DLQREPORT"
DEMO_TIMEZONE = "Asia/Seoul"
# Made-up depths of the six days before (each DLQ a scaled copy), so the sparkline shows a week.
DEMO_HISTORY = (2, 5, 3, 8, 6, 4)


def _metrics(stdout: str) -> str:
    """``Name=value`` of the metrics powertools printed in Embedded Metric Format."""
    found: list[str] = []
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        record = json.loads(line)
        for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = record[metric["Name"]]
            total = sum(value) if isinstance(value, list) else value
            found.append(f"{metric['Name']}={total:g}")
    return ", ".join(found) or "none"


def scheduled_event(at: datetime) -> dict[str, Any]:
    """The EventBridge scheduled event that starts the daily job at ``at``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "detail": {},
    }


@contextlib.contextmanager
def daily_job_in_use(job: DailyJob) -> Iterator[io.StringIO]:
    """``handlers.daily.handler`` runs ``job`` inside the block, whose stdout is captured (and
    yielded): powertools prints its metrics (EMF) there. Continuations that run in this process
    (``LambdaServer``) print there too while the block waits for them."""
    emitted = io.StringIO()
    handlers.daily.job.use(job)
    try:
        with contextlib.redirect_stdout(emitted):
            yield emitted
    finally:
        handlers.daily.job.use(None)


def _tomorrow_six_am(tz: ZoneInfo) -> datetime:
    today = datetime.now(tz).date()
    return datetime(today.year, today.month, today.day, 6, tzinfo=tz) + timedelta(days=1)


def run_daily_demo(
    aws_env: dict[str, str],
    *,
    auto_redrive: str = "orders-dlq",
    timezone: str = DEMO_TIMEZONE,
    out: TextIO | None = None,
) -> None:
    """Run the 06:00 job once against the running moto and print the report as Slack gets it."""
    out = out or sys.stdout
    tz = ZoneInfo(timezone)
    sqs, dynamodb = client_for("sqs", aws_env), client_for("dynamodb", aws_env)
    create_state_table(dynamodb, DEMO_TABLE)
    scheduled = _tomorrow_six_am(tz)
    day = yesterday(scheduled, tz)
    with SlackApiServer() as slack:
        env = {
            **aws_env,
            "TIMEZONE": timezone,
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "SLACK_SIGNING_SECRET": "demo-secret",
            "SLACK_API_URL": slack.api_url,
            "STATE_TABLE": DEMO_TABLE,
            "REPORT_CHANNEL": DEMO_CHANNEL,
            "AUTO_REDRIVE": auto_redrive,
            "ERROR_ATTRIBUTE": aws_env.get("ERROR_ATTRIBUTE", "error"),
        }
        job = build_daily_job(
            env,
            sqs_client=sqs,
            dynamodb_client=dynamodb,
            lambda_client=client_for("lambda", aws_env),
        )
        store = SnapshotStore(StateTable(DEMO_TABLE, dynamodb))
        # Each DLQ its own week (the history scaled and shifted by its place), so no two trends
        # on the report or the Home tab look alike by accident of the seeding.
        seeded = [
            Snapshot(name, day - timedelta(days=len(DEMO_HISTORY) - i), depth * (1 + n % 3) + n)
            for n, name in enumerate(job.report_run.catalog.watched_names())
            for i, depth in enumerate(DEMO_HISTORY)
        ]
        store.put_all(seeded, taken_at=datetime.now(UTC))
        event = scheduled_event(scheduled)
        print("\n== The 06:00 daily report ==", file=out)
        print(
            f"Scheduled event time {event['time']} (06:00 {timezone}): yesterday = {day}. "
            f"AUTO_REDRIVE={auto_redrive}. The six days before have made-up snapshots (trend).",
            file=out,
        )
        with daily_job_in_use(job) as emitted:
            outcome = handlers.daily.handler(
                event, LocalLambdaContext("dlq-redrive-daily", 900, str(uuid.uuid4()))
            )
        posts = slack.state.calls_to("chat.postMessage")
    if not posts:
        print(f"Nothing posted: {json.dumps(outcome)}", file=out)
        return
    report, replies = posts[0], posts[1:]
    print(f"\n-- chat.postMessage to {report.body['channel']} --\n", file=out)
    print(blocks_as_text(report.body["blocks"]), file=out)
    print(f"-- text fallback --\n{report.body['text']}\n", file=out)
    for reply in replies:
        print("-- thread reply --", file=out)
        print(blocks_as_text(reply.body.get("blocks") or []) or reply.body["text"], file=out)
    print(f"Moved back by the auto-redrive: {outcome.get('moved', 0)}", file=out)
    print(f"Metrics recorded: {_metrics(emitted.getvalue())}", file=out)
    print(f"\nSee it rendered (Block Kit Builder):\n{builder_url(report.body['blocks'])}", file=out)


def main() -> None:
    """Build a small scene on a fresh moto and run the demo (for trying this step alone)."""
    from infra.local.moto_server import local_aws
    from infra.local.scene import create_pair, put_in_dlq

    with local_aws() as aws:
        sqs = client_for("sqs", aws.env)
        orders = create_pair(sqs, "orders")
        error = {"error": {"DataType": "String", "StringValue": "PaymentTimeout"}}
        put_in_dlq(sqs, orders, [json.dumps({"order": n}) for n in range(3)], attributes=error)
        payments = create_pair(sqs, "payments.fifo")
        put_in_dlq(sqs, payments, [json.dumps({"payment": n, "amount": 10}) for n in range(2)])
        run_daily_demo(aws.env)


if __name__ == "__main__":
    main()
