"""The App Home's items of the state table stay within the roles, as the packaged template grants
them (``dynamodb:LeadingKeys``, enforced by RoleTable as DynamoDB does): the worker indexes each
request it stores (REQUESTS) and reads the pending ones, their runs, the daily report's snapshots
and last scan facts, and may not write the daily report's items; the daily function writes the
scan facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.daily.scan_facts import ScanFactsStore
from bot.daily.snapshots import Snapshot, SnapshotStore
from bot.errors import AwsError
from bot.slack.home_model import ScanFacts
from bot.state import StateStore
from tests.deploy.test_issue11_privilege_attacks import RoleTable
from tests.deploy.test_template import Template
from tests.unit.approval_requests import approval_request
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FACTS = ScanFacts(
    dlq="orders-dlq",
    scanned_at=NOW,
    messages=3,
    complete=True,
    oldest_sent=NOW - timedelta(days=1),
    next_expiry=NOW + timedelta(days=3),
    top_errors=(),
)


def test_the_daily_function_writes_scan_facts_and_the_worker_reads_what_the_home_shows(
    template: Template,
) -> None:
    # Given the daily function's role storing a snapshot and its scan facts
    fake = FakeStateTable()
    daily_table = RoleTable.of(template, "handlers/daily.handler", fake)
    SnapshotStore(daily_table).put(  # type: ignore[arg-type]
        Snapshot("orders-dlq", NOW.date() - timedelta(days=1), 3, exact=True), taken_at=NOW
    )
    ScanFactsStore(daily_table).put_all([FACTS], now=NOW)  # type: ignore[arg-type]

    # And the worker's role storing a request (and its index item)
    worker_table = RoleTable.of(template, "handlers/worker.handler", fake)
    worker = StateStore(worker_table)  # type: ignore[arg-type]
    worker.put_request(
        approval_request(
            "20261201-115900-abcdef",
            requested_at=NOW - timedelta(minutes=1),
            matched=3,
            approval_expires_at=NOW + timedelta(hours=1),
        )
    )

    # Then the worker reads everything the Home tab shows, nothing denied
    assert [r.request_id for r in worker.pending_requests(NOW)] == ["20261201-115900-abcdef"]
    assert worker.recent_runs() == []
    history = SnapshotStore(worker_table).histories(  # type: ignore[arg-type]
        ["orders-dlq"], NOW.date() - timedelta(days=7), NOW.date()
    )
    assert [s.depth for s in history["orders-dlq"].values()] == [3]
    assert ScanFactsStore(worker_table).get_many(["orders-dlq"]) == {  # type: ignore[arg-type]
        "orders-dlq": FACTS
    }
    assert worker_table.denied == [] and daily_table.denied == []


def test_the_worker_may_not_write_the_daily_report_s_items(template: Template) -> None:
    worker_table = RoleTable.of(template, "handlers/worker.handler", FakeStateTable())
    with pytest.raises(AwsError, match="not authorized") as denied:
        ScanFactsStore(worker_table).put(FACTS, now=NOW)  # type: ignore[arg-type]
    assert denied.value.code == "AccessDeniedException"
    with pytest.raises(AwsError, match="not authorized"):
        SnapshotStore(worker_table).put(  # type: ignore[arg-type]
            Snapshot("orders-dlq", NOW.date(), 0), taken_at=NOW
        )
    assert [pk for _, pk in worker_table.denied] == ["SCANFACTS#orders-dlq", "SNAPSHOT#orders-dlq"]
