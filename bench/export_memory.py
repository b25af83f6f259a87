"""Peak memory of `dlq-redrive export DLQ --out FILE` at two DLQ sizes (a section of make bench).

    .venv/bin/python -m bench.run   # the full run includes it (LocalStack's SQS)

Each size is a fresh DLQ on LocalStack, filled by SQS dead-lettering (bench/seed.py), exported to
a new local ``.jsonl`` file by the CLI in a child process of its own (``--child``), so its peak
RSS (``VmHWM``) is the export's alone. The messages stay in the DLQ; the bench checks that the
export wrote every one and left every one there.

The figure is not flat, and is not meant to be: an export keeps every message it received hidden,
with its receipt handle, until the end, so that the DLQ's messages are not received twice (it
deletes nothing, so a released message would come back in a later receive). Memory therefore
grows with the held handles, up to ``MAX_HELD`` of them (just under SQS's in-flight quota of
120,000 a standard queue), when the run stops. The section reports the growth per 1,000 messages.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.child import run_child, vm_hwm_mb
from bench.seed import client, create_pair, delete_pair, depth, seed_dead_lettered


def child(dlq: str, out_path: str) -> dict[str, Any]:
    """``export DLQ --out FILE`` in this process; its report's counts and this process's peak."""
    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main(["--json", "export", dlq, "--out", out_path], out=out, err=err)
    if status != 0:
        raise SystemExit(f"export exited {status}: {err.getvalue()}")
    report = json.loads(out.getvalue())
    return {"archived": report["archived"], "scanned": report["scanned"], "peak_mb": vm_hwm_mb()}


def measure(sizes: Sequence[int], env: dict[str, str]) -> dict[str, Any]:
    """Peak RSS (MB) of the export at each DLQ size, against the SQS that ``env`` points at."""
    from bot.engine_scan import MAX_HELD

    results: dict[str, Any] = {"sizes": list(sizes), "peak_mb": [], "max_held": MAX_HELD}
    sqs = client()
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            pair = create_pair(sqs, f"bench-export-{int(time.time() * 1000) % 10**8}")
            seed_dead_lettered(sqs, pair, size)
            path = Path(tmp) / f"export-{size}.jsonl"
            out, _ = run_child("bench.export_memory", ["--child", pair.dlq_name, str(path)], env)
            lines = sum(1 for _ in path.open())
            left = depth(sqs, pair.dlq_url)
            delete_pair(sqs, pair)
            if out["archived"] != size or lines != size or left != size:
                raise RuntimeError(f"export of {size}: {out}, {lines} lines, {left} left in DLQ")
            results["peak_mb"].append(out["peak_mb"])
    return results


def growth_per_1000(section: dict[str, Any]) -> float:
    """MB the export's peak grows per 1,000 more messages, between the two sizes."""
    small, large = (int(size) for size in section["sizes"])
    low, high = (float(mb) for mb in section["peak_mb"])
    return (high - low) * 1000 / (large - small)


def rows(section: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) rows of this section for bench.run's table."""
    small, large = section["sizes"]
    low, high = section["peak_mb"]
    per_1000 = growth_per_1000(section)
    at_most = low + per_1000 * (section["max_held"] - small) / 1000
    return [
        (
            f"export peak RSS: {small:,} -> {large:,} messages (LocalStack, to a file)",
            f"{low} -> {high} MB",
            "grows: holds every receipt handle to the end",
            None,
        ),
        (
            "  export growth per 1,000 messages",
            f"{per_1000:.2f} MB",
            f"(for reading; at {section['max_held']:,} held ~{at_most:.0f} MB, extrapolated)",
            None,
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] != ["--child"] or len(sys.argv) != 4:
        raise SystemExit("usage: python -m bench.export_memory --child DLQ FILE (run by bench.run)")
    print(json.dumps(child(sys.argv[2], sys.argv[3])))
