"""Approval requests as the state table keeps them, for tests of every layer (the card, the Home
tab, the REQUESTS index, the roles that write them): one builder, each test naming only what it
is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.state_model import ApprovalRequest

ASKED = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def approval_request(
    request_id: str = "20261201-030000-abcdef",
    *,
    requested_at: datetime = ASKED,
    **changes: Any,
) -> ApprovalRequest:
    """A pending request of every message in orders-dlq, one matched, asked by U_ALICE in
    C_OPS at ``requested_at`` and open for an hour; ``changes`` set any other field."""
    request = ApprovalRequest(
        request_id=request_id,
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=1,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=requested_at,
        approval_expires_at=requested_at + timedelta(hours=1),
    )
    return replace(request, **changes)
