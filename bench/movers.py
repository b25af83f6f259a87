"""The movers the benchmark compares, each run in its own process so its peak RSS is its own.

    python -m bench.movers naive DLQ_URL DEST_URL            # receive 10, send 1 + delete 1 each
    python -m bench.movers batched DLQ_URL DEST_URL WORKERS  # receive 10, send/delete batches
    python -m bench.movers engine CLI_ARGS...                # dlq-redrive's own CLI, in-process

Each prints one JSON line: moved, duration_s (the moving only), api_calls by operation (counted
on the client, for the engine next to its own report), vmhwm_kb (peak RSS).
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bot.sqs_gateway import default_sqs_client

if TYPE_CHECKING:
    from botocore.client import BaseClient


class CallCounter:
    """Counts every operation a boto3 client performs (one per call, retries not included),
    by its name (``ReceiveMessage``, ``GetQueueAttributes``, ``Query``...).

    With ``BENCH_CALL_LATENCY_MS`` set, every HTTP request also waits that long before it is
    sent (the GIL is released, as on a socket): a network round trip to SQS, for every mover
    alike, where 127.0.0.1 has next to none.
    """

    def __init__(self, client: BaseClient) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._latency_s = float(os.environ.get("BENCH_CALL_LATENCY_MS", "0")) / 1000
        service = client.meta.service_model.service_id.hyphenize()  # "sqs", "dynamodb"
        client.meta.events.register(f"before-call.{service}", self._count)
        if self._latency_s > 0:
            client.meta.events.register(f"before-send.{service}", self._travel)

    def taken(self) -> Counter[str]:
        """The calls counted since the last ``taken`` (and starts counting afresh)."""
        with self._lock:
            calls, self.calls = self.calls, Counter()
            return calls

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _travel(self, **_: Any) -> None:
        time.sleep(self._latency_s)


def vmhwm_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def naive(dlq_url: str, dest_url: str) -> dict[str, Any]:
    """How hand-written redrive Lambdas usually work: one thread, one message at a time."""
    sqs = default_sqs_client()
    counter = CallCounter(sqs)
    moved = 0
    started = time.monotonic()
    while True:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            sqs.send_message(QueueUrl=dest_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return {"moved": moved, "duration_s": time.monotonic() - started, "api_calls": counter.calls}


def batched(dlq_url: str, dest_url: str, workers: int) -> dict[str, Any]:
    """The least a batched mover must do, with no selection, checks or reporting."""
    sqs = default_sqs_client()
    counter = CallCounter(sqs)
    moved = Counter[str]()
    lock = threading.Lock()

    def work() -> None:
        while True:
            messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return
            sent = sqs.send_message_batch(
                QueueUrl=dest_url,
                Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
            )
            ok = {item["Id"] for item in sent.get("Successful", [])}
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                    if str(i) in ok
                ],
            )
            with lock:
                moved["n"] += len(ok)

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    return {
        "moved": moved["n"],
        "duration_s": time.monotonic() - started,
        "api_calls": counter.calls,
    }


def engine(cli_args: list[str]) -> dict[str, Any]:
    """dlq-redrive's CLI in this process, with a counted client; the report's own figures."""
    from bot.cli import main
    from bot.sqs_gateway import SqsGateway

    client = default_sqs_client()
    counter = CallCounter(client)
    out, err = io.StringIO(), io.StringIO()
    status = main(["--json", *cli_args], gateway=SqsGateway(client), out=out, err=err)
    if status not in (0, 1):
        raise SystemExit(f"dlq-redrive exited {status}: {err.getvalue()}")
    report = json.loads(out.getvalue())
    return {
        "moved": report["moved"],
        "scanned": report["scanned"],
        "failed": report["failed"],
        "duration_s": report["duration_s"],
        "api_calls": report["api_calls"],
        "wire_calls": counter.calls,
        "exit_status": status,
    }


def run(argv: list[str]) -> dict[str, Any]:
    kind, rest = argv[0], argv[1:]
    if kind == "naive":
        return naive(rest[0], rest[1])
    if kind == "batched":
        return batched(rest[0], rest[1], int(rest[2]))
    if kind == "engine":
        return engine(rest)
    raise SystemExit(f"unknown mover {kind!r}")


if __name__ == "__main__":
    result = run(sys.argv[1:])
    result["vmhwm_kb"] = vmhwm_kb()
    print(json.dumps(result, default=dict))
