"""Slash-command ack time of the Slack endpoint (``handlers.slack.handler``), warm and cold.

What is timed is exactly what Slack waits for: a signed HTTP API event in, the HTTP response
out — signature check, parsing and validation, and the asynchronous ``lambda.invoke`` of the
worker (served by the local Lambda endpoint, whose worker does nothing, so only the ack counts).

- warm: one process, the app already built, ``REQUESTS`` acks of ``redrive orders-dlq
  --yesterday --limit 50`` (the heaviest ack: parse, validate the selection, dispatch).
- cold: a fresh interpreter per run: import ``handlers.slack`` then the first request (the app
  is built on it), ``COLD_RUNS`` times; the median is reported.

Prints one JSON object on the last line (``warm_p50_ms`` first; ``bench/run.py`` reads it).
Run: ``.venv/bin/python bench/bench_ack.py``
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REQUESTS = 200
WARMUP = 20
COLD_RUNS = 5
COMMAND = "redrive orders-dlq --yesterday --limit 50"
SECRET = "bench-ack-secret"
TARGET_P99_MS = 100.0

ENV = {
    "SLACK_BOT_TOKEN": "xoxb-bench",
    "SLACK_SIGNING_SECRET": SECRET,
    "SLACK_TEAM_ID": "T_LOCAL",  # the team infra.local.slack_events signs requests from
    "JOB_SIGNING_KEY": "bench-job-signing-key-of-32-bytes-or-more",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never called on the ack path
    "WORKER_FUNCTION_NAME": "worker",
    "STATE_TABLE": "dlq-redrive-bench",
    "TIMEZONE": "UTC",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

# Runs in the fresh interpreter: time the import, then the first request.
_COLD_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import handlers.slack
t1 = time.perf_counter()
from infra.local.lambda_server import LocalLambdaContext
from infra.local.slack_events import command_body, http_event
event = http_event(command_body(sys.argv[1], user="U1", channel="C1",
                                response_url="http://127.0.0.1:9/r"), sys.argv[2])
t2 = time.perf_counter()
response = handlers.slack.handler(event, LocalLambdaContext("slack", 10.0, "cold"))
t3 = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"import_ms": (t1 - t0) * 1000, "first_request_ms": (t3 - t2) * 1000}))
"""


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def warm(endpoint_url: str) -> dict[str, float]:
    import handlers.slack
    from infra.local.lambda_server import LocalLambdaContext
    from infra.local.slack_events import command_body, http_event

    env = {**ENV, "AWS_ENDPOINT_URL_LAMBDA": endpoint_url}
    os.environ.update(env)  # boto3 reads its endpoint from the process, as in Lambda
    handlers.slack.endpoint.reset(env)
    context = LocalLambdaContext("slack", 10.0, "warm")
    timings: list[float] = []
    for index in range(WARMUP + REQUESTS):
        body = command_body(COMMAND, user="U1", channel="C1", response_url="http://127.0.0.1:9/r")
        event = http_event(body, SECRET)
        started = time.perf_counter()
        response = handlers.slack.handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        if response["statusCode"] != 200:
            raise SystemExit(f"ack failed: {response}")
        if index >= WARMUP:
            timings.append(elapsed)
    return {
        "warm_p50_ms": round(_percentile(timings, 50), 2),
        "warm_p99_ms": round(_percentile(timings, 99), 2),
        "warm_max_ms": round(max(timings), 2),
    }


def cold(endpoint_url: str) -> dict[str, float]:
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL_LAMBDA": endpoint_url, "PYTHONPATH": str(ROOT)}
    runs: list[dict[str, float]] = []
    for _ in range(COLD_RUNS):
        result = subprocess.run(
            [sys.executable, "-c", _COLD_SCRIPT, COMMAND, SECRET],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    imports = [r["import_ms"] for r in runs]
    firsts = [r["first_request_ms"] for r in runs]
    totals = [r["import_ms"] + r["first_request_ms"] for r in runs]
    return {
        "cold_import_ms": round(statistics.median(imports), 1),
        "cold_first_request_ms": round(statistics.median(firsts), 1),
        "cold_total_ms": round(statistics.median(totals), 1),
        "cold_total_max_ms": round(max(totals), 1),
    }


def main() -> int:
    from infra.local.lambda_server import LambdaServer

    def idle_worker(event: Any, context: Any) -> None:
        return None

    with LambdaServer({"worker": idle_worker}) as server:
        figures: dict[str, Any] = warm(server.endpoint_url)
        figures.update(cold(server.endpoint_url))
        server.wait_idle(60)
    figures.update(
        {
            "requests": REQUESTS,
            "cold_runs": COLD_RUNS,
            "command": f"/dlq-redrive {COMMAND}",
            "target_warm_p99_ms": TARGET_P99_MS,
            "slack_limit_ms": 3000,
        }
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
