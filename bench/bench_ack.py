"""Slash-command ack time of the Slack endpoint (``handlers.slack.handler``), warm and cold.

What is timed is exactly what Slack waits for: a signed HTTP API event in, the HTTP response
out — signature check, parsing and validation, and the asynchronous ``lambda.invoke`` of the
worker (served by the local Lambda endpoint, whose worker does nothing, so only the ack counts).

- warm: one process, the app already built, ``REQUESTS`` acks of ``redrive orders-dlq
  --yesterday --limit 50`` (the heaviest ack: parse, validate the selection, dispatch).
- cold: a fresh interpreter per run: import ``handlers.slack`` then the first request (the app
  is built on it), ``COLD_RUNS`` times; the median is reported.
- the App Home and the request modal (issue 14), warm, ``REQUESTS`` acks each: an
  ``app_home_opened`` event (a new ``event_id`` each: the ack hands a ``HomeJob`` to the worker),
  and ``/dlq-redrive`` with no arguments, whose ack opens the loading modal with ``views.open``
  (the one network call an ack makes: a trigger_id lives 3 s), here on the local Slack Web API
  server (``infra.local.slack_api``, a trigger it handed out each time). Slack's own latency for
  views.open is not in this figure; 127.0.0.1 has next to none.

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
from collections.abc import Callable
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

    def command(index: int) -> None:
        body = command_body(COMMAND, user="U1", channel="C1", response_url="http://127.0.0.1:9/r")
        response = handlers.slack.handler(http_event(body, SECRET), context)
        if response["statusCode"] != 200:
            raise SystemExit(f"ack failed: {response}")

    return _figures("warm", _timed(command, REQUESTS))


def _timed(send: Callable[[int], None], requests: int) -> list[float]:
    """Milliseconds of ``send(index)`` for ``requests`` calls after ``WARMUP`` untimed ones."""
    timings: list[float] = []
    for index in range(WARMUP + requests):
        started = time.perf_counter()
        send(index)
        if index >= WARMUP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _figures(name: str, timings: list[float]) -> dict[str, float]:
    return {
        f"{name}_p50_ms": round(_percentile(timings, 50), 2),
        f"{name}_p99_ms": round(_percentile(timings, 99), 2),
        f"{name}_max_ms": round(max(timings), 2),
    }


def warm_home_and_modal(endpoint_url: str) -> dict[str, float]:
    """Acks of ``app_home_opened`` and of ``/dlq-redrive`` with no arguments (views.open)."""
    import handlers.slack
    from infra.local.lambda_server import LocalLambdaContext
    from infra.local.slack_api import SlackApiServer
    from infra.local.slack_events import command_body, event_callback_body, home_opened, http_event

    context = LocalLambdaContext("slack", 10.0, "warm-home")
    with SlackApiServer() as slack:
        env = {**ENV, "AWS_ENDPOINT_URL_LAMBDA": endpoint_url, "SLACK_API_URL": slack.api_url}
        os.environ.update(env)
        handlers.slack.endpoint.reset(env)

        def home(index: int) -> None:
            body = event_callback_body(home_opened("U1"), event_id=f"Ev{index:08d}")
            response = handlers.slack.handler(
                http_event(body, SECRET, content_type="application/json"), context
            )
            if response["statusCode"] != 200:
                raise SystemExit(f"app_home_opened ack failed: {response}")

        def modal(index: int) -> None:
            trigger = slack.state.modals.new_trigger()
            body = command_body(
                "", user="U1", channel="C1", response_url="http://127.0.0.1:9/r", trigger_id=trigger
            )
            response = handlers.slack.handler(http_event(body, SECRET), context)
            if response["statusCode"] != 200:
                raise SystemExit(f"/dlq-redrive ack failed: {response}")

        figures = _figures("home_opened", _timed(home, REQUESTS))
        figures.update(_figures("modal_open", _timed(modal, REQUESTS)))
        opened = len(slack.state.calls_to("views.open"))
        refused = slack.state.take_refusals()
    if opened != WARMUP + REQUESTS or refused:
        raise SystemExit(f"{opened} views.open calls, {len(refused)} refused")
    return figures


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
        figures.update(warm_home_and_modal(server.endpoint_url))
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
