"""The App Home tab's publish and the alert check, at 100 and 500 DLQs (a section of make bench).

    make bench BENCH_ARGS='--only home-alerts'   # this section alone (about 3 minutes)

Issue 14 asks that opening the Home tab be fast (one batch of GetQueueAttributes, no message
received) and that the alert check every few minutes be cheap. Both are timed here as production
runs them, on LocalStack's SQS (``bench.run`` starts it), the state table on moto (as the
incident drills do) and Slack on the local Web API server (``infra.local.slack_api``), in a
child process of their own (``--child``: the powertools logs stay out of the table):

- **The Home tab**: the worker built by ``bot.composition.build_worker`` handles a ``HomeJob``
  (``HomePublisher.publish``: ``HomeReader.read``, ``home_view``, ``views.publish``). The first
  open after the worker is built (its clients connect) is reported apart from the next ones.
- **The alert check**: ``handlers.alerts.handler`` (the alerts function's entry point, the job
  from ``bot.composition.build_alert_job``) on one scheduled event: first when every DLQ has
  just started filling (each one NEW: one grouped message), then five minutes later with nothing
  changed (the usual check: no post).

The DLQs grow from 100 to 500 (each with its source queue, whose RedrivePolicy names it, as
discovery finds them: ``DLQ_QUEUES`` is not set), holding 1 to 20 messages each, sent straight
into the DLQ (only their counts are read here). Each has 7 days of daily-report snapshots and a
last scan's facts (three error groups) in the state table, so the tab draws what it would after a
week of reports. Every SQS and DynamoDB call is counted by operation on the clients the jobs use
(``bench.movers.CallCounter``): the proof that the tab and the check read each queue's attributes
once and receive nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.child import run_child
from bench.movers import CallCounter
from bench.seed import Pair, client, create_pair

SIZES = (100, 500)
# The first open after the worker is built, then two more (their median): on moto an open at
# 500 DLQs takes about a minute (see _home_parts).
OPENS = 3
USER = "UBENCHHOME"
CHANNEL = "C0ALERTS"
PREFIX = "bench-home"
# Targets (docs/benchmarks.md says why): the worker's part of an open at 100 DLQs, leaving ~1 s
# of a person's ~3 s patience to the endpoint's ack and Lambda's asynchronous invoke; an alert
# check at 500 DLQs within half its function's 60 s timeout (Slack's 429 waits get the rest).
HOME_TARGET_S = 2.0
HOME_TARGET_DLQS = 100
ALERT_TARGET_S = 30.0
ALERT_TARGET_DLQS = 500


def _depth(index: int) -> int:
    return index % 20 + 1


def seed_dlqs(sqs: Any, start: int, stop: int) -> list[Pair]:
    """DLQs ``start`` to ``stop - 1``, each with its source and ``_depth(index)`` messages."""

    def one(index: int) -> Pair:
        pair = create_pair(sqs, f"{PREFIX}-{index:04d}")
        for first in range(0, _depth(index), 10):
            count = min(10, _depth(index) - first)
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": json.dumps({"n": first + i})} for i in range(count)
            ]
            if sqs.send_message_batch(QueueUrl=pair.dlq_url, Entries=entries).get("Failed"):
                raise RuntimeError(f"seeding {pair.dlq_name} failed")
        return pair

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(start, stop)))


def seed_state(table: Any, pairs: list[Pair], now: datetime) -> None:
    """A week of report snapshots and the last scan's facts for each DLQ."""
    from bot.daily.scan_facts import ScanFactsStore
    from bot.daily.snapshots import Snapshot, SnapshotStore
    from bot.slack.home_model import ErrorGroupFact, ScanFacts

    today = now.date()
    snapshots = [
        Snapshot(pair.dlq_name, today - timedelta(days=day), depth, exact=True)
        for index, pair in enumerate(pairs)
        for day, depth in ((d, max(_depth(index) - d, 0)) for d in range(1, 8))
    ]
    SnapshotStore(table).put_all(snapshots, taken_at=now)
    errors = (ErrorGroupFact("Timeout", 5), ErrorGroupFact("Declined", 3), ErrorGroupFact("5xx", 1))
    facts = [
        ScanFacts(
            dlq=pair.dlq_name,
            scanned_at=now - timedelta(hours=3),
            messages=_depth(index),
            complete=True,
            oldest_sent=now - timedelta(days=2),
            next_expiry=now + timedelta(days=2),
            top_errors=errors,
        )
        for index, pair in enumerate(pairs)
    ]
    ScanFactsStore(table).put_all(facts, now=now)


def _counted_clients() -> tuple[Any, CallCounter, Any, CallCounter]:
    """An SQS and a DynamoDB client, each with its call counter."""
    import boto3

    sqs, dynamodb = client(), boto3.client("dynamodb")
    return sqs, CallCounter(sqs), dynamodb, CallCounter(dynamodb)


def home(env: dict[str, str], slack: Any, dlqs: int) -> dict[str, Any]:
    """``OPENS`` Home tab publishes by a freshly built worker: seconds, calls, the view's size."""
    from bot.composition import build_worker
    from bot.slack.protocol import HomeJob

    sqs, sqs_calls, dynamodb, table_calls = _counted_clients()
    worker = build_worker(env, sqs_client=sqs, dynamodb_client=dynamodb)
    assert worker.home is not None
    seconds: list[float] = []
    calls: list[dict[str, dict[str, int]]] = []
    for n in range(OPENS):
        job = HomeJob(USER, "T_LOCAL", datetime.now(UTC).isoformat(), f"Ev{n}", "opened")
        started = time.perf_counter()
        worker.home.publish(job)
        seconds.append(time.perf_counter() - started)
        calls.append({"sqs": dict(sqs_calls.taken()), "dynamodb": dict(table_calls.taken())})
    parts = _home_parts(worker.home.reader, seconds)
    view = slack.state.home.views[USER]
    refused = slack.state.take_refusals()
    if refused or len(view["blocks"]) > 100:
        raise RuntimeError(f"home view refused or too long: {refused[:1]}, {len(view['blocks'])}")
    text = json.dumps(view)
    return {
        "dlqs": dlqs,
        "first_s": round(seconds[0], 3),
        "next_median_s": round(statistics.median(seconds[1:]), 3),
        "next_max_s": round(max(seconds[1:]), 3),
        "calls": calls[-1],
        "same_calls_each_open": all(c == calls[1] for c in calls[1:]),
        "blocks": len(view["blocks"]),
        "view_kb": round(len(text.encode()) / 1024, 1),
        **parts,
    }


def _home_parts(reader: Any, seconds: list[float]) -> dict[str, Any]:
    """Where an open's time goes, each part read once more on its own: the DLQs' counts (SQS),
    the trends (BatchGetItem of every DLQ's 7 report days, 100 keys a call, 8 calls at once:
    ``SnapshotStore.histories``) and the other state table reads (scan facts, pending
    approvals, runs), all on moto."""

    started = time.perf_counter()
    dlqs, _ = reader.queues.catalog().read_watched()
    sqs_s = time.perf_counter() - started
    names = [dlq.name for dlq in dlqs]
    today = datetime.now(UTC).date()
    started = time.perf_counter()
    reader.snapshots.histories(names, today - timedelta(days=7), today - timedelta(days=1))
    trends_s = time.perf_counter() - started
    started = time.perf_counter()
    reader.scan_facts.get_many(names)
    reader.state.pending_requests(datetime.now(UTC))
    reader.state.recent_runs(reader.options.recent_runs)
    others_s = time.perf_counter() - started
    return {
        "sqs_read_s": round(sqs_s, 3),
        "trend_queries_s": round(trends_s, 3),
        "trend_query_ms": round(1000 * trends_s / max(len(names), 1), 1),
        "other_table_reads_s": round(others_s, 3),
    }


def alert_checks(env: dict[str, str], slack: Any, dlqs: int) -> dict[str, Any]:
    """Two scheduled checks through the alerts function's handler: every DLQ new, then steady."""
    import handlers.alerts
    from bot.composition import build_alert_job
    from infra.local.lambda_server import LocalLambdaContext

    sqs, sqs_calls, dynamodb, table_calls = _counted_clients()
    # In the past: the local Slack server stamps messages with the real time.
    first = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    at = {"now": first}
    handlers.alerts.job.use(
        build_alert_job(env, sqs_client=sqs, dynamodb_client=dynamodb, clock=lambda: at["now"])
    )
    checks: dict[str, Any] = {}
    for name, when in (("all_new", first), ("steady", first + timedelta(minutes=5))):
        at["now"] = when
        posts_before = len(slack.state.calls_to("chat.postMessage"))
        event = {"time": when.isoformat().replace("+00:00", "Z")}
        context = LocalLambdaContext("dlq-redrive-alerts", 60.0, str(uuid.uuid4()))
        started = time.perf_counter()
        outcome = handlers.alerts.handler(event, context)
        elapsed = time.perf_counter() - started
        posts = len(slack.state.calls_to("chat.postMessage")) - posts_before
        checks[name] = {
            "seconds": round(elapsed, 3),
            "status": outcome.get("status"),
            "watched": outcome.get("watched"),
            "alerted": len(outcome.get("alerted", [])),
            "posts": posts,
            "calls": {"sqs": dict(sqs_calls.taken()), "dynamodb": dict(table_calls.taken())},
        }
    handlers.alerts.job.use(None)
    refused = slack.state.take_refusals()
    new, steady = checks["all_new"], checks["steady"]
    if refused or new["watched"] != dlqs or new["alerted"] != dlqs or steady["alerted"] != 0:
        raise RuntimeError(f"alert checks at {dlqs} DLQs: {checks}, refused {refused[:1]}")
    return {"dlqs": dlqs, **checks}


def child(sizes: Sequence[int]) -> dict[str, Any]:
    """This section in this process: moto and the local Slack here, SQS where ``env`` points."""
    import boto3

    from bot.state_table import create_state_table
    from infra.local.moto_server import local_aws
    from infra.local.slack_api import SlackApiServer

    results: dict[str, Any] = {"sizes": list(sizes), "home": [], "alerts": []}
    sqs = client()
    pairs: list[Pair] = []
    with local_aws() as moto, SlackApiServer() as slack:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto.env["AWS_ENDPOINT_URL"]
        slack.state.add_user(USER)
        for size in sorted(sizes):
            pairs += seed_dlqs(sqs, len(pairs), size)
            listed = len(sqs.list_queues(QueueNamePrefix=PREFIX, MaxResults=1000)["QueueUrls"])
            if listed != 2 * size:
                raise RuntimeError(f"{listed} bench queues listed, {2 * size} expected")
            # Discovery reads every queue in the account (a full make bench may hold others).
            pages = sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000})
            queues = sum(len(page.get("QueueUrls", [])) for page in pages)
            table = f"bench-home-{size}"
            create_state_table(boto3.client("dynamodb"), table)
            env = {
                **os.environ,
                "TIMEZONE": "UTC",
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_TEAM_ID": "T_LOCAL",  # the workspace the local Slack server plays
                "SLACK_API_URL": slack.api_url,
                "STATE_TABLE": table,
                "WORKER_FUNCTION_NAME": "worker",
                "JOB_SIGNING_KEY": "bench-job-signing-key-of-32-bytes-or-more",
                "APPROVERS": USER,  # may read bodies: the tab shows the error groups too
                "REPORT_CHANNEL": CHANNEL,
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
            from bot.state_table import StateTable

            seed_state(StateTable(table), pairs, datetime.now(UTC))
            results["home"].append({**home(env, slack, size), "queues": queues})
            results["alerts"].append({**alert_checks(env, slack, size), "queues": queues})
    return results


def measure(sizes: Sequence[int], env: dict[str, str]) -> dict[str, Any]:
    """This section in a child process, against the SQS ``env`` points at (LocalStack)."""
    child_env = {**env, "POWERTOOLS_LOG_LEVEL": "WARNING"}
    out, _ = run_child("bench.home_alerts", ["--child", ",".join(map(str, sizes))], child_env)
    return out


def _calls(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) or "none"


def _sqs_row(
    figure: str, run: dict[str, Any], calls: dict[str, dict[str, int]]
) -> tuple[str, str, str, bool | None]:
    """Met when every queue in the account had its attributes read once and nothing was
    received (discovery reads every queue: the DLQs and their sources)."""
    sqs, queues = calls["sqs"], run["queues"]
    once = sqs.get("GetQueueAttributes") == queues and not sqs.get("ReceiveMessage")
    return figure, _calls(sqs), f"GetQueueAttributes {queues} (once a queue), no receive", once


def rows(section: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) rows of this section for bench.run's table."""
    out: list[tuple[str, str, str, bool | None]] = []
    for run in section["home"]:
        n = run["dlqs"]
        on_target = n == HOME_TARGET_DLQS
        out.append(
            (
                f"home tab publish, {n} DLQs: first / next (median, max)",
                f"{run['first_s']} / {run['next_median_s']} s ({run['next_max_s']} s)",
                f"next <= {HOME_TARGET_S:g} s" if on_target else "(for reading)",
                run["next_median_s"] <= HOME_TARGET_S if on_target else None,
            )
        )
        out.append(_sqs_row(f"  home tab SQS calls, {n} DLQs + {n} sources", run, run["calls"]))
        out.append(
            (
                f"  home tab parts alone, {n} DLQs: SQS / trends / other table reads",
                f"{run['sqs_read_s']} / {run['trend_queries_s']} / {run['other_table_reads_s']} s",
                f"(moto: {run['trend_query_ms']} ms of trend a DLQ, batch gets)",
                None,
            )
        )
        out.append(
            (
                f"  home tab state table calls, {n} DLQs",
                _calls(run["calls"]["dynamodb"]),
                f"({run['blocks']} blocks, {run['view_kb']} KB)",
                None,
            )
        )
    for run in section["alerts"]:
        n = run["dlqs"]
        on_target = n == ALERT_TARGET_DLQS
        for name, label in (("all_new", "every DLQ new"), ("steady", "nothing new")):
            check = run[name]
            out.append(
                (
                    f"alert check, {n} DLQs, {label} ({check['posts']} Slack posts)",
                    f"{check['seconds']} s",
                    f"<= {ALERT_TARGET_S:g} s (timeout 60 s)" if on_target else "(for reading)",
                    check["seconds"] <= ALERT_TARGET_S if on_target else None,
                )
            )
            figure = f"  alert check SQS calls, {n} DLQs + {n} sources, {label}"
            out.append(_sqs_row(figure, run, check["calls"]))
            out.append(
                (
                    f"  alert check state table calls, {n} DLQs, {label}",
                    _calls(check["calls"]["dynamodb"]),
                    "",
                    None,
                )
            )
    return out


if __name__ == "__main__":
    if sys.argv[1:2] != ["--child"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -m bench.home_alerts --child 100,500 (run by bench.run)")
    print(json.dumps(child([int(size) for size in sys.argv[2].split(",")])))
