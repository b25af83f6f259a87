"""The Home tab's jobs (issue 14) travel signed as every job does, and the ids of its buttons
carry only the keys they may (bot.slack.button_values)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UsageError
from bot.slack.button_values import parse_button_value
from bot.slack.ids import ActionId
from bot.slack.protocol import HomeJob, JobRejectedError, JobSigner, PeekViewJob

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
SIGNER = JobSigner(b"k" * 32)


def test_home_and_peek_view_jobs_come_back_from_their_signed_envelopes() -> None:
    home = HomeJob("U_ALICE", "T_LOCAL", NOW.isoformat(), "Ev123", "opened")
    peek = PeekViewJob("orders-dlq", "V1", "h1", "U_ALICE", "T_LOCAL", NOW.isoformat(), "d")
    assert SIGNER.open(SIGNER.seal(home, NOW), NOW) == home
    assert SIGNER.open(SIGNER.seal(peek, NOW), NOW) == peek


def test_a_home_job_with_an_unknown_reason_is_refused() -> None:
    envelope = SIGNER.seal(HomeJob("U", "T", NOW.isoformat(), "d", "refresh"), NOW)
    envelope["body"]["reason"] = "anything"
    with pytest.raises(JobRejectedError, match="tampered"):
        SIGNER.open(envelope, NOW)  # the signature covers the body
    resealed = SIGNER.seal(HomeJob("U", "T", NOW.isoformat(), "d", "bogus"), NOW)  # type: ignore[arg-type]
    with pytest.raises(JobRejectedError, match="reason"):
        SIGNER.open(resealed, NOW)


@pytest.mark.parametrize(
    "action", [ActionId.HOME_PEEK, ActionId.HOME_REDRIVE, ActionId.HOME_EXPORT]
)
def test_home_buttons_carry_only_a_queue(action: ActionId) -> None:
    assert parse_button_value(action, '{"queue": "orders-dlq"}').queue == "orders-dlq"
    for bad in ('{"queue": "orders-dlq", "date": "2026-12-01"}', "{}", '{"queue": "a b"}'):
        with pytest.raises(UsageError):
            parse_button_value(action, bad)
