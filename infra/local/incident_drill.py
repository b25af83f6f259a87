"""The incident drill of issue 10 (items 16-19) on LocalStack, at full size: 30,000 dead-lettered
messages in 3 DLQs over three days, then what an on-call engineer runs, every output kept next to
an exact ledger of what was seeded, so each figure shown can be checked against the truth.

    python -m infra.local.incident_drill --out /tmp/drill     # ~3 minutes on 2 cores
    python -m infra.local.incident_drill --out /tmp/drill2 --daily-timeout 45 \
        --continuation-timeout 45                              # the same, with 6 continuations

The scene (deterministic: ``random.Random(SEED)``):

- ``orders-dlq`` (standard) with two sources, ``orders`` (8,000) and ``orders-retry`` (6,000);
- ``billing-dlq`` (standard), source ``billing`` (11,000);
- ``payments-dlq.fifo``, source ``payments.fifo`` (5,000, 40 groups, sent straight into the DLQ,
  which has one source).

Standard DLQs are filled the way SQS fills them (sent to the source, received past
``maxReceiveCount``), so each message carries its ``DeadLetterQueueSourceArn``. SentTimestamp cannot
be backdated, so each message's day is its JSON body's ``occurredAt`` (ISO 8601 with ``Z`` or
``+09:00``, or epoch seconds / milliseconds) over D-2, D-1 and D, where D is today (UTC) and the
06:00 report runs tomorrow. About 2 % of the bodies are not JSON, 2 % lack the field, 5 % are
poison (``dlq-redrive-count`` 3, 4 or 7 with ``MAX_REDRIVES=3``), 5 % carry a count of 1 or 2,
70 % an ``error`` attribute (``ERROR_ATTRIBUTE=error``), 0.5 % ten attributes.

Steps, each output written to ``--out`` (``NN-name.txt``, exit status and seconds at the top):
``list``, ``peek``, ``redrive --dry-run --date D --time-field occurredAt`` (text and ``--json``)
per DLQ, a real ``redrive billing-dlq --date D-1 --time-field occurredAt --limit 1000`` (the moved
messages are then received from ``billing`` and taken off the ledger, so the ledger stays exact),
then ``handlers.daily.handler`` at 06:00 tomorrow with ``AUTO_REDRIVE=*``,
``AUTO_REDRIVE_TIME_FIELD=occurredAt``, ``REPORT_SAMPLE_SIZE=1000``, against LocalStack (SQS), moto
(DynamoDB, the state table) and the local Slack server: every Slack call is written out (blocks
as text, fallback text, thread replies, updates). ``truth.txt`` holds the ledger's figures before
each step; ``ledger.json`` every seeded message.

Its Slack sibling, ``infra.local.incident_drill_slack`` (issue 11), seeds with the same
generator (``plan`` and ``seed`` take a scene) and plays the approval story through the real
endpoint and worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.seed import depth
from infra.local.scene import drain

SEED = 10
MAX_REDRIVES = 3
SAMPLE = 1000
KST = timezone(timedelta(hours=9))
ROOT = Path(__file__).resolve().parents[2]
CLI = str(ROOT / ".venv" / "bin" / "dlq-redrive")

# (dlq, fifo, {source: count}, weights of its days: D-2, D-1, D here)
Scene = tuple[tuple[str, bool, dict[str, int], tuple[float, ...]], ...]
SCENE: Scene = (
    ("orders-dlq", False, {"orders": 8000, "orders-retry": 6000}, (0.25, 0.35, 0.40)),
    ("billing-dlq", False, {"billing": 11000}, (0.20, 0.30, 0.50)),
    ("payments-dlq.fifo", True, {"payments.fifo": 5000}, (0.33, 0.33, 0.34)),
)
ERRORS = (("PaymentTimeout", 0.40), ("UpstreamDown", 0.20), ('ValidationError: "amount" < 0', 0.10))


@dataclass
class Seeded:
    """One message as seeded: what the truth of every figure is computed from."""

    dlq: str
    source: str
    n: int
    kind: str  # "dated", "text" (body not JSON), "nofield" (JSON without occurredAt)
    day: str | None  # the UTC day of occurredAt, for "dated"
    fmt: str | None  # how occurredAt is written
    count: int  # dlq-redrive-count attribute (0: none)
    error: str | None
    ten_attrs: bool
    group: str | None
    where: str = "dlq"  # "dlq", or what took it out: "cli", "daily"

    @property
    def poison(self) -> bool:
        return self.count >= MAX_REDRIVES


def _when(rng: random.Random, day: date) -> tuple[str | int, str]:
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(86400), milliseconds=rng.randrange(1000)
    )
    r = rng.random()
    if r < 0.70:
        return instant.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "iso-z"
    if r < 0.85:
        return instant.astimezone(KST).isoformat(timespec="milliseconds"), "iso+09"
    if r < 0.95:
        return int(instant.timestamp() * 1000), "epoch-ms"
    return int(instant.timestamp()), "epoch-s"


def plan(
    today: date, scene: Scene = SCENE
) -> tuple[list[Seeded], dict[tuple[str, int], tuple[str, dict[str, Any]]]]:
    """Every message to seed, and its (body, attributes) by (source, n). A DLQ's weights are
    those of its days, the last one ``today`` (so five weights spread it over five days)."""
    rng = random.Random(SEED)
    records: list[Seeded] = []
    payloads: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    for dlq, fifo, sources, weights in scene:
        days = [today - timedelta(days=len(weights) - 1 - i) for i in range(len(weights))]
        for source, total in sources.items():
            for n in range(total):
                r = rng.random()
                kind = "text" if r < 0.02 else "nofield" if r < 0.04 else "dated"
                day, fmt, body = None, None, ""
                if kind == "text":
                    body = f"order {n} failed: upstream said 503 at step {n % 7}"
                elif kind == "nofield":
                    body = json.dumps({"id": n, "source": source, "note": "no time here"})
                else:
                    chosen = rng.choices(days, weights)[0]
                    at, fmt = _when(rng, chosen)
                    day = chosen.isoformat()
                    body = json.dumps(
                        {"id": n, "source": source, "occurredAt": at, "amount": n % 500}
                    )
                r = rng.random()
                count = rng.choice((3, 4, 7)) if r < 0.05 else rng.choice((1, 2)) if r < 0.10 else 0
                r, error, edge = rng.random(), None, 0.0
                for name, share in ERRORS:
                    edge += share
                    if r < edge:
                        error = name
                        break
                ten = rng.random() < 0.005
                attrs: dict[str, Any] = {}
                if count:
                    attrs["dlq-redrive-count"] = {"DataType": "Number", "StringValue": str(count)}
                if error:
                    attrs["error"] = {"DataType": "String", "StringValue": error}
                if ten:
                    for i in range(10 - len(attrs)):
                        attrs[f"x{i}"] = {"DataType": "String", "StringValue": f"v{i}"}
                group = f"acct-{n % 40}" if fifo else None
                records.append(Seeded(dlq, source, n, kind, day, fmt, count, error, ten, group))
                payloads[(source, n)] = (body, attrs)
    return records, payloads


# ---------------------------------------------------------------- seeding on LocalStack


def _sqs() -> Any:
    return boto3.client("sqs", config=Config(max_pool_connections=32, retries={"mode": "standard"}))


def _arn(sqs: Any, url: str) -> str:
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def seed(
    sqs: Any, records: list[Seeded], payloads: dict[Any, Any], scene: Scene = SCENE
) -> dict[str, str]:
    """Create the queues and fill the DLQs; return queue name -> URL."""
    urls: dict[str, str] = {}
    for dlq, fifo, sources, _ in scene:
        extra = {"FifoQueue": "true"} if fifo else {}
        urls[dlq] = sqs.create_queue(QueueName=dlq, Attributes=extra)["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": _arn(sqs, urls[dlq]), "maxReceiveCount": 1})
        for source in sources:
            urls[source] = sqs.create_queue(
                QueueName=source, Attributes={**extra, "RedrivePolicy": policy}
            )["QueueUrl"]
    by_source: dict[str, list[Seeded]] = defaultdict(list)
    for record in records:
        by_source[record.source].append(record)
    for source, items in by_source.items():
        fifo = source.endswith(".fifo")
        # FIFO: straight into the DLQ, in order (its one source is where they go back)
        target = urls[items[0].dlq] if fifo else urls[source]
        batches = [items[i : i + 10] for i in range(0, len(items), 10)]

        def send(
            batch: list[Seeded], target: str = target, fifo: bool = fifo, source: str = source
        ) -> None:
            entries = []
            for i, rec in enumerate(batch):
                body, attrs = payloads[(rec.source, rec.n)]
                entry: dict[str, Any] = {"Id": str(i), "MessageBody": body}
                if attrs:
                    entry["MessageAttributes"] = attrs
                if fifo:
                    entry["MessageGroupId"] = rec.group
                    entry["MessageDeduplicationId"] = f"seed-{rec.n}"
                entries.append(entry)
            failed = sqs.send_message_batch(QueueUrl=target, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(f"seeding {source} failed: {failed[:1]}")

        if fifo:
            for batch in batches:
                send(batch)
            continue
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send, batches))
        done = threading.Event()

        def dead_letter(url: str = urls[source], done: threading.Event = done) -> None:
            while not done.is_set():
                got = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
                ).get("Messages", [])
                if not got and depth(sqs, url) == 0:
                    done.set()

        with ThreadPoolExecutor(8) as pool:
            for future in [pool.submit(dead_letter) for _ in range(8)]:
                future.result()
    for dlq, _, sources, _ in scene:
        expected = sum(sources.values())
        found = depth(sqs, urls[dlq])
        if found != expected:
            raise RuntimeError(f"{dlq}: seeded {expected}, SQS counts {found}")
    return urls


def take_from(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete everything in a queue (a consumer that now succeeds); thousands of
    messages on LocalStack, so an empty receive is trusted only three times in a row."""
    return drain(sqs, url, empty_receives=3, wait_seconds=1)


def _id_of(body: str) -> int:
    try:
        return int(json.loads(body)["id"])
    except (ValueError, KeyError, TypeError):
        return int(body.split()[1])  # "order <n> failed: ..."


def mark_moved(
    records: list[Seeded], source: str, received: list[dict[str, Any]], by: str
) -> dict[str, int]:
    """Take the messages that reached ``source`` off the DLQ's ledger; count copies."""
    index = {(r.source, r.n): r for r in records}
    ns = Counter(_id_of(m["Body"]) for m in received)
    for n in ns:
        record = index[(source, n)]
        if record.where != "dlq":
            raise RuntimeError(f"{source} #{n} arrived again (was {record.where})")
        record.where = by
    return {"received": len(received), "distinct": len(ns), "duplicates": len(received) - len(ns)}


# ---------------------------------------------------------------- the ledger's figures


def truth(records: Iterable[Seeded], today: date) -> dict[str, Any]:
    """Per DLQ: depth, per day / category counts, of the messages still in the DLQ."""
    out: dict[str, Any] = {}
    for rec in records:
        if rec.where != "dlq":
            continue
        t = out.setdefault(
            rec.dlq,
            {
                "depth": 0,
                "by_source": Counter(),
                "by_day": defaultdict(Counter),
                "unreadable": Counter(),
                "poison": 0,
                "errors": Counter(),
                "ten_attrs": 0,
                "count_1_2": 0,
            },
        )
        t["depth"] += 1
        t["by_source"][rec.source] += 1
        if rec.kind == "dated":
            day = t["by_day"][rec.day]
            day["total"] += 1
            day["poison"] += rec.poison
            day["movable"] += not rec.poison
            day["ten_attrs"] += rec.ten_attrs
            day["ten_attrs_movable"] += rec.ten_attrs and not rec.poison
        else:
            t["unreadable"][rec.kind] += 1
            t["unreadable"]["poison"] += rec.poison
        t["poison"] += rec.poison
        t["errors"][rec.error or "(no attribute)"] += 1
        t["ten_attrs"] += rec.ten_attrs
        t["count_1_2"] += rec.count in (1, 2)
    plain: dict[str, Any] = json.loads(json.dumps(out))  # Counters as plain dicts
    return plain


def render_truth(title: str, figures: dict[str, Any]) -> str:
    lines = [f"== {title} =="]
    total = sum(t["depth"] for t in figures.values())
    lines.append(f"all DLQs: depth {total:,}")
    for dlq, t in figures.items():
        lines.append(f"{dlq}: depth {t['depth']:,}  by source {t['by_source']}")
        for day in sorted(t["by_day"]):
            lines.append(f"  {day}: {t['by_day'][day]}")
        unreadable = t["unreadable"].get("text", 0) + t["unreadable"].get("nofield", 0)
        lines.append(f"  unreadable: {t['unreadable']}  (total {unreadable})")
        lines.append(
            f"  poison all days: {t['poison']}  count 1-2: {t['count_1_2']}"
            f"  ten attrs: {t['ten_attrs']}"
        )
        lines.append(f"  errors: {t['errors']}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the steps


class Steps:
    def __init__(self, out: Path, env: dict[str, str]) -> None:
        self.out, self.env, self.n = out, env, 0
        self.timings: list[str] = []

    def cli(self, name: str, *args: str) -> tuple[int, str, float]:
        self.n += 1
        started = time.monotonic()
        done = subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=1800
        )
        took = time.monotonic() - started
        text = done.stdout + (f"\n--- stderr ---\n{done.stderr}" if done.stderr else "")
        header = f"$ dlq-redrive {' '.join(args)}\n# exit {done.returncode}, {took:.1f} s\n"
        (self.out / f"{self.n:02d}-{name}.txt").write_text(header + text)
        self.timings.append(f"{name}: {took:.1f} s (exit {done.returncode})")
        print(f"[{self.n:02d}] {name}: exit {done.returncode} in {took:.1f} s", flush=True)
        return done.returncode, done.stdout, took


def run_daily(
    out: Path,
    aws_env: dict[str, str],
    moto_env: dict[str, str],
    scheduled: datetime,
    *,
    timeout_s: float = 900.0,
    continuation_timeout_s: float = 900.0,
) -> tuple[dict[str, Any], float, list[Any]]:
    """The 06:00 job, with a local Lambda endpoint so continuations run (in this process)."""
    import handlers.daily
    from bot.composition import build_daily_job
    from bot.daily.blocks import blocks_as_text
    from bot.state_table import create_state_table
    from infra.local.demo_daily import daily_job_in_use, scheduled_event
    from infra.local.lambda_server import LambdaServer, LocalLambdaContext
    from infra.local.slack_api import SlackApiServer

    table = "dlq-redrive-drill-state"
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_env["AWS_ENDPOINT_URL"])
    create_state_table(dynamodb, table)
    name = "dlq-redrive-daily"
    lambdas = LambdaServer({name: handlers.daily.handler}, timeouts={name: continuation_timeout_s})
    with SlackApiServer() as slack, lambdas:
        env = {
            **aws_env,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_env["AWS_ENDPOINT_URL"],
            "TIMEZONE": "UTC",
            "MAX_REDRIVES": str(MAX_REDRIVES),
            "SLACK_BOT_TOKEN": "xoxb-drill",
            "SLACK_SIGNING_SECRET": "drill-secret",
            "SLACK_API_URL": slack.api_url,
            "STATE_TABLE": table,
            "REPORT_CHANNEL": "C0DRILL",
            "AUTO_REDRIVE": "*",
            "AUTO_REDRIVE_TIME_FIELD": "occurredAt",
            "REPORT_SAMPLE_SIZE": str(SAMPLE),
            "ERROR_ATTRIBUTE": "error",
        }
        job = build_daily_job(
            env,
            sqs_client=boto3.client("sqs", endpoint_url=aws_env["AWS_ENDPOINT_URL"]),
            dynamodb_client=dynamodb,
            lambda_client=boto3.client("lambda", endpoint_url=lambdas.endpoint_url),
        )
        event = scheduled_event(scheduled)
        started = time.monotonic()
        with daily_job_in_use(job) as emitted:
            outcome = handlers.daily.handler(
                event, LocalLambdaContext(name, timeout_s, str(uuid.uuid4()))
            )
            first_took = time.monotonic() - started
            lambdas.wait_idle(timeout=1800)  # continuations' metrics are captured too
        took = time.monotonic() - started
        calls = list(slack.state.calls)
    lines = [
        f"# handler outcome: {json.dumps(outcome)}",
        f"# {took:.1f} s ({first_took:.1f} s first)",
    ]
    for invocation in lambdas.invocations:
        lines.append(f"# continuation: {invocation.result} {invocation.error or ''}")
    lines.append("")
    for call in calls:
        lines.append(
            f"===== {call.method}{' REFUSED ' + str(call.refused) if call.refused else ''}"
        )
        body = call.body
        if body.get("thread_ts"):
            lines.append(f"(thread reply to {body['thread_ts']})")
        if body.get("ts"):
            lines.append(f"(updates ts {body['ts']})")
        if body.get("blocks"):
            lines.append(blocks_as_text(body["blocks"]))
        if "text" in body:
            lines.append(f"-- text (fallback) --\n{body['text']}")
        for block in body.get("blocks") or []:
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    lines.append(f"-- button {element.get('action_id')}: {element.get('value')}")
        lines.append("")
    lines.append("# EMF metrics printed by powertools:")
    lines.extend(line for line in emitted.getvalue().splitlines() if '"_aws"' in line)
    (out / "daily-report.txt").write_text("\n".join(lines) + "\n")
    (out / "daily-slack-calls.json").write_text(
        json.dumps([{"method": c.method, "body": c.body} for c in calls], indent=1)
    )
    return outcome, took, calls


def main() -> int:
    from infra.local.localstack import localstack
    from infra.local.moto_server import local_aws

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/incident-drill"))
    parser.add_argument("--limit", type=int, default=1000, help="the real redrive's --limit")
    parser.add_argument(
        "--daily-timeout", type=float, default=900.0, help="the 06:00 run's Lambda budget (s)"
    )
    parser.add_argument(
        "--continuation-timeout", type=float, default=900.0, help="each continuation's (s)"
    )
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    d, d1 = today.isoformat(), (today - timedelta(days=1)).isoformat()
    scheduled = datetime(today.year, today.month, today.day, 6, tzinfo=UTC) + timedelta(days=1)
    records, payloads = plan(today)
    truth_log = out / "truth.txt"
    with localstack() as ls, local_aws() as moto:
        os.environ.update(ls.env)
        sqs = _sqs()
        started = time.monotonic()
        urls = seed(sqs, records, payloads)
        print(f"seeded {len(records):,} in {time.monotonic() - started:.0f} s", flush=True)
        (out / "ledger.json").write_text(json.dumps([asdict(r) for r in records]))
        truth_log.write_text(render_truth(f"seeded (D = {d})", truth(records, today)))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            **ls.env,
            "TIMEZONE": "UTC",
            "MAX_REDRIVES": str(MAX_REDRIVES),
            "COLUMNS": "160",
        }
        steps = Steps(out, env)
        steps.cli("list", "list")
        steps.cli("list-json", "--json", "list")
        for dlq, *_ in SCENE:
            steps.cli(f"peek-{dlq}", "peek", dlq, "-n", "10")
        for dlq, *_ in SCENE:
            base = ("redrive", dlq, "--dry-run", "--date", d, "--time-field", "occurredAt")
            steps.cli(f"dry-run-{dlq}", *base)
            steps.cli(f"dry-run-json-{dlq}", "--json", *base)
        steps.cli("list-after-dry-runs", "list")
        _, _, took = steps.cli(
            "redrive-billing-limit",
            *("redrive", "billing-dlq", "--date", d1, "--time-field", "occurredAt"),
            *("--limit", str(args.limit)),
        )
        moved = mark_moved(records, "billing", take_from(sqs, urls["billing"]), "cli")
        steps.timings.append(f"  -> {moved} ({moved['distinct'] / took:.0f} msg/s incl. start)")
        with truth_log.open("a") as log:
            log.write(f"\nCLI redrive billing-dlq --date {d1} --limit {args.limit}: {moved}\n")
            log.write(
                render_truth("after the CLI redrive (before the daily job)", truth(records, today))
            )
        steps.cli("list-before-daily", "list")
        print("running the daily job...", flush=True)
        outcome, took, _ = run_daily(
            out,
            ls.env,
            moto.env,
            scheduled,
            timeout_s=args.daily_timeout,
            continuation_timeout_s=args.continuation_timeout,
        )
        steps.timings.append(f"daily (with continuations): {took:.1f} s, outcome {outcome}")
        with truth_log.open("a") as log:
            for _dlq, _, sources, _ in SCENE:
                for source in sources:
                    got = mark_moved(records, source, take_from(sqs, urls[source]), "daily")
                    log.write(f"\ndaily auto-redrive into {source}: {got}")
            log.write("\n" + render_truth("after the daily job", truth(records, today)))
        steps.cli("list-after-daily", "list")
        (out / "ledger.json").write_text(json.dumps([asdict(r) for r in records]))
    (out / "timings.txt").write_text("\n".join(steps.timings) + "\n")
    print("\n".join(steps.timings))
    print(f"outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
