"""A pinned (approved) run says a message the ledger counts as poison needs a human, as its
count did, and not "out of window": never counted, so never pinned, it is poison first. On the
in-memory SQS with an in-memory ledger."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.catalog import Dlq
from bot.engine import RedriveEngine
from bot.redrive_model import RedriveRequest
from bot.selection import Pin, Selection
from tests.unit.fake_sqs import FakeSqs

COUNTED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TEN_ATTRIBUTES = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}


class MemoryLedger:
    """``RedriveLedger`` in memory: every digest already redriven ``times`` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.recorded: Counter[str] = Counter()

    def counts(self, dlq: str, digests: Collection[str]) -> dict[str, int]:
        return dict.fromkeys(digests, self.times)

    def record(self, dlq: str, digests: Sequence[str]) -> None:
        self.recorded.update(digests)


def put(sqs: FakeSqs, url: str, body: str, **attributes: dict[str, str]) -> str:
    message_id = sqs.put(url, body, **attributes)
    sent = COUNTED_AT - timedelta(hours=1)
    sqs.queues[url].messages[message_id].attributes["SentTimestamp"] = str(
        int(sent.timestamp() * 1000)
    )
    return message_id


def test_a_pinned_run_says_ledger_poison_needs_a_human_and_the_unpinned_are_out_of_window() -> None:
    # Given a DLQ with an ordinary message and one with 10 attributes the ledger counted as
    # redriven 3 times (MAX_REDRIVES 3), and an approval whose pin holds neither
    sqs = FakeSqs()
    dlq_url, source = sqs.create("orders-dlq"), sqs.create("orders")
    put(sqs, dlq_url, json.dumps({"order": "plain"}))
    put(sqs, dlq_url, json.dumps({"order": "crowded"}), **TEN_ATTRIBUTES)
    ledger = MemoryLedger(times=3)
    engine = RedriveEngine(sqs, max_redrives=3, timezone=ZoneInfo("UTC"), ledger=ledger)  # type: ignore[arg-type]

    # When the approved run scans the DLQ
    report = engine.run(
        Dlq(sqs.info(dlq_url), (sqs.info(source),)),
        RedriveRequest(
            selection=Selection(pin=Pin(COUNTED_AT, frozenset())),
            workers=1,
            confirm_empty_wait_s=0,
        ),
    )

    # Then the crowded one needs a human, the ordinary one is out of the approval's window,
    # nothing moved, nothing was counted as redriven, and both are still in the DLQ
    assert (report.needs_human, report.out_of_window, report.moved) == (1, 1, 0)
    assert report.skipped == 2 and report.failed == 0
    assert ledger.recorded == Counter()
    assert sqs.visible(dlq_url) == 2 and sqs.visible(source) == 0
