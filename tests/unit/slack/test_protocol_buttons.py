"""The issue 12 button jobs on the signed hand-over (pure): sealed and opened whole, refused when
tampered with or misshapen, and a ReportButtonJob sealed by the endpoint of the version before
(no ``error`` / ``until``) still opens during a deployment."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.slack.protocol import JobRejectedError, JobSigner, MessageButtonJob, ReportButtonJob

KEY = b"k" * 32
SIGNER = JobSigner(KEY)
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
COMMON = {
    "user": "U1",
    "channel": "C1",
    "team": "T1",
    "response_url": "https://hooks.slack.com/actions/x",
    "received_at": NOW.isoformat(),
    "delivery": "d",
}


def _resealed(envelope: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` signed again with the key, as an endpoint would have sealed its body."""
    signed = {k: envelope[k] for k in ("job", "body", "issued_at", "expires_at")}
    canonical = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return {**signed, "sig": hmac.new(KEY, canonical.encode(), hashlib.sha256).hexdigest()}


def test_button_jobs_open_as_sealed() -> None:
    discard = MessageButtonJob(action="discard", queue="q", message_id="m-1", **COMMON)
    export = ReportButtonJob(
        action="expiring_export",
        queue="q",
        date=None,
        time_field=None,
        until="2026-12-02T03:00:00+09:00",
        **COMMON,
    )
    assert SIGNER.open(SIGNER.seal(discard, NOW), NOW) == discard
    assert SIGNER.open(SIGNER.seal(export, NOW), NOW) == export


def test_a_report_button_job_of_the_version_before_still_opens() -> None:
    job = ReportButtonJob(action="redrive", queue="q", date="2026-11-30", time_field=None, **COMMON)
    envelope = SIGNER.seal(job, NOW)
    for name in ("error", "until"):  # what the endpoint before issue 12 did not seal
        del envelope["body"][name]
    assert SIGNER.open(_resealed(envelope), NOW) == job


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"message_id": "m-2"}, "tampered"),  # edited after sealing
        ({"action": "delete"}, "malformed"),  # resealed with what no endpoint seals
        ({"message_id": None}, "malformed"),
        ({"extra": "x"}, "malformed"),
    ],
)
def test_a_discard_job_tampered_with_or_misshapen_is_refused(
    edit: dict[str, Any], reason: str
) -> None:
    envelope = SIGNER.seal(
        MessageButtonJob(action="discard", queue="q", message_id="m-1", **COMMON), NOW
    )
    envelope["body"].update(edit)
    if reason != "tampered":
        envelope = _resealed(envelope)
    with pytest.raises(JobRejectedError) as refused:
        SIGNER.open(envelope, NOW)
    assert refused.value.reason == reason


def test_a_required_field_missing_is_still_refused() -> None:
    envelope = SIGNER.seal(
        MessageButtonJob(action="discard", queue="q", message_id="m-1", **COMMON), NOW
    )
    del envelope["body"]["message_id"]
    with pytest.raises(JobRejectedError, match="malformed"):
        SIGNER.open(_resealed(envelope), NOW)
