"""What one scheduled run of the daily report (or of the alert checks) has already done, in the
state table: its posted parts, its rendered report, and where each DLQ's auto-redrive stopped.

Also the key space ``bot.daily.snapshots`` adds the run's moved counts to
(``pk = "DAILYRUN#<scheduled time>"``, ``sk = "<dlq name>"``).
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import StateTableApi, key

RUN_RETENTION = timedelta(days=3)
# An auto-redrive window's end is kept as long as the snapshots (bot.daily.snapshots.RETENTION).
WINDOW_RETENTION = timedelta(days=60)
RUN_PREFIX = "DAILYRUN#"
POST_PREFIX = "POST#"
REPORT_KEY = "REPORT#"  # "#" is not allowed in a queue name: no clash with the moved counts
WINDOW_PREFIX = "AUTOREDRIVE#"


class RunState:
    """What one scheduled run has already done, and where each DLQ's auto-redrive stopped.

    - Posted parts (``pk = "DAILYRUN#<scheduled time>"``, ``sk = "POST#<part>"``, with the
      Slack ``ts``): a retried run (Lambda retries a run that failed, e.g. on a refused thread
      reply) updates what it posted before and posts only what is missing.
    - The report as the run rendered it (``sk = "REPORT"``, compressed JSON): the continuation
      that finishes the auto-redrive re-renders it with the final figures.
    - The end of the last auto-redrive window a DLQ finished (``pk = "AUTOREDRIVE#<dlq>"``,
      ``sk = "window"``): the next run starts from it.
    """

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def posted(self, run: str) -> dict[str, str]:
        """The ``ts`` of every part of ``run``'s messages posted so far, by part name."""
        items = self.table.query(
            RUN_PREFIX + run, sk_prefix=POST_PREFIX, doing=f"read what run {run} posted"
        )
        return {item[SORT_KEY]["S"][len(POST_PREFIX) :]: item["ts"]["S"] for item in items}

    def record_post(self, run: str, part: str, ts: str, *, now: datetime) -> None:
        self.table.put(
            {
                PARTITION_KEY: {"S": RUN_PREFIX + run},
                SORT_KEY: {"S": POST_PREFIX + part},
                "ts": {"S": ts},
                TTL_ATTRIBUTE: {"N": str(int((now + RUN_RETENTION).timestamp()))},
            },
            doing=f"record the post {part!r} of run {run}",
        )

    def save_report(self, run: str, report: str, *, now: datetime) -> None:
        """Keep ``report`` (JSON text) for the continuation that finishes the run."""
        self.table.put(
            {
                PARTITION_KEY: {"S": RUN_PREFIX + run},
                SORT_KEY: {"S": REPORT_KEY},
                "report": {"B": zlib.compress(report.encode("utf-8"))},
                TTL_ATTRIBUTE: {"N": str(int((now + RUN_RETENTION).timestamp()))},
            },
            doing=f"save the report of run {run}",
        )

    def load_report(self, run: str) -> str | None:
        item = self.table.get(
            key(RUN_PREFIX + run, REPORT_KEY), doing=f"read the report of run {run}"
        )
        return None if item is None else zlib.decompress(item["report"]["B"]).decode("utf-8")

    def window_end(self, dlq: str, run: str) -> datetime | None:
        """Where the last auto-redrive window of ``dlq`` that a run finished ended, as seen by
        run ``run`` (None: never): an earlier attempt of ``run`` itself does not count, so every
        attempt of one run takes the same window."""
        item = self.table.get(
            key(WINDOW_PREFIX + dlq, "window"), doing=f"read the window of {dlq!r}"
        )
        if item is None:
            return None
        if item["run"]["S"] == run:
            item = item.get("before", {}).get("M")
            if item is None:
                return None
        return datetime.fromisoformat(item["end"]["S"])

    def save_window_end(self, dlq: str, run: str, end: datetime, *, now: datetime) -> None:
        """Run ``run`` went through ``dlq``'s window up to ``end``."""
        doing = f"save the window of {dlq!r}"
        item = self.table.get(key(WINDOW_PREFIX + dlq, "window"), doing=doing)
        before = item.get("before", {}).get("M") if item and item["run"]["S"] == run else item
        record: dict[str, Any] = {
            PARTITION_KEY: {"S": WINDOW_PREFIX + dlq},
            SORT_KEY: {"S": "window"},
            "end": {"S": end.isoformat()},
            "run": {"S": run},
            TTL_ATTRIBUTE: {"N": str(int((now + WINDOW_RETENTION).timestamp()))},
        }
        if before is not None:
            record["before"] = {"M": {"end": before["end"], "run": before["run"]}}
        self.table.put(record, doing=doing)
