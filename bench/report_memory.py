"""The daily report's peak memory on many DLQs of large bodies (a section of `make bench`).

    .venv/bin/python -m bench.run --only report-memory                  # this section alone
    .venv/bin/python -m bench.report_memory --dlqs 60 --messages 1000   # the same, printed raw

The real daily function (``handlers.daily.handler``, built by ``build_daily_job``) reads 60 DLQs of
1,000 messages each, sampling all 1,000 of each, 8 DLQs at a time, in a child process of its own so
that its peak RSS (``ru_maxrss``) is the report's alone. Against:

- SQS: a stand-in *client*, the boto3 surface ``SqsGateway`` calls, that **generates each body
  when it is received** and stores none: 60,000 bodies of 256 KiB cannot be seeded into LocalStack
  (or moto) on this machine. Each body is 256 KiB of UTF-8 with one emoji, so Python keeps 4 bytes
  a character (1 MiB a body), as in the incident (1,000 such bodies peaked at 1.03 GB). Every
  answer is serialised to JSON bytes and parsed back, as botocore does with SQS's JSON answer, so a
  response's bytes and its parsed bodies both count. Visibility is kept per message: a received
  message is hidden until released, as in SQS.
- DynamoDB (snapshots, idempotency) on moto's server and Slack on the local Slack Web API server,
  both in the parent process, so neither counts in the figure.

The same run with 64-byte bodies gives the baseline: the difference is what the bodies cost.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from bench.child import peak_rss_mb, run_child

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION_NAME = "dlq-redrive-daily"
EMOJI = "\N{GRINNING FACE}"  # 4 bytes in UTF-8; makes Python store the whole body 4 bytes a char
RECEIPT_HANDLE_CHARS = 400  # about the length of a real SQS receipt handle
RUN_TIME = "2026-03-11T06:00:00Z"  # yesterday is 10 March; the bodies spread over 8 to 10 March


# --- the child: the daily function against a generating SQS ------------------------------------


class _Queue:
    def __init__(self, name: str, size: int, dlq_of: str | None = None) -> None:
        self.name = name
        self.size = size
        self.visible: deque[int] = deque(range(size))
        self.dlq_of = dlq_of  # the source queue's name when this is a DLQ

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.name}"


class GeneratingSqsClient:
    """The boto3 SQS client calls the report makes, answered from generated messages.

    Message ``n`` of a DLQ always has the same body (its shape, error and time follow ``n``), but
    the text is built anew at each receive and kept nowhere: only the queue's visible indexes are.
    """

    def __init__(self, dlqs: int, messages: int, body_bytes: int) -> None:
        self.url_prefix = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/"
        self.queues: dict[str, _Queue] = {}
        for index in range(dlqs):
            source = f"svc{index:02d}"
            self.queues[source] = _Queue(source, 0)
            self.queues[f"{source}-dlq"] = _Queue(f"{source}-dlq", messages, dlq_of=source)
        self.body_bytes = body_bytes
        self.received = 0
        # What a client built "like" this one reads (the daily job's send client): a local port
        # nothing listens on, so a send could never reach AWS (the report sends nothing).
        self.meta = SimpleNamespace(endpoint_url="http://127.0.0.1:9", region_name=REGION)

    def _queue(self, url: str) -> _Queue:
        return self.queues[url.rsplit("/", 1)[-1]]

    def get_queue_url(self, QueueName: str, **_: Any) -> dict[str, Any]:
        return {"QueueUrl": self.url_prefix + self.queues[QueueName].name}

    def get_queue_attributes(self, QueueUrl: str, **_: Any) -> dict[str, Any]:
        queue = self._queue(QueueUrl)
        attributes = {
            "QueueArn": queue.arn,
            "ApproximateNumberOfMessages": str(len(queue.visible)),
            "ApproximateNumberOfMessagesNotVisible": str(queue.size - len(queue.visible)),
            "ApproximateNumberOfMessagesDelayed": "0",
            "MaximumMessageSize": "262144",
        }
        if queue.dlq_of is None and f"{queue.name}-dlq" in self.queues:
            target = self.queues[f"{queue.name}-dlq"].arn
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": 5}
            )
        return {"Attributes": attributes}

    def get_paginator(self, operation: str) -> Any:
        client = self

        class Sources:
            def paginate(self, QueueUrl: str, **_: Any) -> Iterator[dict[str, Any]]:
                queue = client._queue(QueueUrl)
                urls = [client.url_prefix + queue.dlq_of] if queue.dlq_of else []
                yield {"queueUrls": urls}

        if operation != "list_dead_letter_source_queues":
            raise NotImplementedError(operation)
        return Sources()

    def _wire_body(self, dlq: _Queue, n: int) -> str:
        """Message ``n``'s body as it appears in SQS's JSON answer (escaped, emoji as \\u
        escapes), built by joining pieces: json.dumps of 1 MiB strings would take the bench
        longer than the report."""
        if n % 2:
            error = ("PaymentTimeout", "CardDeclined", "InventoryLocked")[n % 3]
            head = f'{{"order": {{"id": {n}, "lines": [{n}, {n + 1}]}}, "error": "{error}", '
            head += '"payload": "'
            tail = EMOJI + '"}'
        else:
            head, tail = f"order {n} of {dlq.name} failed at step {n % 7}: ", EMOJI
        pad = max(0, self.body_bytes - len(head.encode()) - len(tail.encode()))
        return json.dumps(head)[:-1] + "x" * pad + json.dumps(tail)[1:]

    def _sent_ms(self, n: int) -> int:
        # Spread over 8, 9 and 10 March (UTC): a third of them arrived "yesterday".
        day = datetime(2026, 3, 8, 12, tzinfo=UTC) + timedelta(days=n % 3, seconds=n)
        return int(day.timestamp() * 1000)

    def receive_message(
        self,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        **_: Any,
    ) -> dict[str, Any]:
        queue = self._queue(QueueUrl)
        messages = []
        while queue.visible and len(messages) < MaxNumberOfMessages:
            n = queue.visible.popleft()
            handle = f"{queue.name}#{n}#{uuid.uuid4().hex}".ljust(RECEIPT_HANDLE_CHARS, "A")
            # one in ten is poison (already redriven MAX_REDRIVES times)
            attributes = (
                '{"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}'
                if n % 10 == 0
                else "{}"
            )
            messages.append(
                f'{{"MessageId": "{queue.name}-{n:06d}", "ReceiptHandle": "{handle}", '
                f'"Body": {self._wire_body(queue, n)}, '
                f'"Attributes": {{"SentTimestamp": "{self._sent_ms(n)}", '
                f'"ApproximateReceiveCount": "1"}}, "MessageAttributes": {attributes}}}'
            )
        self.received += len(messages)
        # What arrives on the wire, then what botocore parses out of it (json.loads too).
        wire = ('{"Messages": [' + ", ".join(messages) + "]}").encode()
        del messages
        parsed: dict[str, Any] = json.loads(wire)
        return parsed

    def change_message_visibility_batch(
        self,
        QueueUrl: str,
        Entries: list[dict[str, Any]],
        **_: Any,
    ) -> dict[str, Any]:
        queue = self._queue(QueueUrl)
        for entry in Entries:
            if entry.get("VisibilityTimeout") == 0:
                queue.visible.append(int(entry["ReceiptHandle"].split("#")[1]))
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class _Context:
    """The Lambda context the handler reads: its name and remaining time."""

    def __init__(self, timeout_s: float = 900.0) -> None:
        self.function_name = FUNCTION_NAME
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{FUNCTION_NAME}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def child(dlqs: int, messages: int, body_bytes: int) -> dict[str, Any]:
    """Run the report once in this process; what it did (the parent measures the memory)."""
    import logging

    import handlers.daily
    from bot.composition import build_daily_job

    logging.disable(logging.WARNING)  # the powertools logger's lines are not the figure
    sqs = GeneratingSqsClient(dlqs, messages, body_bytes)
    env = {
        **os.environ,
        "DLQ_QUEUES": ",".join(f"svc{i:02d}-dlq" for i in range(dlqs)),
        "REPORT_SAMPLE_SIZE": str(messages),
        "TIMEZONE": "UTC",
        "ERROR_ATTRIBUTE": "error",
    }
    handlers.daily.job.use(build_daily_job(env, sqs_client=sqs))  # type: ignore[arg-type]
    started = time.monotonic()
    event = {"time": RUN_TIME, "detail-type": "Scheduled Event", "source": "aws.events"}
    outcome = handlers.daily.handler(event, _Context())
    return {
        "status": outcome.get("status"),
        "dlqs": outcome.get("dlqs"),
        "total": outcome.get("total"),
        "unreadable": outcome.get("unreadable"),
        "received": sqs.received,
        "seconds": round(time.monotonic() - started, 1),
    }


# --- the parent: servers, the child process, the figure -----------------------------------------


def daily_memory_mb(path: Path = ROOT / "serverless.yml") -> int:
    """``functions.daily.memorySize`` from serverless.yml (CloudFormation tags read as text)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load(path.read_text(), Loader=Loader)
    return int(config["functions"]["daily"]["memorySize"])


def measure(dlqs: int = 60, messages: int = 1000, body_kib: int = 256) -> dict[str, Any]:
    """Peak RSS of the report with ``body_kib`` bodies and with 64-byte ones, and the target."""
    import boto3

    from bot.state_table import create_state_table
    from infra.local.moto_server import local_aws
    from infra.local.slack_api import SlackApiServer

    results: dict[str, Any] = {
        "dlqs": dlqs,
        "messages_per_dlq": messages,
        "sqs": "generated on receive (no server): see bench/report_memory.py",
    }
    with local_aws(os.environ) as aws, SlackApiServer() as slack:
        client = boto3.client("dynamodb")
        for label, body_bytes in (("small", 64), ("large", body_kib * 1024)):
            aws.reset()
            create_state_table(client, "dlq-redrive-state")
            env = {
                **os.environ,
                **aws.env,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": slack.api_url,
                "STATE_TABLE": "dlq-redrive-state",
                "REPORT_CHANNEL": "C0BENCH",
                "POWERTOOLS_METRICS_NAMESPACE": "DlqRedrive",
                "PYTHONPATH": str(ROOT),
            }
            started = time.monotonic()
            peak, run = peak_rss(dlqs, messages, body_bytes, env)
            run["peak_rss_mb"] = peak
            run["body_bytes"] = body_bytes
            run["wall_s"] = round(time.monotonic() - started, 1)
            expected = dlqs * messages
            if run["status"] != "reported" or run["received"] != expected or run["unreadable"]:
                raise RuntimeError(f"report with {label} bodies did not read everything: {run}")
            results[label] = run
        results["slack_refusals"] = [c.refused for c in slack.state.refusals]
        results["slack_posts"] = len(slack.state.calls_to("chat.postMessage"))
    memory = daily_memory_mb()
    results["function_memory_mb"] = memory
    results["target_mb"] = memory / 2
    return results


def peak_rss(
    dlqs: int, messages: int, body_bytes: int, env: dict[str, str]
) -> tuple[float, dict[str, Any]]:
    """Run the child; (its peak RSS in MB as the kernel measured it, what it printed)."""
    args = ["--child", "--dlqs", str(dlqs), "--messages", str(messages)]
    result, usage = run_child("bench.report_memory", [*args, "--body-bytes", str(body_bytes)], env)
    return peak_rss_mb(usage), result


def rows(section: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) rows of this section for bench.run's table."""
    large, small = section["large"], section["small"]
    kib = large["body_bytes"] // 1024
    target = section["target_mb"]
    return [
        (
            f"daily report peak RSS: {section['dlqs']} DLQs x {section['messages_per_dlq']:,} "
            f"sampled, {kib} KiB bodies (SQS generated on receive)",
            f"{large['peak_rss_mb']} MB in {large['seconds']} s",
            f"< {target:g} MB (half of {section['function_memory_mb']} MB)",
            large["peak_rss_mb"] < target,
        ),
        (
            "  daily report with 64-byte bodies (baseline)",
            f"{small['peak_rss_mb']} MB in {small['seconds']} s",
            "(for reading)",
            None,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_memory", description=__doc__)
    parser.add_argument("--dlqs", type=int, default=60)
    parser.add_argument("--messages", type=int, default=1000, help="per DLQ, all sampled")
    parser.add_argument("--body-kib", type=int, default=256)
    parser.add_argument("--body-bytes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.dlqs, args.messages, args.body_bytes)))
        return 0
    print(json.dumps(measure(args.dlqs, args.messages, args.body_kib), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
