"""The request modal's ticket (pure): whose modal it is, sealed in its private_metadata, opened
on every click and submission; anything else is refused with what to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.protocol import JobSigner, StaticKeys
from bot.slack.request_ticket import TICKET_TTL_S, RequestTicket, TicketRefusedError

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
SIGNER = JobSigner(b"k" * 32)
TICKET = RequestTicket(user="U_ALICE", view_id="V1", channel="C_OPS")


def test_the_ticket_opens_for_its_view_and_person() -> None:
    sealed = TICKET.seal(SIGNER, NOW)
    assert RequestTicket.open(SIGNER, sealed, NOW, user="U_ALICE", view_id="V1") == TICKET


@pytest.mark.parametrize(("user", "view_id"), [("U_MALLORY", "V1"), ("U_ALICE", "V2"), ("", "V1")])
def test_another_person_or_view_is_refused(user: str, view_id: str) -> None:
    sealed = TICKET.seal(SIGNER, NOW)
    with pytest.raises(TicketRefusedError, match="opened for someone else"):
        RequestTicket.open(SIGNER, sealed, NOW, user=user, view_id=view_id)


def test_a_ticket_past_its_time_is_refused_as_too_old() -> None:
    sealed = TICKET.seal(SIGNER, NOW)
    later = NOW + timedelta(seconds=TICKET_TTL_S + 1)
    with pytest.raises(TicketRefusedError, match="too old"):
        RequestTicket.open(SIGNER, sealed, later, user="U_ALICE", view_id="V1")


def test_an_altered_or_missing_ticket_is_refused() -> None:
    # Given a ticket whose user was rewritten (its signature no longer matches)
    envelope = json.loads(TICKET.seal(SIGNER, NOW))
    envelope["body"]["user"] = "U_MALLORY"
    altered = json.dumps(envelope)
    # Then neither it, nor no ticket at all (a loading modal), nor a non-text one opens
    with pytest.raises(TicketRefusedError, match="could not be verified"):
        RequestTicket.open(SIGNER, altered, NOW, user="U_MALLORY", view_id="V1")
    for missing in ("", None, 7):
        with pytest.raises(TicketRefusedError, match="wait for it to load"):
            RequestTicket.open(SIGNER, missing, NOW, user="U_ALICE", view_id="V1")


def test_the_endpoint_opens_with_its_current_key_only() -> None:
    # Given a ticket sealed before a key rotation (the old key is still a previous key)
    old, new = b"o" * 32, b"n" * 32
    sealed = TICKET.seal(JobSigner(old), NOW)
    rotated = JobSigner(StaticKeys(new, old))
    # Then the worker (every key) opens it, the ack path (current key only) asks for a new form
    assert RequestTicket.open(rotated, sealed, NOW, user="U_ALICE", view_id="V1") == TICKET
    with pytest.raises(TicketRefusedError, match="open a new one"):
        RequestTicket.open(
            rotated, sealed, NOW, user="U_ALICE", view_id="V1", current_key_only=True
        )
