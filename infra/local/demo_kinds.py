"""``make demo``'s DLQ kinds (issue 13): SNS subscription, EventBridge target and Lambda DLQs,
each redriven back to exactly the target that failed it, never to more.

``run_kinds_demo(aws_env)`` expects moto running (``aws_env`` points boto3 at it). It starts the
local Lambda server (the scene's functions: their DeadLetterConfig, on-failure destination and
every invoke), builds ``infra.local.demo_kinds_scene`` and runs the real CLI as a user would:

1. ``list``: the KIND column (sqs, sns, events, lambda) and each DLQ's sources named precisely.
2. ``redrive DLQ --dry-run`` for each of the five DLQs: where each message would go; and
   ``redrive order-emails-dlq --canary 1``, refused: no canary for these kinds.
3. ``redrive DLQ`` for each: an SNS subscription's messages to that subscription's queue or
   function only (never a publish to the topic), an EventBridge target's to that target only
   (never PutEvents), a function's to that function (an asynchronous invoke); the NO_PERMISSIONS
   event stays in its DLQ for a human.
4. What each target received, read from the queues and the Lambda server, checked against what
   each should have got: the topic's other subscriber and the rule's other target got nothing,
   each function only its own messages.

Run alone: ``python -m infra.local.demo_kinds`` on a fresh moto.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from bot.printable import visible
from bot.sqs_model import ReceivedMessage
from infra.local.demo_cli import banner, cli
from infra.local.demo_kinds_scene import (
    ANALYTICS,
    AUDIT,
    BILLING,
    BILLING_DLQ,
    DLQS,
    EMAILS,
    EMAILS_DLQ,
    FUNCTIONS,
    INVOICE_PDF,
    INVOICE_PDF_FAILURES,
    NEEDS_HUMAN_CODE,
    NOTIFIER,
    NOTIFIER_DLQ,
    RULE,
    THUMBNAILER,
    THUMBNAILER_DLQ,
    TOPIC,
    KindsScene,
    build_kinds_scene,
)
from infra.local.lambda_server import LambdaServer
from infra.local.moto_server import client_for, local_aws
from infra.local.scene import count, drain

# The longest the demo prints of what a target received.
SHOWN_CHARS = 160
# Asynchronous invokes run in the Lambda server's threads; each finishes in milliseconds.
INVOKES_WAIT_S = 30


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str


@dataclass(frozen=True)
class KindsOutcome:
    """What the kinds part did: what each target received, what is left in each DLQ, the CLI's
    exit statuses, and each check of it against what the scene says should happen."""

    queues: dict[str, list[str]]  # target queue -> the bodies it received
    invokes: dict[str, list[Any]]  # function -> the payloads it was invoked with
    left: dict[str, int]  # DLQ -> messages still in it
    statuses: list[int]
    checks: list[Check]

    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def _env(aws_env: Mapping[str, str], lambda_url: str) -> dict[str, str]:
    env = {**os.environ, **aws_env, "AWS_ENDPOINT_URL_LAMBDA": lambda_url}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    env.setdefault("TIMEZONE", "UTC")
    return env


def _describe(scene: KindsScene, out: TextIO) -> None:
    print(
        f"Scene: SNS topic {TOPIC} -> queue {EMAILS} (DLQ {EMAILS_DLQ}), queue {ANALYTICS} "
        f"(no DLQ), function {NOTIFIER} (DLQ {NOTIFIER_DLQ}); EventBridge rule {RULE} -> "
        f"queue {BILLING} (DLQ {BILLING_DLQ}), queue {AUDIT} (no DLQ); function {THUMBNAILER} "
        f"(async DLQ {THUMBNAILER_DLQ}), function {INVOICE_PDF} (on-failure destination "
        f"{INVOICE_PDF_FAILURES}).",
        file=out,
    )
    seeded = ", ".join(f"{dlq} {len(messages)}" for dlq, messages in scene.seeded.items())
    print(
        f"moto never dead-letters for SNS, EventBridge or Lambda: the DLQs hold messages shaped as "
        f"AWS documents them ({seeded}).",
        file=out,
    )


def _shown(text: str) -> str:
    more = "…" if len(text) > SHOWN_CHARS else ""
    return visible(text[:SHOWN_CHARS]) + more


def _seeded_bodies(scene: KindsScene, dlq: str) -> list[str]:
    return [message.body for message in scene.seeded[dlq]]


def _checks(
    scene: KindsScene,
    queues: dict[str, list[str]],
    invokes: dict[str, list[Any]],
    left: dict[str, int],
) -> list[Check]:
    """Each target got exactly its own messages, in the shape AWS would have delivered them."""
    emails = _seeded_bodies(scene, EMAILS_DLQ)
    notified = [json.loads(body) for body in _seeded_bodies(scene, NOTIFIER_DLQ)]
    billing = [m.body for m in scene.seeded[BILLING_DLQ] if _code(m) != NEEDS_HUMAN_CODE]
    thumbnails = [json.loads(body) for body in _seeded_bodies(scene, THUMBNAILER_DLQ)]
    records = [json.loads(body) for body in _seeded_bodies(scene, INVOICE_PDF_FAILURES)]
    notifier_records = [event["Records"][0] for event in invokes[NOTIFIER]]
    return [
        Check(
            sorted(queues[EMAILS]) == sorted(emails),
            f"queue {EMAILS} got its subscription's {len(emails)} messages, bodies as stored",
        ),
        Check(queues[ANALYTICS] == [], f"queue {ANALYTICS}, the topic's other subscriber: nothing"),
        Check(
            [r["EventSource"] for r in notifier_records] == ["aws:sns"]
            and [r["Sns"]["Message"] for r in notifier_records] == [n["Message"] for n in notified]
            and [r["EventSubscriptionArn"] for r in notifier_records]
            == [scene.subscriptions[NOTIFIER]],
            f"function {NOTIFIER} got its message once, as the SNS event Lambda receives",
        ),
        Check(queues[BILLING] == billing, f"queue {BILLING} got the THROTTLING event, as stored"),
        Check(queues[AUDIT] == [], f"queue {AUDIT}, the rule's other target: nothing"),
        Check(left[BILLING_DLQ] == 1, f"the {NEEDS_HUMAN_CODE} event stays in {BILLING_DLQ}"),
        Check(
            sorted(map(json.dumps, invokes[THUMBNAILER])) == sorted(map(json.dumps, thumbnails)),
            f"function {THUMBNAILER} got its {len(thumbnails)} payloads, unchanged",
        ),
        Check(
            invokes[INVOICE_PDF] == [record["requestPayload"] for record in records],
            f"function {INVOICE_PDF} got the record's requestPayload, not the record",
        ),
        Check(
            all(left[dlq] == 0 for dlq, _ in DLQS if dlq != BILLING_DLQ),
            "every other DLQ of the scene is empty",
        ),
    ]


def _code(message: ReceivedMessage) -> str | None:
    attribute = message.message_attributes.get("ERROR_CODE")
    return None if attribute is None else str(attribute["StringValue"])


def _report(outcome: KindsOutcome, out: TextIO) -> None:
    for queue, bodies in outcome.queues.items():
        print(f"queue {queue}: {len(bodies)}", file=out)
        for body in bodies:
            print(f"  {_shown(body)}", file=out)
    for function, payloads in outcome.invokes.items():
        print(f"function {function}: {len(payloads)} invoke(s)", file=out)
        for payload in payloads:
            print(f"  {_shown(json.dumps(payload))}", file=out)
    print("", file=out)
    for check in outcome.checks:
        print(f"{'✓' if check.ok else '✗'} {check.text}", file=out)


def run_kinds_demo(aws_env: Mapping[str, str], out: TextIO | None = None) -> KindsOutcome:
    """Build the kinds scene, list, dry-run and redrive each DLQ, and show what each target got."""
    shown = out or sys.stdout
    sqs = client_for("sqs", aws_env)
    with LambdaServer() as lambdas:
        scene = build_kinds_scene(
            sqs, client_for("sns", aws_env), client_for("events", aws_env), lambdas
        )
        env = _env(aws_env, lambdas.endpoint_url)
        statuses: list[int] = []

        banner("Every kind of DLQ: SNS subscriptions, EventBridge targets, Lambda", shown)
        _describe(scene, shown)
        statuses.append(cli("list", env, out).status)

        banner("Dry runs: where each message would go (nothing is sent)", shown)
        for dlq, _ in DLQS:
            statuses.append(cli(f"redrive {dlq} --dry-run", env, out).status)
        # A canary watches for its marked copies coming back to this DLQ; these targets' copies
        # cannot come back marked, so it is refused before anything moves (exit 2).
        statuses.append(cli(f"redrive {EMAILS_DLQ} --canary 1", env, out).status)

        banner("Redrive: each message back to exactly the target that failed it", shown)
        for dlq, _ in DLQS:
            statuses.append(cli(f"redrive {dlq}", env, out).status)
        lambdas.wait_idle(INVOKES_WAIT_S)
        lambdas.raise_errors()

        banner("What each target received", shown)
        targets = (EMAILS, ANALYTICS, BILLING, AUDIT)
        queues = {name: [m["Body"] for m in drain(sqs, scene.urls[name])] for name in targets}
        invokes = {name: [i.payload for i in lambdas.calls_to(name)] for name in FUNCTIONS}
        left = {dlq: count(sqs, scene.urls[dlq]) for dlq, _ in DLQS}
        outcome = KindsOutcome(
            queues, invokes, left, statuses, _checks(scene, queues, invokes, left)
        )
        _report(outcome, shown)
        statuses.append(cli("list", env, out).status)
    return outcome


def main() -> int:
    with local_aws(os.environ) as aws:
        outcome = run_kinds_demo(dict(aws.env))
    return 1 if outcome.failed() else 0


if __name__ == "__main__":
    raise SystemExit(main())
