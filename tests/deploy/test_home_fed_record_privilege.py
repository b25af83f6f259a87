"""The daily report's record of the feeder-fed DLQs and their kinds (``ALERTWATCH``/``fed``,
``bot.alerts.store.FedDlqStore``) within the roles, as the packaged template grants them
(``dynamodb:LeadingKeys``, enforced by RoleTable as DynamoDB does): the daily function writes
it, the worker reads it for the App Home tab (``bot.watched_dlqs``: no feeder scan on open)
and may not write it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.store import FedDlqStore
from bot.errors import AwsError
from bot.feeders import Kind
from tests.deploy.test_issue11_privilege_attacks import RoleTable
from tests.deploy.test_template import Template
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
URLS = {"notices-dlq": "https://sqs.us-east-1.amazonaws.com/123456789012/notices-dlq"}


def test_the_daily_function_records_the_fed_dlqs_and_the_worker_reads_them(
    template: Template,
) -> None:
    # Given the daily function's role recording what its feeder scan found
    fake = FakeStateTable()
    daily_table = RoleTable.of(template, "handlers/daily.handler", fake)
    FedDlqStore(daily_table).record(  # type: ignore[arg-type]
        URLS,
        kinds={"notices-dlq": (Kind.SNS,)},
        unread=((Kind.LAMBDA, "throttled"),),
        now=NOW,
    )
    # When the worker's role reads it, as the Home tab does on open
    worker_table = RoleTable.of(template, "handlers/worker.handler", fake)
    record = FedDlqStore(worker_table).latest()  # type: ignore[arg-type]
    # Then it reads the record whole, nothing denied
    assert record.urls == URLS and record.kinds == {"notices-dlq": (Kind.SNS,)}
    assert record.unread == ((Kind.LAMBDA, "throttled"),) and record.recorded_at == NOW
    assert worker_table.denied == [] and daily_table.denied == []


def test_the_worker_may_not_write_the_record(template: Template) -> None:
    worker_table = RoleTable.of(template, "handlers/worker.handler", FakeStateTable())
    with pytest.raises(AwsError, match="not authorized") as denied:
        FedDlqStore(worker_table).record(URLS, now=NOW)  # type: ignore[arg-type]
    assert denied.value.code == "AccessDeniedException"
    assert [pk for _, pk in worker_table.denied] == ["ALERTWATCH"]
