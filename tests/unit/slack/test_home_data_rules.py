"""The Home tab reader's rules on in-memory SQS and state table (bot.slack.home_data): who may
decide a pending request, which report days make the trend (in TIMEZONE), the order of the DLQs.
The figures against seeded queues and tables are tests/integration/slack/test_home_data.py's."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from bot.alerts.store import FedDlqStore
from bot.composition import redrive_engine
from bot.config import EngineSettings
from bot.daily.scan_facts import ScanFactsStore
from bot.daily.snapshots import Snapshot, SnapshotStore
from bot.selection import pin_digest
from bot.slack.home_data import HomeOptions, HomeReader
from bot.slack.home_model import TrendPoint
from bot.slack.queues import Queues
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestAction
from tests.unit.approval_requests import approval_request
from tests.unit.fake_sqs import FakeSqs
from tests.unit.fake_state_table import FakeStateTable

# 23:30 in UTC is already 08:30 the next day in Seoul
NOW = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


class Approvers:
    def __init__(self, *users: str) -> None:
        self.users = frozenset(users)

    def members(self) -> frozenset[str]:
        return self.users


def _reader(
    sqs: FakeSqs,
    table: FakeStateTable,
    *,
    timezone: str = "UTC",
    approvers: Approvers | None = None,
    allow_self_approval: bool = False,
) -> HomeReader:
    settings = EngineSettings.from_env({"TIMEZONE": timezone})
    return HomeReader(
        queues=Queues(sqs, settings, redrive_engine(sqs, settings, table)),  # type: ignore[arg-type]
        state=StateStore(table),
        snapshots=SnapshotStore(table),
        scan_facts=ScanFactsStore(table),
        approvers=approvers or Approvers("U_BOB"),
        fed=FedDlqStore(table),
        clock=lambda: NOW,
        options=HomeOptions(allow_self_approval=allow_self_approval),
    )


def _request(request_id: str, requester: str, **more: object) -> ApprovalRequest:
    values: dict[str, object] = {"approval_expires_at": NOW + timedelta(hours=1), **more}
    return approval_request(
        request_id, requested_at=NOW - timedelta(minutes=5), requester=requester, **values
    )


def test_who_may_decide_is_what_the_card_s_approve_button_would_allow() -> None:
    # Given Alice's and Bob's requests, and an edit whose stored body is not the one its card
    # showed (it can never be approved)
    table = FakeStateTable()
    store = StateStore(table)
    store.put_request(_request("r-1", "U_ALICE"))
    store.put_request(_request("r-2", "U_BOB"))
    store.put_request(
        _request(
            "r-3",
            "U_ALICE",
            action=RequestAction.EDIT.value,
            edit_message_id="m-1",
            edit_body='{"fixed": true}',
            new_body_sha256=hashlib.sha256(b"something else").hexdigest(),
            pin_sent_before=NOW,
            pin_digests=frozenset({pin_digest("m-1")}),
        )
    )
    sqs = FakeSqs()

    def deciders(**options: object) -> list[tuple[str, bool, bool]]:
        data = _reader(sqs, table, **options).read("U_BOB")  # type: ignore[arg-type]
        return [(a.request_id, a.mine, a.may_decide) for a in data.approvals]

    # Then Bob, an approver, may decide Alice's request, not his own nor the broken edit
    assert deciders() == [("r-1", False, True), ("r-2", True, False), ("r-3", False, False)]
    # With ALLOW_SELF_APPROVAL his own too
    assert deciders(allow_self_approval=True) == [
        ("r-1", False, True),
        ("r-2", True, True),
        ("r-3", False, False),
    ]
    # And someone not among the approvers decides none
    assert deciders(approvers=Approvers("U_CAROL")) == [
        ("r-1", False, False),
        ("r-2", True, False),
        ("r-3", False, False),
    ]


def test_the_trend_is_the_seven_report_days_before_today_in_the_configured_time_zone() -> None:
    # Given orders-dlq's snapshots from 9 days ago to today (Seoul's today: 2 December)
    sqs = FakeSqs()
    dlq = sqs.create("orders-dlq")
    sqs.create("orders", dead_letter_to=dlq)
    table = FakeStateTable()
    seoul_today = date(2026, 12, 2)
    for days_ago in range(10):
        day = seoul_today - timedelta(days=days_ago)
        SnapshotStore(table).put(Snapshot("orders-dlq", day, days_ago, True), taken_at=NOW)

    # When the tab is read in Seoul, and in UTC (where it is still 1 December)
    seoul = _reader(sqs, table, timezone="Asia/Seoul").read("U_BOB").dlqs[0].trend
    utc = _reader(sqs, table).read("U_BOB").dlqs[0].trend

    # Then each trend is the 7 report days before its today, oldest first (a report's day is
    # the day before it ran: today's report is yesterday's snapshot)
    assert seoul == tuple(
        TrendPoint(seoul_today - timedelta(days=n), n, True) for n in range(7, 0, -1)
    )
    assert [point.day for point in utc] == [
        date(2026, 12, 1) - timedelta(days=n) for n in range(7, 0, -1)
    ]


def test_dlqs_are_deepest_first_then_by_name_and_queues_that_are_no_dlq_are_left_out() -> None:
    sqs = FakeSqs()
    for name, depth in (("b-dlq", 2), ("a-dlq", 2), ("c-dlq", 5), ("d-dlq", 0)):
        dlq = sqs.create(name)
        sqs.create(name.removesuffix("-dlq"), dead_letter_to=dlq)
        for n in range(depth):
            sqs.put(dlq, f"m{n}")
    sqs.create("plain")
    data = _reader(sqs, FakeStateTable()).read("U_BOB")
    assert [(d.name, d.depth) for d in data.dlqs] == [
        ("c-dlq", 5),
        ("a-dlq", 2),
        ("b-dlq", 2),
        ("d-dlq", 0),
    ]
    assert data.problems == ()
