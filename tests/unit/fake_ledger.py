"""The ``RedriveLedger`` protocol (bot.engine) in memory, for engine tests without the state
table (the worker's and the daily job's ledger is ``bot.redrive_ledger``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence


class MemoryLedger:
    """How many times each digest of each DLQ was redriven, as the state table's ledger counts."""

    def __init__(self) -> None:
        self.redrives: Counter[tuple[str, str]] = Counter()

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        return {d: self.redrives[(dlq, d)] for d in digests if self.redrives[(dlq, d)]}

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        for digest in digests:
            self.redrives[(dlq, digest)] += 1
