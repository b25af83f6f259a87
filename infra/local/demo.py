"""``make demo``: the whole product on this machine, with no AWS account.

Starts moto's SQS/DynamoDB server on 127.0.0.1, builds a realistic scene (an ``orders`` queue and a
``payments.fifo`` queue, each with its DLQ, failed messages from yesterday and today carrying
attributes), then runs the ``dlq-redrive`` CLI as a user would (separate processes that find the
server through ``AWS_ENDPOINT_URL`` alone): list, peek, a dry run, a real redrive, and the queues
after. Then the DLQ actions (infra/local/demo_actions.py: an export to a .jsonl file, a discard
with archive, an edit and resend, a canary that stops on a consumer that still fails; their files
stay in build/demo/). Then the DLQs that SNS subscriptions, EventBridge rule targets and Lambda
functions dead-letter into (infra/local/demo_kinds.py, with the local Lambda server): listed with
their kind, dry-run and redriven, each message back to exactly the target that failed it, and what
every target received. Last, the Slack app (with the App Home tab), the request form that
``/dlq-redrive`` with no arguments opens, the 06:00 report, the Home tab after it
(infra/local/demo_surfaces.py) and the alert checks between reports (infra/local/demo_alerts.py)
on the same scene, against a local Slack.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import boto3

from infra.local.demo_actions import ActionsDemoFiles, run_actions_demo
from infra.local.demo_cli import banner, cli
from infra.local.demo_kinds import run_kinds_demo
from infra.local.demo_scene import build_scene
from infra.local.moto_server import local_aws

# Where the DLQ actions leave their files for you to look at (build/ is not committed).
DEMO_FILES = Path("build") / "demo"


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

        # SNS subscription, EventBridge target and Lambda DLQs, each back to its own target.
        kinds = run_kinds_demo(dict(aws.env, TIMEZONE=env["TIMEZONE"]))
        if kinds.failed():
            print("\nThe DLQ kinds did not all go back as they should (✗ above).")
            return 1

        for module, function in (
            ("infra.local.demo_slack", "run_slack_demo"),
            ("infra.local.demo_surfaces", "run_modal_demo"),
            ("infra.local.demo_daily", "run_daily_demo"),
            ("infra.local.demo_surfaces", "run_home_after_report"),
            ("infra.local.demo_alerts", "run_alerts_demo"),
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
