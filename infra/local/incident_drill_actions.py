"""Issue 12's actions drilled by an on-call engineer at full size on LocalStack, every number the
CLI shows set beside an exact ledger of what was seeded.

    .venv/bin/python -m infra.local.incident_drill_actions --out /tmp/drill12   # ~8 min, 2 cores

Exit status 0 when every figure agreed with the ledger, else 1 (``checks.txt`` says which).
Not part of ``make test`` (too long); the findings it led to are tests in
``tests/unit/test_drill12_findings.py``.

The scene is ``incident_drill``'s (its generator, seeding and ledger are imported): 30,000
messages, ``orders-dlq`` 14,000 (two sources), ``billing-dlq`` 11,000, ``payments-dlq.fifo``
5,000, with ``ERROR_ATTRIBUTE=error``. ``orders-dlq``'s retention is cut to one hour after
seeding, so its next expiry is soon. Steps, each output in ``--out`` (``NN-name.txt``: command,
exit status, seconds), each check in ``checks.txt`` (``OK`` / ``DISAGREES``):

1. ``list`` and ``list --json`` (default scan, and a scan of every message): NEXT EXPIRY vs the
   SentTimestamps read independently (boto3, every message of the standard DLQs; the FIFO DLQ
   by the seeding's clock bracket) plus each DLQ's retention, exact or a true bound.
2. ``export billing-dlq`` (11,000) to a ``.jsonl``, under ``/usr/bin/time -v`` (peak RSS): lines,
   every seeded message exactly once, body and attributes byte for byte; the DLQ's depth after;
   the same with ``--limit 1000`` (RSS to compare); ``payments-dlq.fifo`` whole, which can give
   only the first 10 of each of its 40 groups (SQS hands out none of a group's later messages
   while earlier ones are held, and an export deletes nothing) and must say so (exit 1).
3. ``redrive --dry-run`` with ``--error`` (an attribute label, its ``#digest``, a body-shape
   label) and ``--where`` (a body field; an attribute and a body field together) on
   ``orders-dlq``: would move, by destination, needs a human, not selected vs the ledger.
4. ``discard billing-dlq --error UpstreamDown --archive FILE``: counted = archived = deleted =
   the ledger's group, the archive's lines exactly that group, the DLQ's depth after.
5. ``import FILE --to billing`` (``--dry-run``, then real): ``billing`` drained and compared
   with the archive, message by message.
6. ``edit billing-dlq ID --body-file`` (``--dry-run``, then real): the copy in ``billing``, the
   original gone, everything else still there.
7. ``redrive orders-dlq --canary 10`` while a consumer of ``orders`` and ``orders-retry`` keeps
   failing (receives, never deletes; maxReceiveCount 1): the stop, what came back, and the
   watch's cost (the CLI's ReceiveMessage calls on the DLQ after its last delete, counted by a
   relaying proxy) and time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.seed import depth
from infra.local.incident_drill import (
    CLI,
    MAX_REDRIVES,
    SCENE,
    Seeded,
    _id_of,
    _sqs,
    plan,
    seed,
    take_from,
)

SHORT_RETENTION_S = 3600  # orders-dlq's, so its next expiry is within the hour
TEXT_LABEL = "text order <n> failed: upstream said <n> at step <n>"


class Drill:
    """Runs the CLI, keeps each output, and writes each figure beside the ledger's."""

    def __init__(self, out: Path, env: dict[str, str]) -> None:
        self.out, self.env, self.n = out, env, 0
        self.checks: list[str] = []
        self.disagreements = 0

    def cli(
        self, name: str, *args: str, env: dict[str, str] | None = None, timed: bool = False
    ) -> tuple[int, str, float]:
        self.n += 1
        prefix = ["/usr/bin/time", "-v"] if timed else []
        started = time.monotonic()
        done = subprocess.run(
            [*prefix, CLI, *args],
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        took = time.monotonic() - started
        text = done.stdout + (f"\n--- stderr ---\n{done.stderr}" if done.stderr else "")
        header = f"$ dlq-redrive {' '.join(args)}\n# exit {done.returncode}, {took:.1f} s\n"
        (self.out / f"{self.n:02d}-{name}.txt").write_text(header + text)
        self.note(f"[{self.n:02d}] {name}: exit {done.returncode} in {took:.1f} s")
        if timed:
            for line in done.stderr.splitlines():
                if "Maximum resident set size" in line:
                    kib = int(line.rsplit(":", 1)[1])
                    self.note(f"     peak RSS of the CLI process: {kib / 1024:.1f} MiB")
        return done.returncode, done.stdout, took

    def note(self, line: str) -> None:
        print(line, flush=True)
        self.checks.append(line)

    def check(self, what: str, shown: Any, truth: Any, ok: bool | None = None) -> None:
        agrees = shown == truth if ok is None else ok
        self.disagreements += not agrees
        self.note(f"  {'OK' if agrees else 'DISAGREES'}  {what}: shown {shown!r}, ledger {truth!r}")


def _json_out(stdout: str) -> Any:
    return json.loads(stdout.strip().splitlines()[-1])


def label_of(rec: Seeded, body: str) -> str:
    """The error label the report gives ``rec``, from the ledger (not from the code under test)."""
    if rec.error:
        return rec.error
    if rec.kind == "text":
        return TEXT_LABEL
    if rec.kind == "nofield":
        return "json {id:num, note:str, source:str}"
    occurred = "num" if rec.fmt in ("epoch-ms", "epoch-s") else "str"
    return f"json {{amount:num, id:num, occurredAt:{occurred}, source:str}}"


def sent_timestamps(sqs: Any, url: str) -> dict[int, int]:
    """Every message's SentTimestamp (ms) in a standard DLQ, read by boto3 alone: each is held
    (10 minutes) until all are seen, then all are released."""
    seen: dict[str, int] = {}
    handles: list[str] = []
    expected = depth(sqs, url)
    empty = 0
    while len(seen) < expected and empty < 5:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        for m in got:
            seen[m["MessageId"]] = int(m["Attributes"]["SentTimestamp"])
            handles.append(m["ReceiptHandle"])
    for i in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(j), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for j, h in enumerate(handles[i : i + 10])
            ],
        )
    if len(seen) != expected:
        raise RuntimeError(f"{url}: read {len(seen)} of {expected}")
    return {i: t for i, t in enumerate(seen.values())}


def failing_consumer(sqs: Any, urls: Iterable[str], stop: threading.Event) -> None:
    """A consumer that still fails: receives and never deletes; with maxReceiveCount 1 the next
    receive dead-letters what it received."""
    while not stop.is_set():
        for url in urls:
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)


def ledger_of(records: list[Seeded], dlq: str) -> list[Seeded]:
    return [r for r in records if r.dlq == dlq and r.where == "dlq"]


def main() -> int:
    from infra.local.localstack import localstack
    from tests.faults.fault_proxy import Fault, FaultProxy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/incident-drill-actions"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    records, payloads = plan(today)
    with localstack() as ls:
        os.environ.update(ls.env)
        sqs = _sqs()
        started = time.time()
        urls = seed(sqs, records, payloads)
        seeded_by = time.time()
        print(f"seeded {len(records):,} in {seeded_by - started:.0f} s", flush=True)
        (out / "ledger.json").write_text(json.dumps([asdict(r) for r in records]))
        sqs.set_queue_attributes(
            QueueUrl=urls["orders-dlq"],
            Attributes={"MessageRetentionPeriod": str(SHORT_RETENTION_S)},
        )
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            **ls.env,
            "TIMEZONE": "UTC",
            "MAX_REDRIVES": str(MAX_REDRIVES),
            "ERROR_ATTRIBUTE": "error",
            "COLUMNS": "200",
        }
        drill = Drill(out, env)

        # 1. list: NEXT EXPIRY vs the SentTimestamps and the retention
        retention = {
            dlq: int(
                sqs.get_queue_attributes(
                    QueueUrl=urls[dlq], AttributeNames=["MessageRetentionPeriod"]
                )["Attributes"]["MessageRetentionPeriod"]
            )
            for dlq, *_ in SCENE
        }
        oldest_ms = {
            dlq: min(sent_timestamps(sqs, urls[dlq]).values())
            for dlq, fifo, *_ in SCENE
            if not fifo
        }
        _, table, _ = drill.cli("list", "list")
        for dlq, true_ms in oldest_ms.items():
            true_expiry = datetime.fromtimestamp(true_ms / 1000 + retention[dlq], UTC)
            row = next(line for line in table.splitlines() if line.startswith(dlq + " "))
            # "... 2026-12-01 22:39 +00:00 ...": the first time before "+00:00" (TIMEZONE=UTC)
            day, minute = row.split("+00:00")[0].split()[-2:]
            minute_shown = datetime.fromisoformat(f"{day}T{minute}:00+00:00")
            if "at the latest" in row:  # a bound: never before the truth
                drill.check(
                    f"list {dlq} 'at the latest' minute",
                    minute_shown.isoformat(),
                    true_expiry.isoformat(),
                    ok=minute_shown >= true_expiry,
                )
            else:  # exact: the truth's minute
                drill.check(
                    f"list {dlq} exact minute",
                    minute_shown,
                    true_expiry.replace(second=0, microsecond=0),
                )
        for name, extra in (("list-json", ()), ("list-json-full", ("--expiry-scan", "20000"))):
            _, stdout, _ = drill.cli(name, "--json", "list", *extra)
            for row in _json_out(stdout)["dlqs"]:
                dlq, nxt = row["name"], row["next_expiry"]
                at = datetime.fromisoformat(nxt["at"]).timestamp()
                if dlq in oldest_ms:
                    true_at = oldest_ms[dlq] / 1000 + retention[dlq]
                    if nxt["exact"]:
                        drill.check(f"{name} {dlq} next expiry (exact)", at, true_at)
                    else:
                        drill.check(
                            f"{name} {dlq} next expiry 'at the latest' >= true",
                            nxt["at"],
                            datetime.fromtimestamp(true_at, UTC).isoformat(),
                            ok=at >= true_at - 0.001,
                        )
                else:  # FIFO: every SentTimestamp is within the seeding's clock
                    low, high = started + retention[dlq] - 1, seeded_by + retention[dlq] + 1
                    drill.check(
                        f"{name} {dlq} next expiry within seeding + retention",
                        nxt["at"],
                        f"[{datetime.fromtimestamp(low, UTC)}, "
                        f"{datetime.fromtimestamp(high, UTC)}]",
                        ok=(low <= at <= high) if nxt["exact"] else at >= low,
                    )
                drill.note(f"     {dlq}: {nxt}")

        # 2. export a whole 11,000-message DLQ
        export = out / "billing-export.jsonl"
        export.unlink(missing_ok=True)
        code, stdout, took = drill.cli(
            "export-billing", "--json", "export", "billing-dlq", "--out", str(export), timed=True
        )
        summary = _json_out(stdout)
        billing = ledger_of(records, "billing-dlq")
        lines = export.read_text(encoding="utf-8").splitlines()
        drill.check("export exit status", code, 0)
        drill.check("export archived", summary.get("archived"), len(billing))
        drill.check("export file lines", len(lines), len(billing))
        drill.note(f"     export rate: {len(lines) / took:.0f} msg/s incl. start")
        by_n: Counter[int] = Counter()
        mismatched = 0
        ids: dict[int, str] = {}
        for line in lines:
            rec = json.loads(line)
            n = _id_of(rec["body"])
            by_n[n] += 1
            ids[n] = rec["message_id"]
            body, attrs = payloads[("billing", n)]
            got_attrs = {
                k: {"DataType": v["DataType"], "StringValue": v.get("StringValue")}
                for k, v in rec.get("message_attributes", {}).items()
            }
            if rec["body"] != body or got_attrs != attrs:
                mismatched += 1
        drill.check(
            "export: seeded messages present exactly once",
            sorted(Counter(by_n.values()).items()),
            [(1, len(billing))],
        )
        drill.check("export: bodies or attributes differing", mismatched, 0)
        drill.check("billing-dlq depth after export", depth(sqs, urls["billing-dlq"]), 11000)
        # Memory does not grow with the queue: the same export of a tenth of it
        small = out / "billing-export-1000.jsonl"
        small.unlink(missing_ok=True)
        drill.cli(
            "export-billing-1000",
            *("--json", "export", "billing-dlq", "--limit", "1000", "--out", str(small)),
            timed=True,
        )
        drill.check("export --limit 1000 lines", len(small.read_text().splitlines()), 1000)
        # A FIFO DLQ: 5,000 in 40 groups, each group's messages behind its first
        fifo_export = out / "payments-export.jsonl"
        fifo_export.unlink(missing_ok=True)
        code, stdout, _ = drill.cli(
            "export-payments",
            *("--json", "export", "payments-dlq.fifo", "--out", str(fifo_export)),
            timed=True,
        )
        # SQS hands out none of a FIFO group's later messages while earlier ones are held, and
        # an export deletes nothing: it can read the first 10 of each group (one receive's
        # worth), and must say it could not see past the rest (exit 1, blocked_groups).
        payments = ledger_of(records, "payments-dlq.fifo")
        heads = {r.n for r in payments if r.n < 10 * 40}
        fifo_lines = [json.loads(line) for line in fifo_export.read_text().splitlines()]
        shown = _json_out(stdout)
        drill.check("export payments exit status (could not see past)", code, 1)
        drill.check("export payments blocked groups", shown.get("blocked_groups"), 40)
        drill.check("export payments archived", shown.get("archived"), len(heads))
        seen = Counter(_id_of(r["body"]) for r in fifo_lines)
        drill.check(
            "export payments: the first 10 of each group, once each",
            (len(fifo_lines), len(seen)),
            (len(heads), len(heads)),
            ok=set(seen) == heads and len(fifo_lines) == len(heads),
        )
        wrong = sum(
            r["body"] != payloads[("payments.fifo", _id_of(r["body"]))][0]
            or r["attributes"].get("MessageGroupId") != f"acct-{_id_of(r['body']) % 40}"
            for r in fifo_lines
        )
        drill.check("export payments: bodies or groups differing", wrong, 0)
        order = [_id_of(r["body"]) for r in fifo_lines]
        out_of_order = sum(
            1
            for g in range(40)
            if [n for n in order if n % 40 == g] != sorted(n for n in order if n % 40 == g)
        )
        drill.check("export payments: groups out of order in the file", out_of_order, 0)
        drill.check("payments-dlq depth after export", depth(sqs, urls["payments-dlq.fifo"]), 5000)

        # 3. --error and --where counts
        orders = ledger_of(records, "orders-dlq")

        def dry_run(name: str, selection: tuple[str, ...], chosen: list[Seeded]) -> None:
            _, stdout, _ = drill.cli(
                name, "--json", "redrive", "orders-dlq", "--dry-run", *selection
            )
            shown = _json_out(stdout)
            movable = [r for r in chosen if not r.poison]
            # A dry run's "matched" is what would move (poison is "needs a human").
            drill.check(f"{name} matched (would move)", shown.get("matched"), len(movable))
            drill.check(
                f"{name} by destination",
                shown.get("by_destination"),
                dict(Counter(r.source for r in movable)),
            )
            drill.check(
                f"{name} needs a human", shown.get("needs_human"), len(chosen) - len(movable)
            )
            detail = shown.get("skipped_detail") or {}
            drill.check(
                f"{name} not selected", detail.get("out_of_window"), len(orders) - len(chosen)
            )
            drill.check(f"{name} scanned", shown.get("scanned"), len(orders))

        dry_run(
            "dry-run-error-attr",
            ("--error", "PaymentTimeout"),
            [r for r in orders if r.error == "PaymentTimeout"],
        )
        digest = "#" + hashlib.sha256(b"UpstreamDown").hexdigest()[:12]
        dry_run(
            "dry-run-error-digest",
            ("--error", digest),
            [r for r in orders if r.error == "UpstreamDown"],
        )
        dry_run(
            "dry-run-error-text",
            ("--error", TEXT_LABEL),
            [r for r in orders if label_of(r, "") == TEXT_LABEL],
        )
        dry_run(
            "dry-run-where-amount",
            ("--where", "amount=7"),
            [r for r in orders if r.kind == "dated" and r.n % 500 == 7],
        )
        dry_run(
            "dry-run-where-attr-source",
            ("--where", "attr.error=UpstreamDown", "--where", "source=orders-retry"),
            [
                r
                for r in orders
                if r.error == "UpstreamDown" and r.kind != "text" and r.source == "orders-retry"
            ],
        )

        # 4. discard an error group with an archive
        archive = out / "billing-discard.jsonl"
        archive.unlink(missing_ok=True)
        group = [r for r in billing if r.error == "UpstreamDown"]
        _, stdout, _ = drill.cli(
            "discard-dry-run",
            *("--json", "discard", "billing-dlq", "--error", "UpstreamDown", "--dry-run"),
            *("--archive", str(archive)),
        )
        drill.check("discard --dry-run matched", _json_out(stdout).get("matched"), len(group))
        code, stdout, _ = drill.cli(
            "discard",
            *("--json", "discard", "billing-dlq", "--error", "UpstreamDown"),
            *("--archive", str(archive)),
        )
        shown = _json_out(stdout)
        archived_lines = archive.read_text(encoding="utf-8").splitlines()
        archived_ns = Counter(_id_of(json.loads(line)["body"]) for line in archived_lines)
        drill.check("discard exit status", code, 0)
        drill.check("discard matched", shown.get("matched"), len(group))
        drill.check("discard archived", shown.get("archived"), len(group))
        drill.check("discard deleted (moved)", shown.get("moved"), len(group))
        drill.check("discard archive lines", len(archived_lines), len(group))
        drill.check(
            "discard archive = the group (records, distinct)",
            (len(archived_lines), len(archived_ns)),
            (len(group), len(group)),
            ok=set(archived_ns) == {r.n for r in group} and max(archived_ns.values()) == 1,
        )
        drill.check(
            "billing-dlq depth after discard",
            depth(sqs, urls["billing-dlq"]),
            len(billing) - len(group),
        )
        for r in group:
            r.where = "discarded"

        # 5. import the archive back into the source
        _, stdout, _ = drill.cli(
            "import-dry-run", "--json", "import", str(archive), "--to", "billing", "--dry-run"
        )
        drill.note(f"     import --dry-run: {stdout.strip()[-300:]}")
        drill.check("billing depth after import --dry-run", depth(sqs, urls["billing"]), 0)
        code, stdout, took = drill.cli(
            "import", "--json", "import", str(archive), "--to", "billing"
        )
        drill.note(f"     import: {stdout.strip()[-300:]}")
        drill.check("import exit status", code, 0)
        received = take_from(sqs, urls["billing"])
        got = Counter(_id_of(m["Body"]) for m in received)
        drill.check(
            "import: billing received the archive exactly once each",
            (len(received), len(got)),
            (len(group), len(group)),
            ok=set(got) == {r.n for r in group} and len(received) == len(group),
        )
        differing = 0
        for m in received:
            body, attrs = payloads[("billing", _id_of(m["Body"]))]
            got_attrs = {
                k: {"DataType": v["DataType"], "StringValue": v.get("StringValue")}
                for k, v in m.get("MessageAttributes", {}).items()
            }
            differing += m["Body"] != body or got_attrs != attrs
        drill.check("import: bodies or attributes differing", differing, 0)
        for r in group:
            r.where = "imported"

        # 6. edit one message
        # Deep in the queue (the last one sent) and with an attribute to keep.
        target = [r for r in ledger_of(records, "billing-dlq") if r.kind == "dated" and r.error][-1]
        old_body, old_attrs = payloads[("billing", target.n)]
        new = json.loads(old_body)
        new["amount"] = 12345
        new_body = json.dumps(new, indent=2) + "\n"
        body_file = out / "edited.json"
        body_file.write_text(new_body, encoding="utf-8")
        edit = ("edit", "billing-dlq", ids[target.n], "--body-file", str(body_file))
        _, stdout, _ = drill.cli("edit-dry-run", "--json", *edit, "--dry-run")
        drill.check("billing depth after edit --dry-run", depth(sqs, urls["billing"]), 0)
        code, stdout, _ = drill.cli("edit", "--json", *edit)
        drill.check("edit exit status", code, 0)
        received = take_from(sqs, urls["billing"])
        drill.check("edit: copies in billing", len(received), 1)
        if received:
            copy = received[0]
            drill.check("edit: body byte for byte", copy["Body"], new_body)
            count = copy.get("MessageAttributes", {}).get("dlq-redrive-count", {})
            drill.check(
                "edit: counter incremented", count.get("StringValue"), str(target.count + 1)
            )
            kept = {k for k in copy.get("MessageAttributes", {}) if k != "dlq-redrive-count"}
            drill.check("edit: other attributes kept", kept, set(old_attrs) - {"dlq-redrive-count"})
        target.where = "edited"
        drill.check(
            "billing-dlq depth after edit",
            depth(sqs, urls["billing-dlq"]),
            len(ledger_of(records, "billing-dlq")),
        )

        # 7. canary into a consumer that still fails
        times: list[tuple[float, str]] = []
        lock = threading.Lock()

        def record(action: str, _seen: int) -> Fault:
            with lock:
                times.append((time.monotonic(), action))
            return Fault.PASS

        stop = threading.Event()
        sources = [urls["orders"], urls["orders-retry"]]
        consumer = threading.Thread(target=failing_consumer, args=(_sqs(), sources, stop))
        consumer.start()
        try:
            with FaultProxy(ls.endpoint, record) as proxy:
                canary_env = {**env, "AWS_ENDPOINT_URL": proxy.endpoint}
                code, stdout, took = drill.cli(
                    "canary",
                    *("--json", "redrive", "orders-dlq", "--canary", "10"),
                    env=canary_env,
                )
        finally:
            stop.set()
            consumer.join()
        shown = _json_out(stdout)
        drill.check("canary exit status", code, 1)
        drill.check("canary stopped", shown.get("stopped"), True)
        drill.check("canary moved", (shown.get("canary") or {}).get("moved"), 10)
        drill.check("canary returned", shown.get("returned"), 10)
        drill.check("canary rest", shown.get("rest"), None)
        deletes = [t for t, a in times if a == "DeleteMessageBatch"]
        last_delete = max(deletes) if deletes else times[0][0]
        watch = [t for t, a in times if a == "ReceiveMessage" and t > last_delete]
        drill.note(
            f"     canary: {took:.1f} s in all; the watch made {len(watch)} ReceiveMessage calls"
            f" on orders-dlq over {(max(watch) - last_delete) if watch else 0:.1f} s"
            f" (all calls: {Counter(a for _, a in times)})"
        )
        drill.check(
            "orders-dlq depth after the canary (10 out, 10 back)",
            depth(sqs, urls["orders-dlq"]),
            len(orders),
        )
        drill.cli("list-end", "list")
    (out / "checks.txt").write_text("\n".join(drill.checks) + "\n")
    print(f"{drill.disagreements} disagreement(s); outputs in {out}")
    return 1 if drill.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
