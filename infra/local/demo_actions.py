"""``make demo``'s DLQ actions (issue 12): export, discard with archive, edit and resend, canary.

``run_actions_demo(aws_env, files)`` expects moto to be running (``aws_env`` points boto3 at it)
and the demo scene's ``orders`` / ``orders-dlq`` to hold today's failed orders and the one that is
not JSON (``infra.local.demo_scene.build_scene``, after its redrive of yesterday's). It runs the
real CLI, as a user would, and writes ``files`` (WORK below: ``build/demo`` in ``make demo``):

1. ``export orders-dlq --out WORK/orders-dlq.jsonl``: every message, one JSON object per line;
   they stay in the DLQ. Then tenant acme's (``--where attr.tenant=acme``) into S3 (moto's, on
   the same local server), and ``import ... --dry-run`` from there.
2. ``discard orders-dlq --where attr.error=ParseError``: a dry run, then for real with
   ``--archive WORK/discarded.jsonl`` (each message deleted only after its record is on disk), and
   ``import ... --dry-run`` of that archive, to show it can go back.
3. ``edit orders-dlq ID --body-file WORK/fixed-order.json``: one order re-routed to the backup
   payment gateway, sent to ``orders`` with its attributes; the others stay.
4. ``redrive shipping-dlq --canary 3``: a new pair, ``shipping`` -> ``shipping-dlq``, whose consumer
   is still broken. A thread plays that consumer: it receives everything that reaches ``shipping``
   and never deletes it, so SQS's RedrivePolicy (maxReceiveCount 1) moves it back into the DLQ,
   lineage attribute and all. The canary sees its copies come back and stops; the rest stays.

Run alone: ``python -m infra.local.demo_actions`` builds the demo scene on a fresh moto.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.printable import visible
from infra.local.demo_cli import banner, cli
from infra.local.demo_scene import build_scene
from infra.local.moto_server import client_for, local_aws
from infra.local.scene import QueuePair, count, create_pair, put_in_dlq

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SHIPPING_FAILURES = 8
CANARY_SIZE = 3
# The canary looks at the DLQ every 5 s (bot.canary.POLL_S) and stops at the first look that finds
# more than its share back; the wait only bounds a consumer slower than this one.
CANARY_WAIT_S = 20
# The local stand-in of the stack's archive bucket (serverless.yml ArchiveBucket).
ARCHIVE_BUCKET = "dlq-redrive-demo-archive"
# The longest the demo prints of a record or a body.
SHOWN_CHARS = 240


@dataclass(frozen=True)
class ActionsDemoFiles:
    """What the demo wrote: the export, the discard's archive, the edited body."""

    export: Path
    archive: Path
    fixed_body: Path

    @classmethod
    def under(cls, workdir: Path) -> ActionsDemoFiles:
        return cls(
            export=workdir / "orders-dlq.jsonl",
            archive=workdir / "discarded.jsonl",
            fixed_body=workdir / "fixed-order.json",
        )

    def remove(self) -> None:
        for path in (self.export, self.archive, self.fixed_body):
            path.unlink(missing_ok=True)


def _sqs(env: Mapping[str, str]) -> SQSClient:
    client: SQSClient = client_for("sqs", env)
    return client


def build_shipping(sqs: SQSClient) -> QueuePair:
    """``shipping`` -> ``shipping-dlq`` with SHIPPING_FAILURES labels the carrier's API refused."""
    shipping = create_pair(sqs, "shipping", max_receive_count=1)
    bodies = [
        json.dumps({"type": "LabelRequested", "shipmentId": f"shp-{n:04d}", "carrier": "acme"})
        for n in range(SHIPPING_FAILURES)
    ]
    error = {"error": {"DataType": "String", "StringValue": "CarrierApiDown"}}
    put_in_dlq(sqs, shipping, bodies, attributes=error)
    return shipping


@contextmanager
def failing_consumer(env: Mapping[str, str], pair: QueuePair) -> Iterator[None]:
    """A consumer of ``pair``'s source that still fails everything, while the block runs: it
    receives each message and never deletes it, with no visibility timeout, so its next receive
    is past maxReceiveCount and SQS moves it back to the DLQ (the RedrivePolicy). After the
    block, it goes on until the source is empty (at most 10 s), so what follows sees every
    failed message back in the DLQ."""
    stop = threading.Event()
    sqs = _sqs(env)

    def consume() -> None:
        while not stop.is_set():
            sqs.receive_message(
                QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0
            )
            stop.wait(0.2)

    thread = threading.Thread(target=consume, name="failing-consumer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        deadline = time.monotonic() + 10
        while count(sqs, pair.source_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        thread.join(timeout=10)


def _first_json_order(peeked: str) -> dict[str, Any]:
    """The first message of a ``--json peek --full`` whose body is a JSON object."""
    for message in json.loads(peeked)["messages"]:
        try:
            body = json.loads(message["body"])
        except ValueError:
            continue
        if isinstance(body, dict):
            return {"message_id": message["message_id"], "body": body}
    raise RuntimeError("no JSON order left in orders-dlq to edit")


def _show_first_line(path: Path, out: TextIO) -> None:
    with path.open(encoding="utf-8") as lines:
        first = lines.readline().rstrip("\n")
        count = 1 + sum(1 for _ in lines) if first else 0
    more = "…" if len(first) > SHOWN_CHARS else ""
    print(f"{path.name}: {count} record(s); the first one:", file=out)
    print(f"  {visible(first[:SHOWN_CHARS])}{more}", file=out)


def run_actions_demo(
    aws_env: Mapping[str, str], files: ActionsDemoFiles, out: TextIO | None = None
) -> None:
    """Play the four actions on the demo scene, writing ``files`` (none may exist yet); print
    what each did."""
    shown = out or sys.stdout
    env = {**os.environ, **aws_env}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    # The scene's messages say why they failed in their `error` attribute: what came back to the
    # DLQ is named by it (as the daily report groups errors).
    env.setdefault("ERROR_ATTRIBUTE", "error")

    banner("Export: what is in orders-dlq, to a file; the messages stay", shown)
    cli(f"export orders-dlq --out {files.export}", env, out)
    _show_first_line(files.export, shown)
    # The same to S3: moto's S3 on the same local server (an archive bucket, as deployed).
    client_for("s3", env).create_bucket(Bucket=ARCHIVE_BUCKET)
    acme = f"s3://{ARCHIVE_BUCKET}/exports/acme/"
    cli(f"export orders-dlq --where attr.tenant=acme --out {acme}", env, out)
    cli(f"import {acme} --to orders --dry-run", env, out)

    banner("Discard with archive: the order that is not JSON, archived first", shown)
    discard = f"discard orders-dlq --where attr.error=ParseError --archive {files.archive}"
    cli(f"{discard} --dry-run", env, out)  # counts; the archive is not even opened
    cli(discard, env, out)
    _show_first_line(files.archive, shown)
    cli(f"import {files.archive} --to orders --dry-run", env, out)

    banner("Edit and resend: one order re-routed to the backup payment gateway", shown)
    peeked = cli("--json peek orders-dlq -n 10 --full", env, out, read=True)
    order = _first_json_order(peeked.output)
    fixed = {**order["body"], "paymentGateway": "backup"}
    files.fixed_body.write_text(json.dumps(fixed), encoding="utf-8")
    cli(f"edit orders-dlq {order['message_id']} --body-file {files.fixed_body}", env, out)

    banner("Canary: shipping's consumer is still failing, so the redrive stops", shown)
    shipping = build_shipping(_sqs(env))
    print(
        f"Scene: shipping -> shipping-dlq ({SHIPPING_FAILURES} failed: CarrierApiDown). Its "
        "consumer still fails: whatever reaches shipping goes back to shipping-dlq.",
        file=shown,
    )
    with failing_consumer(env, shipping):
        cli(
            f"redrive shipping-dlq --canary {CANARY_SIZE} --canary-wait {CANARY_WAIT_S}",
            env,
            out,
        )
    cli("list", env, out)


def main() -> int:
    with local_aws(os.environ) as aws, tempfile.TemporaryDirectory() as work:
        build_scene(_sqs(aws.env), datetime.now(UTC))
        run_actions_demo(dict(aws.env), ActionsDemoFiles.under(Path(work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
