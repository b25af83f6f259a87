"""The worker's Home tab answers (bot.slack.home) on in-memory Slack and SQS: the tab published
for the person a job names, a read that fails said in the tab, and the peek modal filled or, when
the person closed it meanwhile, left alone (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import DlqRedriveError
from bot.slack.home import NO_ERROR_LABELS, HomePublisher
from bot.slack.home_model import ErrorGroupFact, HomeData, HomeDlq, ScanFacts
from bot.slack.home_view import home_error_view, home_view
from bot.slack.protocol import HomeJob, JobSigner, job_signing_key
from bot.slack.web_api import SlackError
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.slack.worker_fakes import peek_world

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
KEY = "unit-test-job-signing-key-32-bytes!!"


class Reader:
    """A HomeReading that answers ``data`` or raises ``error``, and records who asked."""

    def __init__(self, data: HomeData | None = None, error: Exception | None = None) -> None:
        self.data, self.error, self.asked = data, error, list[str]()

    def read(self, user: str) -> HomeData:
        self.asked.append(user)
        if self.error is not None:
            raise self.error
        assert self.data is not None
        return self.data


class Viewers:
    """The viewers policy: only ``allowed`` may read bodies."""

    def __init__(self, *allowed: str) -> None:
        self.allowed = set(allowed)

    def refusal(self, user: str) -> str | None:
        return None if user in self.allowed else "not a viewer"


ANYONE = Viewers("U_ALICE")


def _job(reason: str = "opened") -> HomeJob:
    return HomeJob("U_ALICE", "T_LOCAL", NOW.isoformat(), "d1", reason)  # type: ignore[arg-type]


def test_the_tab_read_for_the_person_is_published_for_them() -> None:
    data = HomeData(user="U_ALICE", read_at=NOW, dlqs=(), approvals=(), runs=(), unread=())
    slack, reader = FakeSlackGateway(), Reader(data)
    HomePublisher(reader, slack, UTC_TZ, ANYONE).publish(_job("refresh"))
    assert reader.asked == ["U_ALICE"]
    assert slack.home.views["U_ALICE"]["blocks"] == home_view(data, tz=UTC_TZ)["blocks"]


def test_a_read_that_fails_is_said_in_the_tab() -> None:
    slack = FakeSlackGateway()
    reader = Reader(error=DlqRedriveError("the state table is down"))
    HomePublisher(reader, slack, UTC_TZ, ANYONE).publish(_job())
    assert (
        slack.home.views["U_ALICE"]["blocks"]
        == home_error_view("the state table is down")["blocks"]
    )


def test_a_bug_in_the_read_is_named_in_the_tab_without_its_details() -> None:
    slack = FakeSlackGateway()
    HomePublisher(Reader(error=KeyError("secret-ish detail")), slack, UTC_TZ, ANYONE).publish(
        _job()
    )
    shown = json.dumps(slack.home.views["U_ALICE"]["blocks"])
    assert "KeyError" in shown and "secret-ish detail" not in shown


def _labelled() -> HomeData:
    scan = ScanFacts(
        dlq="orders-dlq",
        scanned_at=NOW,
        messages=4,
        complete=True,
        oldest_sent=None,
        next_expiry=None,
        top_errors=(ErrorGroupFact("card of Jane Doe declined", 4),),
    )
    dlq = HomeDlq("orders-dlq", "sqs", False, 4, 0, 345_600, (), scan)
    return HomeData(user="U_ALICE", read_at=NOW, dlqs=(dlq,), approvals=(), runs=(), unread=())


def test_error_labels_are_shown_only_to_those_who_may_read_bodies() -> None:
    # Given the last scan's error group, its label read from the bodies
    for viewers, shown in ((Viewers("U_ALICE"), True), (Viewers("U_BOB"), False)):
        slack = FakeSlackGateway()
        # When Alice's tab is published
        HomePublisher(Reader(_labelled()), slack, UTC_TZ, viewers).publish(_job())
        text = json.dumps(slack.home.views["U_ALICE"]["blocks"])
        # Then she sees the label only if she may read bodies, and else why it is not there
        assert ("Jane Doe" in text) is shown
        assert (NO_ERROR_LABELS in text) is not shown
        assert "read all 4" in text  # the scan's other figures stay


def test_the_peek_modal_is_filled_through_the_signed_job() -> None:
    worker, slack, job = peek_world(KEY)
    signer = JobSigner(job_signing_key(KEY))
    assert worker.handle(signer.seal(job, datetime.now(UTC)), None) == {"ok": True}
    shown = json.dumps(slack.modals.views[job.view_id]["blocks"])
    assert "showing 1 of ~1 visible" in shown and "order" in shown


def test_a_peek_modal_closed_before_it_was_filled_is_left_alone() -> None:
    worker, slack, job = peek_world(KEY)
    del slack.modals.views[job.view_id]  # the person closed it
    assert worker.peeks is not None
    worker.peeks.fill(job)
    assert slack.asked("views.update", "view_id") == [job.view_id]
    assert slack.asked("chat.postMessage", "channel") == []  # nothing sent anywhere else


def test_another_refusal_of_the_peek_modal_update_is_raised() -> None:
    worker, slack, job = peek_world(KEY)
    slack.refuse("views.update", "internal_error")
    assert worker.peeks is not None
    with pytest.raises(SlackError):
        worker.peeks.fill(job)
