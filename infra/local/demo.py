"""``make demo``: the whole product on this machine, with no AWS account.

Starts moto's SQS/DynamoDB server on 127.0.0.1, builds a realistic scene (an ``orders`` queue and a
``payments.fifo`` queue, each with its DLQ, failed messages from yesterday and today carrying
attributes), then runs the ``dlq-redrive`` CLI as a user would (separate processes that find the
server through ``AWS_ENDPOINT_URL`` alone): list, peek, a dry run, a real redrive, and the queues
after. Then the DLQ actions (infra/local/demo_actions.py: an export to a .jsonl file, a discard
with archive, an edit and resend, a canary that stops on a consumer that still fails; their files
stay in build/demo/), and the Slack app and the 06:00 report on the same scene, against a local
Slack.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.demo_actions import ActionsDemoFiles, run_actions_demo
from infra.local.demo_cli import banner, cli
from infra.local.moto_server import local_aws
from infra.local.scene import create_pair, put_in_dlq

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# Where the DLQ actions leave their files for you to look at (build/ is not committed).
DEMO_FILES = Path("build") / "demo"


def order_event(day: datetime, n: int, error: str) -> tuple[str, dict[str, Any]]:
    occurred = day.replace(hour=8 + n % 12, minute=(7 * n) % 60, second=0, microsecond=0)
    body = {
        "type": "OrderPlaced",
        "orderId": f"ord-{uuid.uuid5(uuid.NAMESPACE_OID, str(n)).hex[:8]}",
        "occurredAt": occurred.isoformat(),
        "amount": {"value": 19.9 + n, "currency": "EUR"},
    }
    attributes = {
        "error": {"DataType": "String", "StringValue": error},
        "tenant": {"DataType": "String", "StringValue": ("acme", "globex")[n % 2]},
        "attempt": {"DataType": "Number", "StringValue": "5"},
    }
    return json.dumps(body), attributes


def build_scene(sqs: SQSClient, now: datetime) -> None:
    today = now
    yesterday = now - timedelta(days=1)
    orders = create_pair(sqs, "orders", max_receive_count=1)
    groups = [
        (yesterday, 6, "PaymentGatewayTimeout"),
        (yesterday, 3, "InventoryServiceDown"),
        (today, 4, "PaymentGatewayTimeout"),
    ]
    n = 0
    for day, how_many, error in groups:
        for _ in range(how_many):
            body, attributes = order_event(day, n, error)
            put_in_dlq(sqs, orders, [body], attributes=attributes)
            n += 1
    parse_error = {"error": {"DataType": "String", "StringValue": "ParseError"}}
    put_in_dlq(sqs, orders, ["<order id='broken'/> not JSON"], attributes=parse_error)

    payments = create_pair(sqs, "payments.fifo", max_receive_count=3)
    for customer, days in (
        ("customer-17", (yesterday, yesterday, today)),
        ("customer-42", (yesterday,)),
    ):
        bodies = [
            json.dumps(
                {
                    "type": "ChargeRequested",
                    "customer": customer,
                    "step": step,
                    "occurredAt": day.replace(
                        hour=9 + step, minute=0, second=0, microsecond=0
                    ).isoformat(),
                }
            )
            for step, day in enumerate(days)
        ]
        put_in_dlq(
            sqs,
            payments,
            bodies,
            group_id=customer,
            attributes={"error": {"DataType": "String", "StringValue": "CardNetworkUnavailable"}},
        )


def main() -> int:
    with local_aws(os.environ) as aws:
        env = {**os.environ, **aws.env, "TIMEZONE": os.environ.get("TIMEZONE", "UTC")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
        print(
            f"Local SQS/DynamoDB (moto) on {aws.endpoint}; AWS_ENDPOINT_URL points the CLI at it."
        )
        sqs = boto3.client("sqs")
        build_scene(sqs, datetime.now(UTC))
        print(
            "Scene: orders -> orders-dlq (14 failed: 9 yesterday, 4 today, 1 not JSON), "
            "payments.fifo -> payments-dlq.fifo (4 failed in 2 groups)."
        )

        banner("What is in the DLQs")
        cli("list", env)
        cli("peek orders-dlq -n 2", env)

        banner("Yesterday's failures, by the events' own occurredAt: dry run, then for real")
        cli("redrive orders-dlq --yesterday --time-field occurredAt --dry-run", env)
        cli("redrive orders-dlq --yesterday --time-field occurredAt", env)
        cli("redrive payments-dlq.fifo --yesterday --time-field occurredAt --json", env)

        banner("After: today's and unreadable messages are still in the DLQs, visible")
        cli("list", env)
        cli("--json peek orders-dlq -n 1", env)

        # Export, discard with archive, edit and resend, and a canary that stops.
        DEMO_FILES.mkdir(parents=True, exist_ok=True)
        files = ActionsDemoFiles.under(DEMO_FILES)
        files.remove()  # an archive is never written over: the last demo's go first
        run_actions_demo(env, files)
        print(f"\nThe export, the archive and the edited body are in {DEMO_FILES}/.")

        for module, function in (
            ("infra.local.demo_slack", "run_slack_demo"),
            ("infra.local.demo_daily", "run_daily_demo"),
        ):
            try:
                runner = getattr(__import__(module, fromlist=[function]), function)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                continue
            runner(dict(aws.env, TIMEZONE=env["TIMEZONE"]))
    print("\nDone. Everything ran against local stand-ins; nothing left this machine.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
