"""Peak memory of ``import`` reading an archive, at two sizes: it must not grow with the archive.

    .venv/bin/python -m bench.run --only archive-memory           # a section of `make bench`
    .venv/bin/python -m bench.archive_memory                       # 10,000 and 100,000 records
    .venv/bin/python -m bench.archive_memory --records 2000,20000  # smaller, quicker

Each size is written once as a local ``.jsonl`` file (``JsonlFileSink``) and as objects of 100
records on moto's S3 (``S3Archive``, the server in this parent process). A child process of its own
(so its peak RSS, ``VmHWM``, is the import's alone) reads it (``JsonlFileSource``,
``S3Source``) and imports every record with ``import_records`` into a stand-in SQS that confirms
every entry and keeps nothing: what is measured is reading, parsing, planning and batching. Bodies
are 1 KiB of JSON with non-ASCII text (written escaped: about 1.3 KiB a line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.child import run_child, vm_hwm_mb

RECORDS_PER_OBJECT = 100
BUCKET = "bench-archive"


def _record(n: int) -> Any:
    from bot.archive_model import ArchiveRecord

    body = json.dumps({"order": n, "note": "ünïcode ✓ " + "x" * 990})
    return ArchiveRecord(
        f"id-{n:08d}",
        body,
        {"tenant": {"DataType": "String", "StringValue": "acme"}},
        {"SentTimestamp": "1764547200000"},
        "orders-dlq",
        None,
    )


class _ConfirmingSqs:
    """SendMessageBatch that confirms every entry and keeps nothing."""

    def __init__(self) -> None:
        self.sent = 0

    def send_batch(
        self, url: str, entries: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[Any]]:
        self.sent += len(entries)
        return [entry["Id"] for entry in entries], []


def child(kind: str, location: str) -> None:
    """Import the archive at ``location`` into the stand-in; print the figures as JSON."""
    from bot.composition import archive_source
    from bot.importer import import_records
    from bot.sqs_model import QueueInfo

    queue = QueueInfo("orders", "https://sqs.bench/1/orders", "arn", False, 0, 0, 0, None)
    sqs = _ConfirmingSqs()
    source = archive_source(location)
    report = import_records(sqs, source.records(), queue, location=source.location)  # type: ignore[arg-type]
    print(json.dumps({"kind": kind, "read": report.read, "sent": sqs.sent, "peak_mb": vm_hwm_mb()}))


def _write_archives(records: int, directory: Path) -> tuple[str, str]:
    import boto3

    from bot.archive_files import JsonlFileSink
    from bot.s3_gateway import S3Archive

    path = directory / f"archive-{records}.jsonl"
    prefix = f"s3://{BUCKET}/bench/{records}"
    s3 = S3Archive(boto3.client("s3"), prefix)
    with JsonlFileSink(path) as sink:
        for start in range(0, records, RECORDS_PER_OBJECT):
            batch = [_record(n) for n in range(start, min(records, start + RECORDS_PER_OBJECT))]
            sink.write(batch)
            s3.write(batch)
    return str(path), prefix


def measure(sizes: Sequence[int]) -> dict[str, Any]:
    """Peak RSS (MB) of the file and the S3 import at each size."""
    import boto3

    from infra.local.moto_server import local_aws

    results: dict[str, Any] = {"sizes": list(sizes), "file_mb": [], "s3_mb": []}
    with local_aws(os.environ) as aws, tempfile.TemporaryDirectory() as tmp:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        env = {**os.environ, **aws.env}
        for size in sizes:
            path, prefix = _write_archives(size, Path(tmp))
            for kind, location in (("file", path), ("s3", prefix)):
                out, _ = run_child("bench.archive_memory", ["--child", kind, location], env)
                assert out["read"] == out["sent"] == size, out
                results[f"{kind}_mb"].append(out["peak_mb"])
    return results


GROWTH_LIMIT = 1.25  # the larger archive's peak may be at most this times the smaller one's


def rows(section: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) rows of this section for bench.run's table: for each source,
    the peak RSS at both sizes against the target that it does not grow with the archive."""
    small, large = section["sizes"]
    table: list[tuple[str, str, str, bool | None]] = []
    for kind, label in (("file", "a local .jsonl file"), ("s3", "moto S3")):
        low, high = section[f"{kind}_mb"]
        table.append(
            (
                f"import peak RSS from {label}: {small:,} -> {large:,} records",
                f"{low} -> {high} MB ({high / low:.2f}x)",
                f"<= {GROWTH_LIMIT:g}x the smaller (flat)",
                high <= GROWTH_LIMIT * low,
            )
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.archive_memory", description=__doc__)
    parser.add_argument("--records", default="10000,100000", help="two archive sizes")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "LOCATION"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sizes = [int(x) for x in args.records.split(",")]
    results = measure(sizes)
    for kind in ("file", "s3"):
        figures = ", ".join(
            f"{size:,} records: {mb} MB"
            for size, mb in zip(sizes, results[f"{kind}_mb"], strict=True)
        )
        print(f"import from {kind}: peak RSS {figures}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
