"""What the runner asks the engine for each approved action (pure): a redrive, a discard into
the request's archive (closed after the run, refused without one), an edit of its one message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.archive_model import ArchiveRecord
from bot.errors import UsageError
from bot.redrive_model import Action, EditSpec
from bot.selection import Selection
from bot.slack.runner import engine_request
from bot.state_model import ApprovalRequest
from tests.unit.approval_requests import approval_request

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class _Archive:
    """An archive that records what happened to it."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.closed = False

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        raise AssertionError("the runner writes nothing itself")

    def close(self) -> None:
        self.closed = True


def _request(**action: Any) -> ApprovalRequest:
    return approval_request(requested_at=NOW, requester="U1", channel="C1", **action)


def test_a_discard_writes_to_its_archive_which_is_closed_after_the_run() -> None:
    made: list[_Archive] = []

    def archives(location: str) -> _Archive:
        made.append(_Archive(location))
        return made[-1]

    location = "s3://b/discards/20261201-030000-abcdef/"  # the request's own prefix of b
    request = _request(action="discard", archive_location=location)
    with engine_request(request, Selection(), 5, archives, "b") as asked:
        assert (asked.action, asked.archive, asked.max_held) == (Action.DISCARD, made[0], 5)
        assert made[0].location == location and not made[0].closed
    assert made[0].closed


@pytest.mark.parametrize(
    ("bucket", "location"),
    [
        ("b", "s3://b/discards/20261201-030000-999999/"),  # another request's records
        ("b", "s3://b/exports/20261201-030000-abcdef/"),
        ("b", "s3://elsewhere/discards/20261201-030000-abcdef/"),
        ("other", "s3://b/discards/20261201-030000-abcdef/"),  # ARCHIVE_BUCKET changed since
    ],
)
def test_a_discard_stored_with_a_location_its_card_did_not_name_is_refused(
    bucket: str, location: str
) -> None:
    request = _request(action="discard", archive_location=location)
    with (
        pytest.raises(UsageError, match="not the one its card named"),
        engine_request(request, Selection(), None, _Archive, bucket),
    ):
        raise AssertionError("no run")


@pytest.mark.parametrize("archive_location", [None, "s3://b/discards/x/"])
def test_a_discard_without_an_archive_is_refused_before_the_run(
    archive_location: str | None,
) -> None:
    # no location stored, or a worker with no way to make one: never a delete without a record
    request = _request(action="discard", archive_location=archive_location)
    archives = None if archive_location else _Archive
    with (
        pytest.raises(UsageError, match="nothing was discarded"),
        engine_request(request, Selection(), None, archives),
    ):
        raise AssertionError("no run")


def test_an_edit_is_a_redrive_of_its_message_with_the_new_body() -> None:
    request = _request(action="edit", edit_message_id="m-1", edit_body='{"fixed": true}')
    with engine_request(request, Selection(), None, None) as asked:
        assert asked.action is Action.REDRIVE
        assert asked.edit == EditSpec("m-1", '{"fixed": true}')


def test_a_redrive_is_asked_as_before() -> None:
    with engine_request(_request(), Selection(), None, None) as asked:
        assert (asked.action, asked.archive, asked.edit) == (Action.REDRIVE, None, None)
