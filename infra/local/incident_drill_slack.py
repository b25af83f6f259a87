"""Issue 11's on-call drill through Slack, at full size on LocalStack: every figure an approval
card shows is set beside what was seeded and what the queues hold afterwards.

    python -m infra.local.incident_drill_slack --out /tmp/drill11     # ~6 minutes on 2 cores

The scene is ``incident_drill``'s generator over five days (D-4 … D, the day in each body's
``occurredAt``): ``orders-dlq`` 30,000 (sources ``orders`` 18,000 and ``orders-retry``
12,000, dead-lettered by SQS so each carries its source), ``payments-dlq.fifo`` 3,000 in 40
groups. SQS on LocalStack, the state table on moto, Slack on the local Slack server, the worker
on the local Lambda endpoint; every request is signed as Slack signs it and goes through
``handlers.slack.handler``. People: ``U0ALICE`` and ``U0BOB`` approve, ``U0CAROL`` may view
bodies (VIEWERS), ``U0MALLORY`` is a member who may neither, ``U0GUEST`` a guest.

Steps (transcript in ``--out``/transcript.txt, the table in table.txt):

A. Alice asks ``redrive orders-dlq --date D-4 --time-field occurredAt``; 150 messages of that day
   arrive after the count; Bob approves. Card figures vs the ledger; moved vs what reached the
   sources (drained and counted by id); late arrivals moved (must be 0); the DLQ's depth after.
B. Peek as Mallory, the guest and Carol; ``list`` and ``status``; Mallory clicks Approve.
C. Alice asks for D-3; Bob approves; the worker runs in its own process and is killed (SIGKILL)
   midway; Lambda's on-failure record goes to ``handlers.failed.handler``: the card must say
   failed, why, and figures that are true of what the run did.
D. Alice asks for everything (pinned by time only when over ``PIN_MAX_IDS`` matched): 200
   messages sent to ``orders`` before the count are dead-lettered after it, 200 are sent after
   it; Bob approves (the worker's budget forces continuations). The run must move at most the
   counted N and none sent after the pin's time.
E. The same request-approve on ``payments-dlq.fifo --date D-4``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bench.seed import depth
from bot.slack.ids import ActionId
from infra.local.demo_slack import JOB_KEY, SECRET, TABLE, render
from infra.local.incident_drill import Scene, Seeded, _id_of, plan, seed, take_from, truth

ALICE, BOB, CAROL, MALLORY, GUEST = "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY", "U0GUEST"
CHANNEL = "C0OPS"
LATE_BASE = 100_000  # ids of messages added during the drill (the seeded ones are below)
SCENE_11: Scene = (
    ("orders-dlq", False, {"orders": 18000, "orders-retry": 12000}, (0.2, 0.2, 0.2, 0.2, 0.2)),
    ("payments-dlq.fifo", True, {"payments.fifo": 3000}, (0.2, 0.2, 0.2, 0.2, 0.2)),
)


@dataclass
class Row:
    step: str
    figure: str
    shown: str
    truth: str
    ok: bool | None  # None: shown for the record, nothing to compare


class Drill:
    """The conversation, the ledger and the table."""

    def __init__(self, out: Path, slack: Any, lambdas: Any, sqs: Any, urls: dict[str, str]):
        self.out, self.slack, self.lambdas, self.sqs, self.urls = out, slack, lambdas, sqs, urls
        self.rows: list[Row] = []
        self.shown = 0
        self.n = 0
        self.transcript = (out / "transcript.txt").open("w")

    # --- talking to the app ------------------------------------------------------------------

    def _send(self, body: str) -> dict[str, Any]:
        import handlers.slack
        from infra.local.lambda_server import LocalLambdaContext
        from infra.local.slack_events import http_event

        self.n += 1
        return handlers.slack.handler(
            http_event(body, SECRET), LocalLambdaContext("slack", 10.0, f"drill-{self.n}")
        )

    def command(self, user: str, text: str, *, wait: bool = True) -> str:
        from infra.local.slack_events import command_body

        self.log(f"\n>>> {user}: /dlq-redrive {text}")
        url = self.slack.response_url(f"drill{self.n}")
        response = self._send(command_body(text, user=user, channel=CHANNEL, response_url=url))
        ack = json.loads(response["body"]).get("text", "") if response.get("body") else ""
        self.log(f"    HTTP {response['statusCode']} {ack}")
        if wait:
            self.settle()
        return str(ack)

    def click(self, user: str, action: str, request_id: str, ts: str, *, wait: bool = True) -> None:
        from infra.local.slack_events import action_body

        self.log(f"\n>>> {user} clicks {action} on {request_id}")
        url = self.slack.response_url(f"drill{self.n}")
        body = action_body(
            action, request_id, user=user, channel=CHANNEL, message_ts=ts, response_url=url
        )
        response = self._send(body)
        self.log(f"    HTTP {response['statusCode']}")
        if wait:
            self.settle()

    def settle(self, timeout: float = 900.0) -> None:
        self.lambdas.wait_idle(timeout)
        for invocation in self.lambdas.errors():
            self.log(f"    worker error: {invocation.error!r}")
        self.flush()

    def flush(self) -> list[Any]:
        calls = list(self.slack.state.calls)
        new = calls[self.shown :]
        for call in new:
            self.log(render(call))
        self.shown = len(calls)
        return new

    def log(self, text: str) -> None:
        self.transcript.write(text + "\n")
        self.transcript.flush()

    def check(self, step: str, figure: str, shown: object, truth: object, ok: bool | None) -> None:
        self.rows.append(Row(step, figure, str(shown), str(truth), ok))
        mark = "" if ok is None else (" OK" if ok else " MISMATCH")
        print(f"  [{step}] {figure}: shown {shown} | truth {truth}{mark}", flush=True)

    # --- what Slack shows ------------------------------------------------------------------------

    def last_card(self) -> tuple[str, str, dict[str, Any]]:
        from bot.state import StateStore
        from bot.state_table import StateTable

        post = self.slack.state.calls_to("chat.postMessage")[-1]
        actions = next(b for b in post.body["blocks"] if b["type"] == "actions")
        request_id = str(actions["elements"][0]["value"])
        request = StateStore(StateTable(TABLE)).get_request(request_id)
        return request_id, str(request.message_ts if request else ""), post.body

    def final_card(self, request_id: str) -> str:
        updates = [
            c
            for c in self.slack.state.calls_to("chat.update")
            if request_id in str(c.body.get("text", ""))
        ]
        return card_text(updates[-1].body) if updates else ""

    def responses_since(self, calls: list[Any]) -> str:
        return "\n".join(card_text(c.body) for c in calls if c.method == "response_url")


def card_text(body: dict[str, Any]) -> str:
    """Every text of a message: sections, fields, contexts, the confirm dialog."""
    parts: list[str] = []
    for block in body.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
        for element in block.get("elements", []):
            if "confirm" in element:
                parts.append("CONFIRM: " + element["confirm"]["text"]["text"])
    return "\n".join(parts) or str(body.get("text", ""))


def status_line(card: str) -> str:
    """The line of a card update that says where the run stands."""
    marks = (":white_check_mark:", ":x:", ":warning:", ":stop_sign:", ":hourglass")
    return next((line for line in card.splitlines() if line.startswith(marks)), "")


def num(pattern: str, text: str) -> int | None:
    found = re.search(pattern, text)
    return int(found.group(1).replace(",", "")) if found else None


# --- the queues -------------------------------------------------------------------------------


def add_late(
    sqs: Any,
    records: list[Seeded],
    urls: dict[str, str],
    *,
    source: str,
    day: date | None,
    count: int,
    start: int,
    dead_letter: bool = True,
) -> list[Seeded]:
    """Send ``count`` new messages (ids from ``start``) to ``source``; with ``dead_letter`` let
    SQS dead-letter them now (else the caller does later with ``dead_letter_all``)."""
    added = []
    for first in range(0, count, 10):
        entries = []
        for n in range(start + first, start + min(first + 10, count)):
            at = (
                datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()
                if day
                else datetime.now(UTC).isoformat()
            )
            body = json.dumps({"id": n, "source": source, "occurredAt": at, "late": True})
            entries.append({"Id": str(n - start - first), "MessageBody": body})
            dlq = "orders-dlq"
            added.append(
                Seeded(
                    dlq,
                    source,
                    n,
                    "dated",
                    (day or datetime.now(UTC).date()).isoformat(),
                    "iso",
                    0,
                    None,
                    False,
                    None,
                )
            )
        sqs.send_message_batch(QueueUrl=urls[source], Entries=entries)
    records.extend(added)
    if dead_letter:
        dead_letter_all(sqs, urls[source])
    return added


def dead_letter_all(sqs: Any, url: str) -> None:
    """Receive until SQS moved everything to the DLQ (maxReceiveCount 1)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if not got.get("Messages") and depth(sqs, url) == 0:
            return
    raise RuntimeError(f"{url} did not dead-letter in 2 minutes")


def in_flight(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessagesNotVisible"])


def drain_moved(
    drill: Drill, records: list[Seeded], dlq: str, sources: dict[str, int], by: str
) -> dict[str, int]:
    """What reached the sources since the last drain (received, distinct, copies)."""
    index = {(r.source, r.n): r for r in records}
    total = {"received": 0, "distinct": 0, "duplicates": 0, "again": 0}
    for source in sources:
        received = take_from(drill.sqs, drill.urls[source])
        ids = Counter(_id_of(m["Body"]) for m in received)
        total["received"] += len(received)
        total["duplicates"] += len(received) - len(ids)
        for n in ids:
            record = index[(source, n)]
            if record.where == "dlq":
                record.where = by
                total["distinct"] += 1
            else:  # a copy an earlier run sent and could not delete, moved once more
                total["again"] += 1
    total["distinct"] += total["again"]
    return total


# --- the steps --------------------------------------------------------------------------------


def request_and_approve(
    drill: Drill,
    records: list[Seeded],
    *,
    step: str,
    dlq: str,
    sources: dict[str, int],
    text: str,
    expect_matched: int,
    between: Callable[[], list[Seeded]] | None = None,
    excluded: Callable[[], list[Seeded]] | None = None,
) -> None:
    """Request, read the card, run ``between`` (new messages), approve, compare every figure."""
    url = drill.urls[dlq]
    depth_before = depth(drill.sqs, url)
    asked = datetime.now(UTC)
    drill.command(ALICE, text)
    counted = datetime.now(UTC)
    request_id, ts, card = drill.last_card()
    shown = card_text(card)
    (drill.out / f"card-{step}.txt").write_text(shown)
    matched_shown = num(r"Messages\*\n(?:up to )?([\d,]+)", shown)
    said = re.search(r"Messages\*\n([^\n]+)", shown)
    # "up to N" is a bound (the count could not see everything): true when N <= the truth.
    bound = said is not None and said.group(1).startswith("up to")
    drill.check(
        step,
        "card: messages",
        said.group(1) if said else None,
        f"{expect_matched} movable seeded",
        matched_shown is not None
        and (matched_shown <= expect_matched if bound else matched_shown == expect_matched),
    )
    scanned = num(r"Of ([\d,]+) checked", shown)
    # A count that stopped early says so and after how many: then fewer were checked.
    drill.check(
        step,
        "card: checked",
        scanned,
        f"{depth_before} in the DLQ",
        # ... or it says it could not see every message (stopped early, FIFO groups it could
        # not see past, SQS counting more than it was handed): a bound, said as one.
        scanned == depth_before
        or ("stopped early" in shown and f"after {scanned:,}" in shown)
        or "could not see past" in shown
        or f"SQS counts {depth_before:,}" in shown,
    )
    confirm = num(r"Move up to ([\d,]+) (?:counted )?message", shown)
    drill.check(step, "confirm: up to", confirm, matched_shown, confirm == matched_shown)
    expires = re.search(r"Expires\*\n([^\n]+)", shown)
    drill.check(
        step,
        "card: expires",
        expires.group(1) if expires else None,
        f"count at {counted:%H:%M:%S} + TTL",
        None,
    )
    pinned = re.search(r"sent before ([^,;]+)[,;]", shown)
    if pinned:
        drill.check(
            step,
            "card: pinned before",
            pinned.group(1),
            f"asked {asked:%H:%M:%S}, card {counted:%H:%M:%S}",
            None,
        )
    late = between() if between else []
    drill.check(step, "added after the count", len(late), "-", None)
    clicked = time.monotonic()
    drill.click(BOB, ActionId.APPROVE.value, request_id, ts)
    wall = time.monotonic() - clicked
    # Settle: held messages go back at once; wait for the DLQ's in-flight count to reach 0.
    for _ in range(60):
        if in_flight(drill.sqs, url) == 0:
            break
        time.sleep(1)
    final = drill.final_card(request_id)
    (drill.out / f"final-{step}.txt").write_text(final)
    got = drain_moved(drill, records, dlq, sources, step)
    moved_shown = num(r"moved \*([\d,]+)\*", final)
    drill.check(
        step,
        "final: moved",
        moved_shown,
        f"{got['distinct']} reached sources ({got['duplicates']} copies)",
        moved_shown == got["distinct"],
    )
    failed_shown = num(r"failed \*([\d,]+)\*", final)
    drill.check(step, "final: failed", failed_shown, "0", failed_shown == 0)
    skipped = num(r"skipped ([\d,]+)", final)
    drill.check(step, "final: skipped (need a human)", skipped, "-", None)
    if matched_shown is not None:
        drill.check(
            step,
            "moved <= counted N",
            got["distinct"],
            matched_shown,
            got["distinct"] <= matched_shown,
        )
    late_moved = sum(1 for r in late if r.where != "dlq")
    drill.check(step, "added after count, moved", late_moved, 0, late_moved == 0)
    if excluded is not None:
        not_ours = [r for r in excluded() if r.where != "dlq"]
        drill.check(step, "sent after the pin, moved", len(not_ours), 0, not not_ours)
    left = depth(drill.sqs, url)
    expected_left = depth_before + len(late) - got["distinct"]
    drill.check(step, "DLQ depth after", left, expected_left, left == expected_left)
    drill.check(step, "final status", status_line(final)[:90], "", None)
    took = re.search(r", in ([^ ]+(?: \d+s)?)", status_line(final))
    drill.check(
        step, "final: duration", took.group(1) if took else None, f"{wall:.1f} s click→idle", None
    )


def main() -> int:
    import handlers.failed
    import handlers.slack
    import handlers.worker
    from bot.selection import PIN_MAX_IDS
    from bot.slack.queues import WorkerOptions
    from bot.state_table import create_state_table
    from infra.local.incident_drill import _sqs
    from infra.local.lambda_server import LambdaServer
    from infra.local.localstack import localstack
    from infra.local.moto_server import local_aws
    from infra.local.slack_api import SlackApiServer
    from infra.local.slack_events import LOCAL_TEAM

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/drill11"))
    parser.add_argument(
        "--worker-timeout", type=float, default=60.0, help="the worker's budget (s)"
    )
    parser.add_argument(
        "--kill-after",
        type=int,
        default=1500,
        help="step C: kill the worker once its checkpoint says this many moved",
    )
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    day = {k: today - timedelta(days=k) for k in range(5)}
    records, payloads = plan(today, SCENE_11)
    orders = SCENE_11[0][2]
    with localstack() as ls, local_aws() as moto:
        os.environ.update(ls.env)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto.env["AWS_ENDPOINT_URL"]
        sqs = _sqs()
        started = time.monotonic()
        urls = seed(sqs, records, payloads, SCENE_11)
        print(f"seeded {len(records):,} in {time.monotonic() - started:.0f} s", flush=True)
        worker = "worker"
        with (
            SlackApiServer() as slack,
            LambdaServer(
                {worker: handlers.worker.handler}, timeouts={worker: args.worker_timeout}
            ) as lambdas,
        ):
            slack.state.add_user(ALICE)
            slack.state.add_user(BOB)
            slack.state.add_user(CAROL)
            slack.state.add_user(MALLORY)
            slack.state.add_user(GUEST, is_restricted=True)
            env = {
                **ls.env,
                "AWS_ENDPOINT_URL_DYNAMODB": moto.env["AWS_ENDPOINT_URL"],
                "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
                "TIMEZONE": "UTC",
                "MAX_REDRIVES": "3",
                "ERROR_ATTRIBUTE": "error",
                "SLACK_BOT_TOKEN": "xoxb-drill",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_TEAM_ID": LOCAL_TEAM,
                "JOB_SIGNING_KEY": JOB_KEY,
                "SLACK_API_URL": slack.api_url,
                "APPROVERS": f"{ALICE},{BOB}",
                "VIEWERS": CAROL,
                "STATE_TABLE": TABLE,
                "WORKER_FUNCTION_NAME": worker,
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
            os.environ.update(env)
            create_state_table(boto3.client("dynamodb"), TABLE)
            options = WorkerOptions(progress_interval_s=1.0)
            handlers.slack.endpoint.reset(env)
            handlers.worker.worker.reset(env, options=options)
            handlers.failed.router.reset(env)
            drill = Drill(out, slack, lambdas, sqs, urls)
            t = truth(records, today)["orders-dlq"]
            print("A: a day's request, new arrivals, approval", flush=True)
            day_a = day[4].isoformat()
            request_and_approve(
                drill,
                records,
                step="A",
                dlq="orders-dlq",
                sources=orders,
                text=f"redrive orders-dlq --date {day_a} --time-field occurredAt",
                expect_matched=t["by_day"][day_a]["movable"],
                between=lambda: add_late(
                    sqs, records, urls, source="orders", day=day[4], count=150, start=LATE_BASE
                ),
            )

            print("B: peek, list, status, a non-approver's click", flush=True)
            for who in (MALLORY, GUEST, CAROL):
                drill.command(who, "peek orders-dlq 2")
                said = drill.responses_since(drill.slack.state.calls[-1:])
                body_shown = '"occurredAt"' in said or "upstream said" in said
                drill.check(
                    "B",
                    f"peek as {who}: bodies shown",
                    body_shown,
                    who == CAROL,
                    body_shown == (who == CAROL),
                )
            drill.command(ALICE, "list")
            listed = drill.responses_since(drill.slack.state.calls[-1:])
            visible = num(r"orders-dlq` — \*([\d,]+)\*", listed)
            drill.check(
                "B",
                "list: orders-dlq visible",
                visible,
                depth(sqs, urls["orders-dlq"]),
                visible == depth(sqs, urls["orders-dlq"]),
            )
            drill.command(ALICE, "status")
            status = drill.responses_since(drill.slack.state.calls[-1:])
            (out / "status-B.txt").write_text(status)
            moved_a = sum(1 for r in records if r.where == "A")
            shown = num(r"moved ([\d,]+)", status)
            drill.check("B", "status: last run moved", shown, moved_a, shown == moved_a)

            print("C: the worker killed midway", flush=True)
            day_c = day[3].isoformat()
            depth_c = depth(sqs, urls["orders-dlq"])
            drill.command(ALICE, f"redrive orders-dlq --date {day_c} --time-field occurredAt")
            request_id, ts, _ = drill.last_card()
            before = len(slack.state.calls)
            drill.click(MALLORY, ActionId.APPROVE.value, request_id, ts)
            said = drill.responses_since(slack.state.calls[before:])
            drill.check(
                "B",
                "approve by a non-approver",
                said[:80].replace("\n", " "),
                "refused",
                "approv" in said.lower() and "not" in said.lower(),
            )
            killer = KilledWorker(env, out, request_id, args.kill_after)
            lambdas.register(worker, killer)
            drill.click(BOB, ActionId.APPROVE.value, request_id, ts)
            lambdas.register(worker, handlers.worker.handler)
            drill.flush()
            final = drill.final_card(request_id)
            (out / "final-C.txt").write_text(final)
            got = drain_moved(drill, records, "orders-dlq", orders, "C")
            after_c = depth(sqs, urls["orders-dlq"])
            drill.check("C", "failure record fed", killer.fed, "marked", killer.fed is not None)
            drill.check("C", "final says failed", ":x:" in final, True, ":x:" in final)
            why = "signal: killed" in final
            drill.check("C", "final says why (signal: killed)", why, True, why)
            # A dead worker's figures are its last saved progress: true as lower bounds.
            moved_shown = num(r"moved (?:at least )?\*([\d,]+)\*", final)
            lower = "moved at least" in final
            drill.check(
                "C",
                "final: moved",
                status_line(final)[:60],
                f"{got['distinct']} reached sources; checkpoint said {killer.checkpoint}",
                moved_shown is not None
                and (moved_shown <= got["distinct"] if lower else moved_shown == got["distinct"]),
            )
            says_more = "may have moved more" in final and "in both queues" in final
            drill.check("C", "final: says what is not counted", says_more, True, says_more)
            copies = after_c - (depth_c - got["distinct"])
            drill.check("C", "sent but still in the DLQ (copies)", copies, "-", None)
            drill.command(ALICE, "status")
            status = drill.responses_since(drill.slack.state.calls[-1:])
            (out / "status-C.txt").write_text(status)
            line = next((x for x in status.splitlines() if request_id in x), "")
            shown = num(r"moved (?:at least )?([\d,]+)", line)
            lower = "at least" in line
            drill.check(
                "C",
                "status: the dead run moved",
                line[line.find("failed") :][:44],
                got["distinct"],
                shown is not None
                and (shown <= got["distinct"] if lower else shown == got["distinct"]),
            )

            print("D: over PIN_MAX_IDS, time-pinned, with continuations", flush=True)
            lambdas.set_timeout(worker, min(args.worker_timeout, 20.0))
            early = add_late(
                sqs,
                records,
                urls,
                source="orders",
                day=None,
                count=200,
                start=LATE_BASE + 1000,
                dead_letter=False,
            )
            fresh: list[Seeded] = []

            def after_count() -> list[Seeded]:
                dead_letter_all(sqs, urls["orders"])  # sent before the count, DLQ'd after
                fresh.extend(
                    add_late(
                        sqs,
                        records,
                        urls,
                        source="orders",
                        day=None,
                        count=200,
                        start=LATE_BASE + 2000,
                    )
                )
                return [*early, *fresh]

            t = truth(records, today)["orders-dlq"]
            movable = sum(d["movable"] for d in t["by_day"].values())
            # Over PIN_MAX_IDS the pin is a time bound only (the card says so); under it, ids.
            drill.check("D", "movable vs PIN_MAX_IDS", movable, PIN_MAX_IDS, None)
            request_and_approve(
                drill,
                records,
                step="D",
                dlq="orders-dlq",
                sources=orders,
                text="redrive orders-dlq",
                expect_matched=movable,
                between=after_count,
                excluded=lambda: fresh,
            )
            lambdas.set_timeout(worker, args.worker_timeout)

            print("E: FIFO", flush=True)
            t = truth(records, today)["payments-dlq.fifo"]
            request_and_approve(
                drill,
                records,
                step="E",
                dlq="payments-dlq.fifo",
                sources=SCENE_11[1][2],
                text=f"redrive payments-dlq.fifo --date {day_a} --time-field occurredAt",
                expect_matched=t["by_day"][day_a]["movable"],
            )
            handlers.slack.endpoint.reset()
            handlers.worker.worker.reset()
            handlers.failed.router.reset()
    table = render_table(drill.rows)
    (out / "table.txt").write_text(table)
    print(table)
    return 0 if all(r.ok is not False for r in drill.rows) else 1


def render_table(rows: list[Row]) -> str:
    lines = [f"{'step':<4} {'figure':<36} {'shown':<44} {'seeded / measured':<44} ok"]
    for r in rows:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        lines.append(f"{r.step:<4} {r.figure:<36} {r.shown[:44]:<44} {r.truth[:44]:<44} {ok}")
    return "\n".join(lines) + "\n"


class KilledWorker:
    """A Lambda handler that runs the real worker in its own process and kills it (SIGKILL)
    once the run's checkpoint says ``kill_after`` moved, then delivers Lambda's on-failure
    record to ``handlers.failed.handler``, as Lambda does for an invocation that died."""

    def __init__(self, env: dict[str, str], out: Path, run_id: str, kill_after: int) -> None:
        self.env, self.out, self.run_id, self.kill_after = env, out, run_id, kill_after
        self.checkpoint: int | None = None
        self.fed: Any = None

    def __call__(self, payload: Any, context: Any) -> Any:
        import handlers.failed
        from bot.state import StateStore
        from bot.state_table import StateTable
        from infra.local.lambda_server import LocalLambdaContext

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(payload, f)
        child = subprocess.Popen(
            [sys.executable, "-m", "infra.local.incident_drill_slack", "--worker-child", f.name],
            env={**os.environ, **self.env},
            stdout=(self.out / "killed-worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        store = StateStore(StateTable(TABLE))
        deadline = time.monotonic() + 300
        while child.poll() is None and time.monotonic() < deadline:
            run = store.get_run(self.run_id)
            if run is not None and run.moved >= self.kill_after:
                self.checkpoint = run.moved
                time.sleep(0.5)  # it goes on moving after its checkpoint, as a real one would
                os.kill(child.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        child.wait()
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": context.aws_request_id,
                "functionArn": context.invoked_function_arn + ":$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1,
            },
            "requestPayload": payload,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {context.aws_request_id} Error: Runtime exited "
                "with error: signal: killed",
            },
        }
        self.fed = handlers.failed.handler(
            record, LocalLambdaContext("failed", 30.0, str(uuid.uuid4()))
        )
        return None


def worker_child(payload_file: str) -> int:
    """The worker in a process of its own (step C kills it)."""
    import handlers.worker
    from bot.slack.queues import WorkerOptions
    from infra.local.lambda_server import LocalLambdaContext

    payload = json.loads(Path(payload_file).read_text())
    handlers.worker.worker.reset(os.environ, options=WorkerOptions(progress_interval_s=0.3))
    handlers.worker.handler(payload, LocalLambdaContext("worker", 600.0, str(uuid.uuid4())))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker-child":
        sys.exit(worker_child(sys.argv[2]))
    sys.exit(main())
