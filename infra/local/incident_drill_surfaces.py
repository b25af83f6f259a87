"""Issue 14's Slack surfaces drilled as an on-call engineer meets them, on a big scene: the App
Home tab, the request modal's live count and the approval card it posts, and the alert checks
between the daily reports. Every figure shown is set beside an exact ledger of what was seeded.

    .venv/bin/python -m infra.local.incident_drill_surfaces --out /tmp/drill14   # ~4 min, 2 cores

(LocalStack's venv is made on first use by ``infra.local.localstack``; ``--run-budget`` sets the
approved run's Lambda budget, 3 s by default so that it stops midway and continues.)

Exit status 0 when every figure agreed, else 1. ``DIR/table.txt`` holds the table (figure, shown,
truth, agree), ``DIR/checks.json`` the same as JSON, ``DIR/transcript.txt`` every Slack call as
text, ``DIR/timings.txt`` what was measured (Home open: the endpoint's ack and the worker's
publish; each alert check; the whole drill). Not part of ``make test`` (too long).

The scene (``incident_drill``'s generator, deterministic): 22,000 messages in 10 DLQs, their
``occurredAt`` spread over the six days before today (UTC); two more DLQs empty until the alert
checks fill them. Standard DLQs are filled by SQS (LocalStack, maxReceiveCount 1); the FIFO one
is sent straight in. Retention differs between DLQs (1, 4, 7, 14 days) so the next expiry differs.
SQS is LocalStack on the host (Python 3.13 venv, SERVICES=sqs, no Docker); the state table is
moto's DynamoDB; Slack is the local Slack Web API server; the worker runs on the local Lambda
endpoint; every Slack request is signed and goes through ``handlers.slack.handler``.

SentTimestamp cannot be backdated, so the DLQs' history before today is the daily report's
snapshots, seeded for D-7 … D-2 through the real ``SnapshotStore`` with what the ledger says each
DLQ held at the end of that day (a message arrives on its ``occurredAt`` day; one without that
field on D-1), as the report of that day would have counted it. The D-1 snapshot, the scan facts
and the report itself come from a real run of the daily job (``handlers.daily.handler``,
scheduled at 06:00 UTC today: its report day is D-1), without auto-redrive, with
``REPORT_SAMPLE_SIZE=4000`` so the two deepest DLQs are scanned in part (bounds: "at least").

Steps:

1. The Home tab (Alice, an approver) through a signed ``app_home_opened``: the head (DLQs, total,
   in flight, read at), each DLQ's depth ("about"), in flight, retention, the 7-day trend (the
   numbers and the sparkline against the snapshots), the last scan's as-of time, messages read,
   oldest age and next expiry (against when the messages were sent and when the daily run
   scanned) and top error groups (the ledger's groups, by the rule bot.error_groups documents),
   the pending approvals and runs in progress (none yet). Mallory's tab: no error labels.
2. The request modal (``/dlq-redrive`` with no text) for three selections: a day by a body
   field, an error group picked from the ones the scan found with ``At most`` 500, a body field
   condition. The form's DLQ options ("about N"), each live count (match, would move, checked,
   poison that stays, no readable time) and the posted card's count against the ledger.
3. Bob approves the third request; the worker's budget ends mid-run and its continuation is held
   back (as an async invoke waits in Lambda's queue): the run is in progress, and a consumer
   holds 100 messages of emails-dlq in flight. The Home tab again: every figure of step 1, two
   pending approvals with their cards' counts and expiry, the run with the moved count its
   checkpoint says and the sources received; Bob's tab (he may approve both). Then the run
   finishes, and Alice's Refresh shows the DLQ's new depth and no run in progress.
4. Five alert checks five minutes apart (``handlers.alerts.handler``, the real job) while DLQs
   fill, grow and drain: the first grouped alert (every non-empty DLQ, one message, the held
   messages said as in flight, the check's time), growth in
   its thread and a new DLQ alerted on its own, a drained note, a quiet check, a refill within
   the quiet period (in the old thread), and the same scheduled event again (nothing posted).
   Every count in them against SQS's counts and the ledger.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from infra.local.incident_drill import Scene, Seeded, _id_of, plan, seed, take_from

SEED_DAYS = 6  # occurredAt over D-6 … D-1
SCENE_14: Scene = (
    ("orders-dlq", False, {"orders": 3000, "orders-retry": 2000}, (0.1, 0.1, 0.2, 0.2, 0.2, 0.2)),
    ("billing-dlq", False, {"billing": 3500}, (0.3, 0.2, 0.2, 0.1, 0.1, 0.1)),
    ("payments-dlq.fifo", True, {"payments.fifo": 1500}, (0.2, 0.2, 0.2, 0.2, 0.1, 0.1)),
    ("shipping-dlq", False, {"shipping": 2500}, (0.0, 0.0, 0.1, 0.2, 0.3, 0.4)),
    ("inventory-dlq", False, {"inventory": 2000}, (0.2, 0.2, 0.2, 0.2, 0.1, 0.1)),
    ("emails-dlq", False, {"emails": 4500}, (0.05, 0.05, 0.1, 0.2, 0.3, 0.3)),
    ("search-dlq", False, {"search": 1200}, (0.5, 0.5, 0.0, 0.0, 0.0, 0.0)),
    ("refunds-dlq", False, {"refunds": 900}, (0.1, 0.1, 0.1, 0.1, 0.1, 0.5)),
    ("audit-dlq", False, {"audit": 600}, (0.0, 0.0, 0.0, 0.0, 0.5, 0.5)),
    ("notify-dlq", False, {"notify": 300}, (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)),
)
EMPTY = (("cart-dlq", "cart"), ("promo-dlq", "promo"))  # filled by the alert steps
RETENTION_DAYS = {"billing-dlq": 14, "emails-dlq": 1, "search-dlq": 7, "audit-dlq": 14}
SAMPLE = 4000
MAX_REDRIVES = 3
TABLE = "dlq-redrive-drill14-state"
SECRET = "drill14-signing-secret"
JOB_KEY = "drill14-job-signing-key-of-32-bytes-or-more"
ALICE, BOB, MALLORY = "U0ALICE", "U0BOB", "U0MALLORY"
CHANNEL, REPORT_CHANNEL = "C0OPS", "C0DRILL"
LATE_BASE = 200_000  # ids of the messages the alert steps add
ALERT_GROWTH = 100
CHECK_EVERY = timedelta(minutes=5)
LIMIT = 500  # the --limit of the error group's request


@dataclass
class Row:
    step: str
    figure: str
    shown: str
    truth: str
    ok: bool | None  # None: for the record


@dataclass
class SentWindow:
    """When a DLQ's messages were sent: its oldest SentTimestamp lies between these."""

    first_before: datetime
    first_after: datetime


def _num(text: str | None) -> int | None:
    return None if text is None else int(text.replace(",", ""))


def _duration_seconds(text: str) -> tuple[int, int] | None:
    """What ``duration`` / ``duration_at_least`` wrote, back to the seconds it covers (low,
    high): "42s" is 42 s, "12m" 720-779 s, "5h 3m" to the minute, "2d 4h" to the hour."""
    if text == "under 1m":
        return 0, 59
    if re.fullmatch(r"\d+s", text):
        return int(text[:-1]), int(text[:-1])
    found = re.fullmatch(r"(?:(\d+)d )?(?:(\d+)h)? ?(?:(\d+)m)?", text.strip())
    if not found:
        return None
    d, h, m = (int(g) if g else 0 for g in found.groups())
    low = ((d * 24 + h) * 60 + m) * 60
    return low, low + (3599 if d else 59)


def view_texts(view: dict[str, Any]) -> list[str]:
    """Every mrkdwn/plain text of a view's blocks, entities undone (what a person reads)."""
    texts: list[str] = []
    for block in view.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            texts.append(html.unescape(block["text"]["text"]))
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                texts.append(html.unescape(element.get("text", "")))
        for f in block.get("fields", []):
            texts.append(html.unescape(f["text"]))
    return texts


def message_text(body: dict[str, Any]) -> str:
    return "\n".join(view_texts({"blocks": body.get("blocks") or []})) or str(body.get("text"))


def group_of(record: Seeded) -> str:
    """The error group a seeded message belongs to, by the rule ``bot.error_groups`` documents
    (written out here from what was seeded, not computed by that module): the ``error``
    attribute, else the shape of a JSON body (its keys and value types), else its text with the
    numbers masked."""
    if record.error:
        return record.error
    if record.kind == "text":
        return "text order <n> failed: upstream said <n> at step <n>"
    if record.kind == "nofield":
        return "json {id:num, note:str, source:str}"
    when = "num" if record.fmt in ("epoch-ms", "epoch-s") else "str"
    if record.n >= LATE_BASE:
        return "json {id:num, occurredAt:str, source:str}"
    return f"json {{amount:num, id:num, occurredAt:{when}, source:str}}"


class Ledger:
    """The seeded messages and where each is now (``Seeded.where``)."""

    def __init__(self, records: list[Seeded], today: date) -> None:
        self.records = records
        self.today = today
        self.sent: dict[str, SentWindow] = {}

    def in_dlq(self, dlq: str) -> list[Seeded]:
        return [r for r in self.records if r.dlq == dlq and r.where == "dlq"]

    def depth(self, dlq: str) -> int:
        return len(self.in_dlq(dlq))

    def arrived_by(self, dlq: str, day: date) -> int:
        """What ``dlq`` held at the end of ``day`` in the scene's history (a message arrives on
        its occurredAt day; one without it on D-1)."""
        last = (self.today - timedelta(days=1)).isoformat()
        return sum(1 for r in self.in_dlq(dlq) if (r.day or last) <= day.isoformat())

    def errors(self, dlq: str) -> Counter[str]:
        return Counter(group_of(r) for r in self.in_dlq(dlq))

    def mark(self, source: str, received: list[dict[str, Any]], by: str) -> dict[str, int]:
        """Take what reached ``source`` off the ledger (distinct ids, copies, again)."""
        index = {(r.source, r.n): r for r in self.records}
        ids = Counter(_id_of(m["Body"]) for m in received)
        again = 0
        for n in ids:
            record = index[(source, n)]
            if record.where != "dlq":
                again += 1
            record.where = by
        return {"received": len(received), "distinct": len(ids), "again": again}


class Drill:
    """The app's surfaces, the ledger and the table."""

    def __init__(self, out: Path, slack: Any, lambdas: Any, sqs: Any, urls: dict[str, str]):
        self.out, self.slack, self.lambdas, self.sqs, self.urls = out, slack, lambdas, sqs, urls
        self.rows: list[Row] = []
        self.timings: list[str] = []
        self.n = 0
        self.shown = 0
        self.transcript = (out / "transcript.txt").open("w")
        self.held: dict[str, int] = {}  # messages a consumer holds in flight, by DLQ

    def check(self, step: str, figure: str, shown: object, truth: object, ok: bool | None) -> None:
        self.rows.append(Row(step, figure, str(shown), str(truth), ok))
        mark = "" if ok is None else (" ok" if ok else " MISMATCH")
        print(f"  [{step}] {figure}: shown {shown} | truth {truth}{mark}", flush=True)

    def log(self, text: str) -> None:
        self.transcript.write(text + "\n")
        self.transcript.flush()

    def flush(self) -> None:
        from infra.local.demo_slack import render

        calls = list(self.slack.state.calls)
        for call in calls[self.shown :]:
            self.log(render(call))
        self.shown = len(calls)

    def send(self, body: str, **event: Any) -> tuple[dict[str, Any], float]:
        import handlers.slack
        from infra.local.lambda_server import LocalLambdaContext
        from infra.local.slack_events import http_event

        self.n += 1
        started = time.monotonic()
        response = handlers.slack.handler(
            http_event(body, SECRET, **event), LocalLambdaContext("slack", 10.0, f"d14-{self.n}")
        )
        return response, time.monotonic() - started

    def settle(self, timeout: float = 600.0) -> None:
        self.lambdas.wait_idle(timeout)
        for invocation in self.lambdas.errors():
            self.log(f"    worker error: {invocation.error!r}")
        self.flush()

    # --- the Home tab -------------------------------------------------------------------------

    def open_home(self, user: str) -> tuple[dict[str, Any], float, float, datetime, datetime]:
        """``user`` opens the Home tab; (the published view, ack s, publish s, read window)."""
        from infra.local.slack_events import event_callback_body, home_opened

        self.log(f"\n>>> {user} opens the Home tab")
        before = len(self.slack.state.calls_to("views.publish"))
        body = event_callback_body(home_opened(user), event_id=f"Ev14{uuid.uuid4().hex[:12]}")
        opened_at = datetime.now(UTC)
        started = time.monotonic()
        response, ack = self.send(body, content_type="application/json")
        self.log(f"    HTTP {response['statusCode']} in {ack * 1000:.0f} ms")
        deadline = time.monotonic() + 120
        while len(self.slack.state.calls_to("views.publish")) == before:
            if time.monotonic() > deadline:
                raise RuntimeError("the Home tab was not published in 2 minutes")
            time.sleep(0.005)
        published = time.monotonic() - started
        published_at = datetime.now(UTC)
        self.settle()
        call = self.slack.state.calls_to("views.publish")[-1]
        if call.refused:
            raise RuntimeError(f"views.publish refused: {call.refused} {call.problem}")
        return self.slack.state.home.views[user], ack, published, opened_at, published_at

    # --- the request modal --------------------------------------------------------------------

    def modal(self, view_id: str) -> dict[str, Any]:
        return dict(self.slack.state.modals.views[view_id])

    def open_form(self, user: str) -> str:
        from infra.local.slack_events import command_body

        self.log(f"\n>>> {user}: /dlq-redrive")
        known = set(self.slack.state.modals.views)
        trigger = self.slack.state.modals.new_trigger()
        body = command_body(
            "",
            user=user,
            channel=CHANNEL,
            response_url=self.slack.response_url("m"),
            trigger_id=trigger,
        )
        response, ack = self.send(body)
        self.log(f"    HTTP {response['statusCode']} in {ack * 1000:.0f} ms")
        self.settle()
        (view_id,) = set(self.slack.state.modals.views) - known
        return str(view_id)

    def change(self, user: str, view_id: str, block_id: str, value: str) -> None:
        from infra.local.slack_events import view_input_body, view_state

        self.log(f"\n>>> {user} sets {block_id} = {value!r}")
        view = self.modal(view_id)
        view["state"] = view_state(view, {block_id: value})
        self.send(view_input_body(view, block_id, user=user))
        self.settle()

    def count(self, user: str, view_id: str, changes: dict[str, str]) -> str:
        """Fill in ``changes``, click Count; the count line the modal shows then."""
        from bot.slack.ids import ActionId
        from bot.slack.request_form import COUNT_BLOCK
        from infra.local.slack_events import view_action_body, view_state

        self.log(f"\n>>> {user} fills {changes} and clicks Count")
        view = self.modal(view_id)
        view["state"] = view_state(view, changes)
        self.send(view_action_body(ActionId.REQUEST_COUNT.value, "count", user=user, view=view))
        self.settle()
        block = next(b for b in self.modal(view_id)["blocks"] if b.get("block_id") == COUNT_BLOCK)
        return html.unescape(str(block["text"]["text"]))

    def submit(self, user: str, view_id: str, changes: dict[str, str]) -> dict[str, Any]:
        from infra.local.slack_events import view_state, view_submission_body

        self.log(f"\n>>> {user} submits {changes}")
        view = self.modal(view_id)
        values = view_state(view, changes)["values"]
        response, _ = self.send(view_submission_body(view, values, user=user))
        self.settle()
        answer: dict[str, Any] = json.loads(response["body"]) if response.get("body") else {}
        return answer

    def last_card(self) -> tuple[str, str, str]:
        """The last approval card posted: request id, ts, text."""
        from bot.state import StateStore
        from bot.state_table import StateTable

        post = next(
            c
            for c in reversed(self.slack.state.calls_to("chat.postMessage"))
            if any(b["type"] == "actions" for b in c.body.get("blocks") or [])
        )
        actions = next(b for b in post.body["blocks"] if b["type"] == "actions")
        request_id = str(actions["elements"][0]["value"])
        request = StateStore(StateTable(TABLE)).get_request(request_id)
        return request_id, str(request.message_ts if request else ""), message_text(post.body)


# ------------------------------------------------------------------------------ the scene


def seed_scene(sqs: Any, ledger: Ledger, payloads: dict[Any, Any]) -> dict[str, str]:
    """Each DLQ seeded on its own, timed (its oldest SentTimestamp is within its first send)."""
    urls: dict[str, str] = {}
    for entry in SCENE_14:
        dlq = entry[0]
        records = [r for r in ledger.records if r.dlq == dlq]
        before = datetime.now(UTC)
        urls.update(seed(sqs, records, payloads, (entry,)))
        after = datetime.now(UTC)
        # seed() sends every batch before it returns: the first one is within [before, after].
        ledger.sent[dlq] = SentWindow(before, after)
        days = RETENTION_DAYS.get(dlq, 4)
        sqs.set_queue_attributes(
            QueueUrl=urls[dlq], Attributes={"MessageRetentionPeriod": str(days * 86400)}
        )
    for dlq, source in EMPTY:
        urls.update(seed(sqs, [], {}, ((dlq, False, {source: 0}, (1.0,)),)))
    return urls


def add_late(
    sqs: Any, ledger: Ledger, urls: dict[str, str], dlq: str, source: str, count: int
) -> None:
    """``count`` new failures of ``source`` today, dead-lettered by SQS into ``dlq``."""
    from infra.local.incident_drill_slack import dead_letter_all

    start = LATE_BASE + sum(1 for r in ledger.records if r.n >= LATE_BASE)
    now = datetime.now(UTC)
    for first in range(0, count, 10):
        entries = []
        for n in range(start + first, start + min(first + 10, count)):
            body = json.dumps({"id": n, "source": source, "occurredAt": now.isoformat()})
            entries.append({"Id": str(n - start - first), "MessageBody": body})
            ledger.records.append(
                Seeded(dlq, source, n, "dated", now.date().isoformat(), "iso", 0, None, False, None)
            )
        sqs.send_message_batch(QueueUrl=urls[source], Entries=entries)
    dead_letter_all(sqs, urls[source])


def seed_snapshots(ledger: Ledger, first: date, last: date) -> None:
    """The reports of ``first`` … ``last`` as they would have counted each DLQ (exact)."""
    from bot.daily.snapshots import Snapshot, SnapshotStore
    from bot.state_table import StateTable

    store = SnapshotStore(StateTable(TABLE))
    day = first
    while day <= last:
        taken = datetime(day.year, day.month, day.day, 6, tzinfo=UTC) + timedelta(days=1)
        store.put_all(
            [Snapshot(dlq, day, ledger.arrived_by(dlq, day), exact=True) for dlq, *_ in SCENE_14],
            taken_at=taken,
        )
        day += timedelta(days=1)


def run_daily(
    drill: Drill, env: dict[str, str], scheduled: datetime
) -> tuple[float, datetime, datetime]:
    """The daily job, scheduled at ``scheduled``; (seconds, when it started, when it ended)."""
    import handlers.daily
    from bot.composition import build_daily_job
    from infra.local.demo_daily import daily_job_in_use, scheduled_event
    from infra.local.lambda_server import LocalLambdaContext

    name = "dlq-redrive-daily"
    drill.lambdas.register(name, handlers.daily.handler, timeout_s=900.0)
    job = build_daily_job(
        {**env, "REPORT_SAMPLE_SIZE": str(SAMPLE)},
        sqs_client=boto3.client("sqs"),
        dynamodb_client=boto3.client("dynamodb"),
        lambda_client=boto3.client("lambda", endpoint_url=drill.lambdas.endpoint_url),
    )
    started = time.monotonic()
    started_at = datetime.now(UTC)
    with daily_job_in_use(job):
        outcome = handlers.daily.handler(
            scheduled_event(scheduled), LocalLambdaContext(name, 900.0, str(uuid.uuid4()))
        )
        drill.lambdas.wait_idle(1800)
    took = time.monotonic() - started
    drill.log(f"\n>>> the daily job at {scheduled:%Y-%m-%d %H:%M} UTC: {outcome} in {took:.1f} s")
    drill.flush()
    return took, started_at, datetime.now(UTC)


# ------------------------------------------------------------------------------ the Home checks


def dlq_section(view: dict[str, Any], dlq: str) -> str | None:
    return next((t for t in view_texts(view) if t.startswith(f"*`{dlq}`*")), None)


def check_home(
    drill: Drill,
    step: str,
    ledger: Ledger,
    view: dict[str, Any],
    snapshots: dict[str, dict[date, tuple[int, bool]]],
    scanned: dict[str, dict[str, Any]],
    *,
    labels: bool = True,
) -> None:
    """Every DLQ's figures on the published tab against the ledger and SQS."""
    for dlq, *_ in [*SCENE_14, *((name, False, {}, ()) for name, _ in EMPTY)]:
        text = dlq_section(view, dlq)
        if text is None:
            drill.check(step, f"{dlq}: shown", None, "a section", False)
            continue
        held = drill.held.get(dlq, 0)
        truth = ledger.depth(dlq) - held
        attrs = drill.sqs.get_queue_attributes(QueueUrl=drill.urls[dlq], AttributeNames=["All"])[
            "Attributes"
        ]
        found = re.search(r"Depth \*about ([\d,]+)\* · in flight about ([\d,]+)", text)
        shown_depth = _num(found.group(1)) if found else None
        drill.check(
            step,
            f"{dlq}: depth",
            f"about {shown_depth}",
            f"{truth}" + (f" ({held} of the ledger's held by a consumer)" if held else ""),
            shown_depth == truth,
        )
        in_flight = _num(found.group(2)) if found else None
        sqs_in_flight = int(attrs["ApproximateNumberOfMessagesNotVisible"])
        drill.check(
            step,
            f"{dlq}: in flight",
            in_flight,
            f"{held} held (SQS after: {sqs_in_flight})",
            in_flight == held == sqs_in_flight,
        )
        keeps = re.search(r"keeps messages (\S+ \S+|\S+)\n", text)
        days = int(attrs["MessageRetentionPeriod"]) // 86400
        drill.check(
            step,
            f"{dlq}: keeps",
            keeps.group(1) if keeps else None,
            f"{days}d 0h",
            bool(keeps) and keeps.group(1) == f"{days}d 0h",
        )
        trend = dict(snapshots.get(dlq, {}))
        last = max(trend, default=None)
        if last is not None and dlq in scanned:
            # The report's own snapshot is exact when its scan read every message (its tab
            # line says so; checked against the DLQ's depth then in _check_scan).
            trend[last] = (trend[last][0], "(read all " in text)
        _check_trend(drill, step, dlq, text, trend)
        _check_scan(drill, step, ledger, dlq, text, scanned.get(dlq), labels)


def _check_trend(
    drill: Drill, step: str, dlq: str, text: str, truth: dict[date, tuple[int, bool]]
) -> None:
    line = next((x for x in text.splitlines() if re.match(r"\d+d `", x)), None)
    values = [n for _, (n, _) in sorted(truth.items())]
    top = max(values, default=0)
    levels = "▁▂▃▄▅▆▇█"
    spark = "".join(levels[round(v / top * 7)] if top else levels[0] for v in values)
    expected = f"{spark}` " + " · ".join(
        f"{d.day} {d.strftime('%b')} {'' if exact else 'about '}{n:,}"
        for d, (n, exact) in sorted(truth.items())
    )
    shown = line.split(" `", 1)[1] if line else None
    drill.check(step, f"{dlq}: trend ({len(truth)}d)", shown, expected, shown == expected)


def _check_scan(
    drill: Drill,
    step: str,
    ledger: Ledger,
    dlq: str,
    text: str,
    scanned: dict[str, Any] | None,
    labels: bool,
) -> None:
    """The last scan's figures: scanned at the daily run, against what the DLQ held then."""
    if scanned is None:
        drill.check(step, f"{dlq}: scan", "-", "no scan", "No daily scan" in text)
        return
    line = next((x for x in text.splitlines() if x.startswith("As of ")), "")
    held = scanned["depth"]
    said = re.search(r"\((read all ([\d,]+)|read ([\d,]+), not every message)", line)
    read = _num(said.group(2) or said.group(3)) if said else None
    complete = said is not None and said.group(2) is not None
    # "read all N": N is what the DLQ held. "read N, not every message": fewer than it held
    # (the sample's cap; a FIFO DLQ's scan cannot see past a group's first in-flight messages).
    drill.check(
        step,
        f"{dlq}: scan read",
        said.group(1) if said else None,
        f"{held} held, sample {SAMPLE}",
        read is not None and (read == held if complete else read < held and read <= SAMPLE),
    )
    if not complete and held <= SAMPLE:
        drill.check(step, f"{dlq}: scan partial under the sample", read, held, None)
    if held == 0:
        return
    # The scan's figures are as of the scan ("As of <time> scan"): some time in the daily run.
    window_open, window_published = scanned["window"]
    as_of = re.search(r"As of (\d{4}-\d\d-\d\d \d\d:\d\d) \+00:00 scan", line)
    at = datetime.strptime(as_of.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC) if as_of else None
    drill.check(
        step,
        f"{dlq}: scan as of",
        as_of.group(1) if as_of else None,
        f"{window_open:%H:%M:%S}-{window_published:%H:%M:%S} (the daily run)",
        at is not None and window_open.replace(second=0, microsecond=0) <= at <= window_published,
    )
    sent = ledger.sent.get(dlq)
    oldest = re.search(r"oldest (at least )?(.+?) old", line)
    if sent is not None:
        shown_age = _duration_seconds(oldest.group(2)) if oldest else None
        # The oldest message's age at the scan (some time in the daily run), in seconds.
        low = int((window_open - sent.first_after).total_seconds())
        high = int((window_published - sent.first_before).total_seconds()) + 1
        bound = oldest is not None and bool(oldest.group(1))
        if shown_age is None:
            ok = False
        elif bound:  # "at least": true when the oldest can be that old
            ok = shown_age[0] <= high
        else:  # exact to its unit: the truth's interval and the shown one overlap
            ok = shown_age[0] <= high and shown_age[1] >= low
        drill.check(
            step,
            f"{dlq}: oldest age",
            oldest.group(0) if oldest else None,
            f"{max(low, 0)}-{high} s at the scan "
            f"(sent {sent.first_before:%H:%M:%S}-{sent.first_after:%H:%M:%S})",
            ok and bound != complete,
        )
        expiry = re.search(
            r"next expiry (at the latest )?(\d{4}-\d\d-\d\d \d\d:\d\d) \+00:00", line
        )
        days = RETENTION_DAYS.get(dlq, 4)
        first = (sent.first_before + timedelta(days=days)).replace(second=0, microsecond=0)
        last = sent.first_after + timedelta(days=days)
        at = (
            datetime.strptime(expiry.group(2), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            if expiry
            else None
        )
        if expiry and expiry.group(1):  # an upper bound, rounded up to the minute
            ok = at is not None and at >= last.replace(second=0, microsecond=0)
        else:
            ok = at is not None and first <= at <= last
        drill.check(
            step,
            f"{dlq}: next expiry",
            expiry.group(0) if expiry else None,
            f"{first:%m-%d %H:%M}-{last:%m-%d %H:%M:%S} (sent + {days}d)",
            ok,
        )
    messages = re.search(r": (at least )?([\d,]+) message\(s\)", line)
    shown_messages = _num(messages.group(2)) if messages else None
    drill.check(
        step,
        f"{dlq}: scan messages",
        messages.group(0)[2:] if messages else None,
        f"{held} held at the scan",
        shown_messages == (held if complete else read) and bool(messages.group(1)) != complete
        if messages
        else False,
    )
    errors_line = next((x for x in text.splitlines() if x.startswith("Top errors: ")), None)
    truth: Counter[str] = scanned["errors"]
    if not labels:
        drill.check(step, f"{dlq}: error labels hidden", errors_line, None, errors_line is None)
        return
    shown = re.findall(r"`([^`]+)` (at least |×)([\d,]+)", errors_line or "")
    top = truth.most_common(3)
    expected = " · ".join(f"{label} ×{n:,}" for label, n in top)
    if complete:
        ok = [(label, _num(n)) for label, _, n in shown] == [(label, n) for label, n in top]
    else:  # a sample's groups: each a lower bound of the label's count
        ok = bool(shown) and all(
            how == "at least " and (_num(n) or 0) <= truth[label] for label, how, n in shown
        )
    drill.check(
        step,
        f"{dlq}: top errors",
        " · ".join(f"{label} {how}{n}" for label, how, n in shown),
        expected if complete else f"each ≤ {expected}",
        ok,
    )


def _dlq_options(view: dict[str, Any]) -> dict[str, int]:
    """The form's DLQ select: name -> the "about N" its option shows."""
    block = next(b for b in view["blocks"] if b.get("block_id", "").endswith("request_queue"))
    element = block["element"]
    options = element.get("options") or [
        o for group in element.get("option_groups", []) for o in group["options"]
    ]
    found = (re.fullmatch(r"(.+) \(about ([\d,]+)\)", o["text"]["text"]) for o in options)
    return {m.group(1): int(m.group(2).replace(",", "")) for m in found if m}


def check_head(
    drill: Drill,
    step: str,
    ledger: Ledger,
    view: dict[str, Any],
    window: tuple[datetime, datetime],
) -> None:
    texts = view_texts(view)
    head = next((t for t in texts if "watched DLQ(s)" in t), "")
    read = re.search(r"Read (\d{4}-\d\d-\d\d \d\d:\d\d) \+00:00", head)
    at = datetime.strptime(read.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC) if read else None
    opened, published = window
    drill.check(
        step,
        "head: read at",
        read.group(1) if read else None,
        f"{opened:%H:%M:%S}-{published:%H:%M:%S} (event sent, tab published)",
        at is not None and opened.replace(second=0, microsecond=0) <= at <= published,
    )
    found = re.search(r"\*([\d,]+)\* watched DLQ\(s\): \*about ([\d,]+)\* message\(s\)", head)
    names = [d for d, *_ in SCENE_14] + [d for d, _ in EMPTY]
    total = sum(ledger.depth(d) for d in names) - sum(drill.held.values())
    drill.check(
        step,
        "head: watched DLQs",
        found.group(1) if found else None,
        len(names),
        bool(found) and _num(found.group(1)) == len(names),
    )
    drill.check(
        step,
        "head: total depth",
        f"about {found.group(2)}" if found else None,
        total,
        bool(found) and _num(found.group(2)) == total,
    )
    flight = re.search(r"about ([\d,]+) in flight", head)
    held = sum(drill.held.values())
    drill.check(
        step,
        "head: in flight",
        flight.group(1) if flight else None,
        held,
        bool(flight) and _num(flight.group(1)) == held,
    )
    order = [t.split("`")[1] for t in texts if t.startswith("*`")]
    expected = sorted(names, key=lambda d: (-(ledger.depth(d) - drill.held.get(d, 0)), d))
    drill.check(step, "DLQs deepest first", order[:3], expected[:3], order == expected)


# ------------------------------------------------------------------------------ main


def main() -> int:
    import handlers.alerts
    import handlers.slack
    import handlers.worker
    from bot.slack.ids import ActionId
    from bot.slack.queues import WorkerOptions
    from bot.slack.request_form import (
        REQUEST_FIELD_DAY,
        REQUEST_FIELD_ERROR,
        REQUEST_FIELD_LIMIT,
        REQUEST_FIELD_NOTE,
        REQUEST_FIELD_QUEUE,
        REQUEST_FIELD_SELECTION,
        REQUEST_FIELD_TIME_FIELD,
        REQUEST_FIELD_WHERE,
    )
    from bot.state import StateStore
    from bot.state_table import StateTable, create_state_table
    from infra.local.incident_drill import _sqs
    from infra.local.lambda_server import LambdaServer
    from infra.local.localstack import localstack
    from infra.local.moto_server import local_aws
    from infra.local.slack_api import SlackApiServer
    from infra.local.slack_events import LOCAL_TEAM, action_body

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/drill14"))
    parser.add_argument(
        "--run-budget",
        type=float,
        default=3.0,
        help="the worker's budget (s) for the approved run: it continues, and is held there",
    )
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    drill_started = time.monotonic()
    today = datetime.now(UTC).date()
    day = {k: today - timedelta(days=k) for k in range(9)}
    records, payloads = plan(today - timedelta(days=1), SCENE_14)
    ledger = Ledger(records, today)
    with localstack() as ls, local_aws() as moto:
        os.environ.update(ls.env)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto.env["AWS_ENDPOINT_URL"]
        sqs = _sqs()
        started = time.monotonic()
        urls = seed_scene(sqs, ledger, payloads)
        seeded = f"seeded {len(records):,} messages in {len(SCENE_14)} DLQs"
        print(f"{seeded} in {time.monotonic() - started:.0f} s", flush=True)
        parked: list[Any] = []

        def worker(payload: Any, context: Any) -> Any:
            # A continuation waits, as an async invoke waits in Lambda's queue, while held.
            if holding[0] and isinstance(payload, dict) and payload.get("job") == "continue":
                parked.append(payload)
                return None
            return handlers.worker.handler(payload, context)

        holding = [False]
        with SlackApiServer() as slack, LambdaServer({"worker": worker}) as lambdas:
            for user in (ALICE, BOB, MALLORY):
                slack.state.add_user(user)
            env = {
                **ls.env,
                "AWS_ENDPOINT_URL_DYNAMODB": moto.env["AWS_ENDPOINT_URL"],
                "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
                "TIMEZONE": "UTC",
                "MAX_REDRIVES": str(MAX_REDRIVES),
                "ERROR_ATTRIBUTE": "error",
                "SLACK_BOT_TOKEN": "xoxb-drill",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_TEAM_ID": LOCAL_TEAM,
                "JOB_SIGNING_KEY": JOB_KEY,
                "SLACK_API_URL": slack.api_url,
                "APPROVERS": f"{ALICE},{BOB}",
                "STATE_TABLE": TABLE,
                "REPORT_CHANNEL": REPORT_CHANNEL,
                "WORKER_FUNCTION_NAME": "worker",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "ALERT_THRESHOLD": "1",
                "ALERT_GROWTH": str(ALERT_GROWTH),
                "ALERT_QUIET_MINUTES": "60",
            }
            os.environ.update(env)
            create_state_table(boto3.client("dynamodb"), TABLE)
            drill = Drill(out, slack, lambdas, sqs, urls)

            # --- the history and this morning's report ------------------------------------
            snapshots: dict[str, dict[date, tuple[int, bool]]] = {}
            seed_snapshots(ledger, day[7], day[2])
            for dlq, *_ in SCENE_14:
                snapshots[dlq] = {
                    day[k]: (ledger.arrived_by(dlq, day[k]), True) for k in range(7, 1, -1)
                }
            scanned = {
                dlq: {"depth": ledger.depth(dlq), "errors": ledger.errors(dlq)}
                for dlq in [*(d for d, *_ in SCENE_14), *(d for d, _ in EMPTY)]
            }
            scheduled = datetime(today.year, today.month, today.day, 6, tzinfo=UTC)
            took, daily_start, daily_end = run_daily(drill, env, scheduled)
            for facts in scanned.values():
                facts["window"] = (daily_start, daily_end)
            drill.timings.append(f"daily report ({len(records):,} messages): {took:.1f} s")
            for dlq in scanned:
                held = scanned[dlq]["depth"]
                snapshots.setdefault(dlq, {})[day[1]] = (held, held <= SAMPLE)

            handlers.slack.endpoint.reset(env)
            handlers.worker.worker.reset(env, options=WorkerOptions(progress_interval_s=0.5))

            # --- 1. the Home tab -------------------------------------------------------------
            print("1: the Home tab", flush=True)
            view, ack, published, opened_at, published_at = drill.open_home(ALICE)
            (out / "home-1.json").write_text(json.dumps(view, indent=1))
            drill.timings.append(
                f"Home open 1 ({len(SCENE_14) + len(EMPTY)} DLQs): ack {ack * 1000:.0f} ms, "
                f"published {published * 1000:.0f} ms after the event was sent"
            )
            blocks = len(view["blocks"])
            drill.check("1", "blocks", blocks, "≤ 100", blocks <= 100)
            check_head(drill, "1", ledger, view, (opened_at, published_at))
            check_home(drill, "1", ledger, view, snapshots, scanned)
            texts = "\n".join(view_texts(view))
            drill.check(
                "1",
                "pending approvals",
                "none" if "approvals*: none" in texts else texts[:40],
                "none",
                "*Pending approvals*: none" in texts,
            )
            drill.check(
                "1",
                "runs in progress",
                "none" if "progress*: none" in texts else "?",
                "none",
                "*Runs in progress*: none" in texts,
            )
            for _ in range(2):  # warm: the first open paid the worker's cold imports
                _, ack2, published2, _, _ = drill.open_home(ALICE)
                drill.timings.append(
                    f"Home open again: ack {ack2 * 1000:.0f} ms, "
                    f"published {published2 * 1000:.0f} ms"
                )
            view_m = drill.open_home(MALLORY)[0]
            texts_m = "\n".join(view_texts(view_m))
            hidden = "Top errors" not in texts_m and "Error groups are not shown" in texts_m
            drill.check(
                "1",
                "Mallory (no viewer): error labels",
                "hidden" if hidden else "shown",
                "hidden, said why",
                hidden,
            )

            # --- 2. the request modal ----------------------------------------------------------
            print("2: the request modal", flush=True)
            pending: dict[str, tuple[str, int]] = {}  # request id: dlq, card's count
            expiry: dict[str, str] = {}  # request id: the card's Expires
            day_3 = day[3].isoformat()
            selections = (
                (
                    "shipping-dlq",
                    "day",
                    {REQUEST_FIELD_DAY: day_3, REQUEST_FIELD_TIME_FIELD: "occurredAt"},
                    lambda r: r.day == day_3,
                    f"--date {day[3]} --time-field occurredAt",
                ),
                (
                    "billing-dlq",
                    "error",
                    {REQUEST_FIELD_ERROR: "PaymentTimeout", REQUEST_FIELD_LIMIT: str(LIMIT)},
                    lambda r: r.error == "PaymentTimeout",
                    f"--error PaymentTimeout --limit {LIMIT}",
                ),
                (
                    "orders-dlq",
                    "field",
                    {REQUEST_FIELD_WHERE: "source=orders-retry"},
                    lambda r: r.source == "orders-retry" and r.kind != "text",
                    "--where source=orders-retry",
                ),
            )
            for dlq, selection, changes, matches, said in selections:
                view_id = drill.open_form(ALICE)
                drill.change(ALICE, view_id, REQUEST_FIELD_QUEUE, dlq)
                drill.change(ALICE, view_id, REQUEST_FIELD_SELECTION, selection)
                started = time.monotonic()
                line = drill.count(ALICE, view_id, changes)
                count_s = time.monotonic() - started
                drill.timings.append(f"modal count {dlq} {said}: {count_s:.1f} s")
                in_dlq = ledger.in_dlq(dlq)
                chosen = [r for r in in_dlq if matches(r)]
                poison = sum(1 for r in chosen if r.poison)
                # A limit is part of the selection ("…, at most N"): the count stops once it
                # found N, so it checks only part of the DLQ and sees only part of the poison.
                limit = int(changes.get(REQUEST_FIELD_LIMIT, 0)) or None
                movable = (
                    len(chosen) - poison if limit is None else min(limit, len(chosen) - poison)
                )
                undated = sum(1 for r in in_dlq if r.kind != "dated")
                options = _dlq_options(drill.modal(view_id))
                drill.check(
                    "2",
                    "form: DLQ options (about depth)",
                    ", ".join(f"{n} {d}" for n, d in options.items())[:46],
                    "ledger depths",
                    options == {n: ledger.depth(n) for n in options} and len(options) == 12,
                )
                found = re.search(
                    r"\*(at least )?([\d,]+)\* message\(s\) match; "
                    r"\*(at least )?([\d,]+)\* would move",
                    line,
                )
                drill.check(
                    "2",
                    f"{dlq} {said}: count matched",
                    found.group(0) if found else line[:80],
                    f"{movable} (+{poison} poison, said apart)"
                    if limit is None
                    else f"{movable} (the limit; {len(chosen) - poison} not poison)",
                    bool(found) and _num(found.group(2)) == movable and not found.group(1),
                )
                checked = re.search(r"Of ([\d,]+) checked", line)
                drill.check(
                    "2",
                    f"{dlq} {said}: checked",
                    checked.group(1) if checked else None,
                    len(in_dlq) if limit is None else f"≤ {len(in_dlq)} (stops at the limit)",
                    bool(checked)
                    and (
                        _num(checked.group(1)) == len(in_dlq)
                        if limit is None
                        else (_num(checked.group(1)) or 0) <= len(in_dlq)
                    ),
                )
                stays = re.search(r"([\d,]+) were redriven too often", line)
                drill.check(
                    "2",
                    f"{dlq} {said}: poison that stays",
                    stays.group(1) if stays else None,
                    poison if limit is None else f"≤ {poison}",
                    _num(stays.group(1) if stays else None) == poison
                    if limit is None
                    else (_num(stays.group(1) if stays else None) or 0) <= poison,
                )
                if selection == "day":
                    no_time = re.search(r"([\d,]+) have no readable time", line)
                    drill.check(
                        "2",
                        f"{dlq} {said}: no readable time",
                        no_time.group(1) if no_time else None,
                        f"{undated} (text or no occurredAt)",
                        _num(no_time.group(1) if no_time else None) == undated,
                    )
                drill.check(
                    "2",
                    f"{dlq} {said}: count would move",
                    found.group(4) if found else None,
                    f"{movable} (not poison)",
                    bool(found) and _num(found.group(4)) == movable,
                )
                answer = drill.submit(
                    ALICE, view_id, {**changes, REQUEST_FIELD_NOTE: f"drill 14: {said}"}
                )
                drill.check(
                    "2",
                    f"{dlq}: submission",
                    answer.get("response_action"),
                    "update",
                    answer.get("response_action") == "update",
                )
                request_id, _ts, card = drill.last_card()
                (out / f"card-{dlq}.txt").write_text(card)
                shown = re.search(r"Messages\*\n((?:up to )?[\d,]+)", card)
                card_count = _num(shown.group(1).removeprefix("up to ")) if shown else None
                drill.check(
                    "2",
                    f"{dlq} {said}: card messages",
                    shown.group(1) if shown else None,
                    movable,
                    card_count == movable and not shown.group(1).startswith("up to"),
                )
                pending[request_id] = (dlq, card_count or 0)
                expires = re.search(r"Expires\*\n(\S+ \d\d:\d\d) UTC", card)
                expiry[request_id] = expires.group(1) if expires else "?"

            # --- 3. a run in progress, the Home tab again ---------------------------------------
            print("3: a run in progress, the Home tab again", flush=True)
            run_id = list(pending)[-1]
            run_dlq = pending.pop(run_id)[0]
            store = StateStore(StateTable(TABLE))
            request = store.get_request(run_id)
            lambdas.set_timeout("worker", args.run_budget)
            holding[0] = True
            drill.log(f"\n>>> {BOB} approves {run_id}")
            body = action_body(
                ActionId.APPROVE.value,
                run_id,
                user=BOB,
                channel=CHANNEL,
                message_ts=request.message_ts if request else "",
                response_url=slack.response_url("a"),
            )
            drill.send(body)
            drill.settle()
            lambdas.set_timeout("worker", 300.0)
            moved = {"distinct": 0, "received": 0, "again": 0}
            for source in SCENE_14[0][2]:
                got = ledger.mark(source, take_from(sqs, urls[source]), "run")
                moved = {k: moved[k] + got[k] for k in moved}
            run = store.get_run(run_id)
            drill.check(
                "3",
                "run held between invocations",
                run.status if run else None,
                "continuing",
                bool(parked),
            )
            hold(drill, "emails-dlq", 100)
            view, ack, published, opened_at, published_at = drill.open_home(ALICE)
            (out / "home-3.json").write_text(json.dumps(view, indent=1))
            check_home(drill, "3", ledger, view, snapshots, scanned)
            drill.timings.append(
                f"Home open 3: ack {ack * 1000:.0f} ms, published {published * 1000:.0f} ms"
            )
            texts = "\n".join(view_texts(view))
            head = re.search(r"\*Pending approvals\* \(([\d,]+)\)", texts)
            truth_pending = store.pending_requests(datetime.now(UTC))
            drill.check(
                "3",
                "pending approvals",
                head.group(1) if head else None,
                f"{len(pending)} cards ({len(truth_pending)} in the state table)",
                bool(head) and _num(head.group(1)) == len(pending) == len(truth_pending),
            )
            for request_id, (dlq, card_count) in pending.items():
                line = next((x for x in view_texts(view) if f"`{request_id}`" in x), "")
                found = re.search(r"`: ([\d,]+) message\(s\) from `([^`]+)`", line)
                expires = re.search(r"expires (\S+ \d\d:\d\d) \+00:00", line)
                drill.check(
                    "3",
                    f"approval {dlq}: expires",
                    expires.group(1) if expires else None,
                    f"{expiry[request_id]} on its card",
                    bool(expires) and expires.group(1) == expiry[request_id],
                )
                drill.check(
                    "3",
                    f"approval {dlq}",
                    found.group(0)[3:] if found else line[:60],
                    f"{card_count} on its card",
                    bool(found) and _num(found.group(1)) == card_count and found.group(2) == dlq,
                )
            line = next((x for x in texts.splitlines() if f"`{run_id}`" in x and "run " in x), "")
            found = re.search(r"\*([\d,]+)\* of at most ([\d,]+)", line)
            truth_moved = run.moved if run else None
            drill.check(
                "3",
                f"run {run_dlq}: moved",
                found.group(1) if found else line[:60],
                f"{moved['distinct']} reached the sources, checkpoint {truth_moved}",
                bool(found) and _num(found.group(1)) == moved["distinct"] == truth_moved,
            )
            drill.check(
                "3",
                f"run {run_dlq}: of at most",
                found.group(2) if found else None,
                f"{request.matched if request else None} approved",
                bool(found) and request is not None and _num(found.group(2)) == request.matched,
            )
            check_head(drill, "3", ledger, view, (opened_at, published_at))
            text = dlq_section(view, run_dlq) or ""
            found = re.search(r"Depth \*about ([\d,]+)\* · in flight about ([\d,]+)", text)
            drill.check(
                "3",
                f"{run_dlq}: depth mid-run",
                found.group(1) if found else None,
                ledger.depth(run_dlq),
                bool(found) and _num(found.group(1)) == ledger.depth(run_dlq),
            )
            view_b = drill.open_home(BOB)[0]
            texts_b = "\n".join(view_texts(view_b))
            for request_id, (dlq, _) in pending.items():
                line = next((x for x in texts_b.splitlines() if f"`{request_id}`" in x), "")
                drill.check(
                    "3",
                    f"Bob's tab: {dlq} request",
                    "you may approve" if "you may approve" in line else line[-30:],
                    "you may approve (an approver, not his own)",
                    "you may approve" in line and "*yours*" not in line,
                )
            # The run goes on (its continuation is delivered), to its end.
            holding[0] = False
            invoker = boto3.client("lambda", endpoint_url=lambdas.endpoint_url)
            for payload in parked:
                invoker.invoke(
                    FunctionName="worker", InvocationType="Event", Payload=json.dumps(payload)
                )
            drill.settle()
            for source in SCENE_14[0][2]:
                got = ledger.mark(source, take_from(sqs, urls[source]), "run")
                moved = {k: moved[k] + got[k] for k in moved}
            run = store.get_run(run_id)
            refreshed = refresh(drill, ALICE)
            text = dlq_section(refreshed, run_dlq) or ""
            found = re.search(r"Depth \*about ([\d,]+)\*", text)
            drill.check(
                "3",
                f"Refresh: {run_dlq} depth after the run",
                found.group(1) if found else None,
                ledger.depth(run_dlq),
                bool(found) and _num(found.group(1)) == ledger.depth(run_dlq),
            )
            texts = "\n".join(view_texts(refreshed))
            drill.check(
                "3",
                "Refresh: runs in progress",
                "none" if "*Runs in progress*: none" in texts else "some",
                "none",
                "*Runs in progress*: none" in texts,
            )
            drill.check(
                "3",
                "run finished: moved",
                run.moved if run else None,
                f"{moved['distinct']} reached the sources",
                run is not None and run.moved == moved["distinct"],
            )

            # --- 4. alert checks ------------------------------------------------------------------
            print("4: alert checks while DLQs fill, grow and drain", flush=True)
            check_alerts(drill, ledger, env, urls)
            handlers.slack.endpoint.reset()
            handlers.worker.worker.reset()
            del handlers.alerts
    total = time.monotonic() - drill_started
    drill.timings.append(f"drill total: {total:.0f} s")
    (out / "timings.txt").write_text("\n".join(drill.timings) + "\n")
    (out / "checks.json").write_text(json.dumps([r.__dict__ for r in drill.rows], indent=1))
    table = render_table(drill.rows)
    (out / "table.txt").write_text(table)
    print(table)
    print("\n".join(drill.timings))
    bad = [r for r in drill.rows if r.ok is False]
    print(f"{len(drill.rows)} figures, {len(bad)} disagree; outputs in {out}")
    return 1 if bad else 0


def check_alerts(drill: Drill, ledger: Ledger, env: dict[str, str], urls: dict[str, str]) -> None:
    import handlers.alerts
    from bot.composition import build_alert_job
    from infra.local.lambda_server import LocalLambdaContext

    now = [datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)]
    job = build_alert_job(
        env,
        sqs_client=boto3.client("sqs"),
        dynamodb_client=boto3.client("dynamodb"),
        clock=lambda: now[0],
    )
    handlers.alerts.job.use(job)
    names = [d for d, *_ in SCENE_14] + [d for d, _ in EMPTY]
    told: dict[str, int] = {}

    def totals() -> dict[str, int]:
        out = {}
        for name in names:
            a = drill.sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["All"])[
                "Attributes"
            ]
            out[name] = sum(
                int(a[k])
                for k in (
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                )
            )
        return out

    def check(step: str, event_time: datetime) -> tuple[dict[str, Any], list[Any]]:
        counts = totals()
        for name in names:
            if counts[name] != ledger.depth(name):
                drill.check(step, f"{name}: SQS vs ledger", counts[name], ledger.depth(name), False)
        before = len(drill.slack.state.calls)
        started = time.monotonic()
        outcome = handlers.alerts.handler(
            {"time": event_time.isoformat().replace("+00:00", "Z")},
            LocalLambdaContext("dlq-redrive-alerts", 60.0, str(uuid.uuid4())),
        )
        took = time.monotonic() - started
        drill.timings.append(f"alert check {step} ({len(names)} DLQs): {took * 1000:.0f} ms")
        drill.log(f"\n>>> alert check {step} at {event_time:%H:%M}: {outcome}")
        new = [c for c in drill.slack.state.calls[before:] if c.method == "chat.postMessage"]
        drill.flush()
        return {"counts": counts, "outcome": outcome}, new

    def lines_of(call: Any) -> dict[str, str]:
        text = message_text(call.body)
        return {m.group(1): m.group(0) for m in re.finditer(r"• `([^`]+)`: [^\n]*", text)}

    def about(line: str, pattern: str = r"about ([\d,]+) message") -> int | None:
        found = re.search(pattern, line)
        return _num(found.group(1)) if found else None

    # C1: every DLQ holding messages, in one message
    result, posts = check("C1", now[0])
    counts = result["counts"]
    top = [c for c in posts if not c.body.get("thread_ts")]
    filling = sorted(n for n in names if counts[n] > 0)
    drill.check("C1", "top-level alerts", len(top), 1, len(top) == 1)
    title = (
        re.search(r"DLQ alert: ([\d,]+) DLQs? filling", message_text(top[0].body)) if top else None
    )
    drill.check(
        "C1",
        "alert: DLQs filling",
        title.group(1) if title else None,
        len(filling),
        bool(title) and _num(title.group(1)) == len(filling),
    )
    lines = lines_of(top[0]) if top else {}
    for name in names:
        shown = about(lines[name]) if name in lines else None
        truth = counts[name] if counts[name] > 0 else None
        drill.check(
            "C1",
            f"alert {name}",
            f"about {shown}" if shown is not None else "not named",
            f"{counts[name]} (ledger {ledger.depth(name)})",
            shown == truth,
        )
        if shown is not None:
            told[name] = shown
    first_thread = _ts_of(drill, top[0]) if top else ""
    context = message_text(top[0].body) if top else ""
    checked_at = re.search(r"Checked at (\d\d:\d\d) \(UTC\)", context)
    drill.check(
        "C1",
        "alert: checked at",
        checked_at.group(1) if checked_at else None,
        f"{now[0]:%H:%M} (the scheduled time)",
        bool(checked_at) and checked_at.group(1) == f"{now[0]:%H:%M}",
    )
    quiet_until = now[0] + timedelta(minutes=60)
    held = drill.held.get("emails-dlq", 0)
    line = lines.get("emails-dlq", "")
    breakdown = re.search(r"\(of them about ([\d,]+) in flight\)", line)
    drill.check(
        "C1",
        "alert emails-dlq: in flight",
        breakdown.group(0) if breakdown else line[-40:],
        f"{held} held by a consumer",
        bool(breakdown) and _num(breakdown.group(1)) == held,
    )

    # between: orders-dlq grows by 300, cart-dlq fills with 40
    add_late(drill.sqs, ledger, urls, "orders-dlq", "orders", 300)
    add_late(drill.sqs, ledger, urls, "cart-dlq", "cart", 40)
    now[0] += CHECK_EVERY
    result, posts = check("C2", now[0])
    counts = result["counts"]
    top = [c for c in posts if not c.body.get("thread_ts")]
    replies = [c for c in posts if c.body.get("thread_ts")]
    drill.check(
        "C2",
        "new top-level alert (cart-dlq only)",
        [sorted(lines_of(c)) for c in top],
        [["cart-dlq"]],
        [sorted(lines_of(c)) for c in top] == [["cart-dlq"]],
    )
    if top:
        shown = about(lines_of(top[0]).get("cart-dlq", ""))
        drill.check(
            "C2",
            "alert cart-dlq",
            f"about {shown}",
            counts["cart-dlq"],
            shown == counts["cart-dlq"] == ledger.depth("cart-dlq"),
        )
    in_thread = [c for c in replies if c.body["thread_ts"] == first_thread]
    drill.check(
        "C2",
        "growth replies in the first alert's thread",
        len(in_thread),
        1,
        len(in_thread) == 1 and len(replies) == 1,
    )
    growing = lines_of(in_thread[0]) if in_thread else {}
    line = growing.get("orders-dlq", "")
    now_shown = about(line, r"about ([\d,]+) messages? now")
    was = about(line, r"up from about ([\d,]+)")
    drill.check(
        "C2",
        "growth orders-dlq: now",
        now_shown,
        counts["orders-dlq"],
        now_shown == counts["orders-dlq"] == ledger.depth("orders-dlq"),
    )
    drill.check(
        "C2",
        "growth orders-dlq: up from",
        was,
        f"{told.get('orders-dlq')} told at C1",
        was == told.get("orders-dlq"),
    )
    drill.check(
        "C2",
        "growth: only orders-dlq",
        sorted(growing),
        ["orders-dlq"],
        sorted(growing) == ["orders-dlq"],
    )
    told["orders-dlq"] = counts["orders-dlq"]

    # between: notify-dlq drained, cart-dlq +5 (below the growth), promo-dlq fills with 3
    got = ledger.mark("notify", take_from(drill.sqs, urls["notify-dlq"]), "drained")
    drill.check("C3", "notify-dlq drained (received)", got["distinct"], "its ledger", None)
    add_late(drill.sqs, ledger, urls, "cart-dlq", "cart", 5)
    add_late(drill.sqs, ledger, urls, "promo-dlq", "promo", 3)
    now[0] += CHECK_EVERY
    result, posts = check("C3", now[0])
    counts = result["counts"]
    top = [c for c in posts if not c.body.get("thread_ts")]
    replies = [c for c in posts if c.body.get("thread_ts")]
    drill.check(
        "C3",
        "new top-level alert (promo-dlq only)",
        [sorted(lines_of(c)) for c in top],
        [["promo-dlq"]],
        [sorted(lines_of(c)) for c in top] == [["promo-dlq"]],
    )
    if top:
        shown = about(lines_of(top[0]).get("promo-dlq", ""))
        drill.check(
            "C3",
            "alert promo-dlq",
            f"about {shown}",
            counts["promo-dlq"],
            shown == counts["promo-dlq"] == 3,
        )
    said = {name: line for c in replies for name, line in lines_of(c).items()}
    drill.check(
        "C3",
        "replies: notify-dlq drained only",
        sorted(said),
        ["notify-dlq"],
        sorted(said) == ["notify-dlq"] and "drained" in said.get("notify-dlq", ""),
    )
    drill.check(
        "C3",
        "drained note in the first thread",
        [c.body["thread_ts"] == first_thread for c in replies],
        [True],
        [c.body["thread_ts"] == first_thread for c in replies] == [True],
    )
    drill.check("C3", "notify-dlq after drain", counts["notify-dlq"], 0, counts["notify-dlq"] == 0)

    # C4: nothing changed enough: nothing posted
    now[0] += CHECK_EVERY
    result, posts = check("C4", now[0])
    drill.check("C4", "posts of a quiet check", len(posts), 0, not posts)

    # between: notify-dlq fills again within its quiet period
    add_late(drill.sqs, ledger, urls, "notify-dlq", "notify", 20)
    now[0] += CHECK_EVERY
    event_time = now[0]
    result, posts = check("C5", event_time)
    counts = result["counts"]
    top = [c for c in posts if not c.body.get("thread_ts")]
    replies = [c for c in posts if c.body.get("thread_ts")]
    drill.check("C5", "top-level alerts (refill within quiet period)", len(top), 0, not top)
    said = {name: line for c in replies for name, line in lines_of(c).items()}
    line = said.get("notify-dlq", "")
    shown = about(line)
    drill.check(
        "C5",
        "refill notify-dlq in the first thread",
        line[:70],
        f"about {counts['notify-dlq']} (ledger {ledger.depth('notify-dlq')})",
        "filling again" in line
        and shown == counts["notify-dlq"] == 20
        and all(c.body["thread_ts"] == first_thread for c in replies),
    )
    until = re.search(r"quiet period \(until (\d\d:\d\d)\)", line)
    drill.check(
        "C5",
        "refill: quiet period until",
        until.group(1) if until else None,
        f"{quiet_until:%H:%M} (C1 + 60 min)",
        bool(until) and until.group(1) == f"{quiet_until:%H:%M}",
    )
    result, posts = check("C5 again", event_time)
    drill.check("C5 again", "posts of the same scheduled event", len(posts), 0, not posts)
    handlers.alerts.job.use(None)


def _ts_of(drill: Drill, call: Any) -> str:
    """The ts Slack answered a top-level post with (the local server's channel history)."""
    channel, text = call.body["channel"], call.body.get("text")
    messages = drill.slack.state.history.channels.get(channel, [])
    found = [m for m in messages if m.get("text") == text and not m.get("thread_ts")]
    return str(found[-1]["ts"]) if found else ""


def hold(drill: Drill, dlq: str, count: int) -> None:
    """A consumer receives ``count`` messages of ``dlq`` and holds them (in flight, 15 min)."""
    got = 0
    while got < count:
        got += len(
            drill.sqs.receive_message(
                QueueUrl=drill.urls[dlq],
                MaxNumberOfMessages=min(10, count - got),
                VisibilityTimeout=900,
            ).get("Messages", [])
        )
    drill.held[dlq] = drill.held.get(dlq, 0) + got
    drill.log(f"\n>>> a consumer holds {got} messages of {dlq} in flight")


def refresh(drill: Drill, user: str) -> dict[str, Any]:
    """``user`` clicks Refresh on their Home tab; the tab published then."""
    from bot.slack.ids import ActionId
    from infra.local.slack_events import view_action_body

    before = len(drill.slack.state.calls_to("views.publish"))
    view = drill.slack.state.home.views[user]
    drill.send(view_action_body(ActionId.HOME_REFRESH.value, "", user=user, view=view))
    drill.settle()
    if len(drill.slack.state.calls_to("views.publish")) == before:
        raise RuntimeError("Refresh published nothing")
    return dict(drill.slack.state.home.views[user])


def render_table(rows: list[Row]) -> str:
    lines = [f"{'step':<8} {'figure':<44} {'shown':<46} {'truth':<46} agree"]
    for r in rows:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        lines.append(f"{r.step:<8} {r.figure[:44]:<44} {r.shown[:46]:<46} {r.truth[:46]:<46} {ok}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
