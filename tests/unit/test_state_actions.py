"""Approval requests of every action (issue 12): a discard keeps where its archive is, an edit
its message, new body and what approvers saw; a request stored before actions existed still
loads as a redrive; the audit trail records who, the action, what, both bodies' sha256 and the
archive."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.selection import pin_digest
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RequestAction, RunRecord, RunStatus
from tests.unit.fake_state_table import FakeStateTable

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUEST_ID = "20261201-120000-abcdef"


def _request(**action: Any) -> ApprovalRequest:
    return ApprovalRequest(
        request_id=REQUEST_ID,
        dlq="orders-dlq",
        selection={"date": "2026-11-30"},
        selection_text="2026-11-30 (UTC), by sent time",
        matched=1,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=NOW,
        approval_expires_at=NOW + timedelta(hours=1),
        pin_sent_before=NOW,
        **action,
    )


def test_a_request_stored_before_actions_existed_loads_as_a_redrive() -> None:
    # Given a request item as issue 11 wrote it: no action, no archive, no edit
    item = _request().to_item()
    for name in ("action", "archive_location", "edit_message_id", "edit_body"):
        item.pop(name, None)

    # When it is read
    loaded = ApprovalRequest.from_item(item)

    # Then it is a redrive with nothing of the other actions
    assert loaded.action == RequestAction.REDRIVE == "redrive"
    assert (loaded.archive_location, loaded.edit_message_id, loaded.edit_body) == (None,) * 3


def test_a_discard_and_an_edit_come_back_as_stored() -> None:
    store = StateStore(FakeStateTable())
    edit = _request(
        action="edit",
        edit_message_id="m-1",
        edit_body='{"order": 2}',
        old_body_sha256="a" * 64,
        # the body's own digest and the message's pin, as an edit is asked for: a stored edit
        # whose body or message is not those is refused (unreadable)
        new_body_sha256=hashlib.sha256(b'{"order": 2}').hexdigest(),
        pin_digests=frozenset({pin_digest("m-1")}),
        edit_diff="-1\n+2",
    )
    store.put_request(edit)
    assert store.get_request(REQUEST_ID) == edit

    other = StateStore(FakeStateTable())
    discard = _request(action="discard", archive_location="s3://bucket/discards/x/")
    other.put_request(discard)
    assert other.get_request(REQUEST_ID) == discard


def test_the_approval_event_records_the_action_the_bodies_and_the_archive() -> None:
    # Given a pending edit request
    store = StateStore(FakeStateTable())
    request = _request(
        action="edit",
        edit_message_id="m-1",
        edit_body="new",
        old_body_sha256="a" * 64,
        new_body_sha256="b" * 64,
    )
    store.put_request(request)
    run = RunRecord(
        run_id=REQUEST_ID,
        dlq="orders-dlq",
        requester="U_ALICE",
        approved_by="U_BOB",
        status=RunStatus.RUNNING,
        started_at=NOW,
        updated_at=NOW,
    )

    # When it is approved with its audit detail
    outcome = store.approve_and_start(REQUEST_ID, run, detail=request.audit_detail())

    # Then the "approved" event says who, which action on what, both sha256 and no archive
    assert outcome.won
    (event,) = store.events(REQUEST_ID)
    assert (event["kind"], event["actor"]) == ("approved", "U_BOB")
    assert event["detail"] == {
        "action": "edit",
        "dlq": "orders-dlq",
        "what": "2026-11-30 (UTC), by sent time",
        "message_id": "m-1",
        "old_body_sha256": "a" * 64,
        "new_body_sha256": "b" * 64,
        "archive_location": None,
    }
