"""What the Slack endpoint hands the worker: typed jobs, signed so the worker can trust them.

Anyone allowed to invoke the worker function could otherwise make up a decision ("approved by
U_BOB"). So every job travels in a signed envelope::

    {"job": "<kind>", "body": {...}, "issued_at": <epoch s>, "expires_at": <epoch s>,
     "sig": "<hex HMAC-SHA256>"}

The HMAC covers the canonical JSON of everything but ``sig``, under a key only the endpoint and
the worker can read (``JOB_SIGNING_KEY`` / ``JOB_SIGNING_KEY_SECRET``). A job becomes its event
and comes back from it through the key, so the pair is the signer's: ``JobSigner.seal(job, now)``
(to the event) and ``JobSigner.open(event, now)`` (from the event, parsed and checked once, into
the typed job), which refuses an unsigned, tampered, stale or malformed envelope with
``JobRejectedError`` and says which.

Shared by both sides and kept tiny (standard library only), so the endpoint's cold start loads
none of the worker's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from bot.errors import DlqRedriveError

# How long a job stays valid after the endpoint signed it. Lambda may hold an asynchronous
# event before running it, so the worker's MaximumEventAgeInSeconds is set to the same value
# (serverless.yml): an event older than this is refused here, never run late.
JOB_TTL_S = 900
MIN_KEY_BYTES = 32


class JobKind(StrEnum):
    COMMAND = "command"
    REPORT_BUTTON = "report_button"
    DECISION = "decision"
    CONTINUE = "continue"
    REPLY = "reply"


class JobRejectedError(DlqRedriveError):
    """A job envelope the worker must not run; ``reason`` is one of unsigned, tampered, stale,
    malformed (for the log and the ``JobsRejected`` metric)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"job refused ({reason}): {detail}")
        self.reason = reason


def delivery_key(signature: str) -> str:
    """A short key for one signed Slack request (each signature is unique to its body and time;
    a replay carries the same one)."""
    return hashlib.sha256(signature.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CommandJob:
    """A ``/dlq-redrive`` subcommand that needs AWS (list, peek, redrive, status, cancel)."""

    kind: ClassVar[JobKind] = JobKind.COMMAND
    text: str
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str  # ISO 8601 with offset: when the endpoint got the request
    delivery: str  # delivery_key of the Slack request: a replay is dropped


@dataclass(frozen=True)
class ReportButtonJob:
    """A daily-report button: redrive or peek one DLQ (its day, by the report's time field)."""

    kind: ClassVar[JobKind] = JobKind.REPORT_BUTTON
    action: Literal["peek", "redrive"]
    queue: str
    date: str | None
    time_field: str | None
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str
    delivery: str


@dataclass(frozen=True)
class DecisionJob:
    """An Approve or Reject click; the button carries only the request id."""

    kind: ClassVar[JobKind] = JobKind.DECISION
    decision: Literal["approve", "reject"]
    request_id: str
    user: str
    channel: str
    message_ts: str
    team: str
    response_url: str
    delivery: str


@dataclass(frozen=True)
class ContinueJob:
    """A redrive that ran out of one invocation's time goes on from its checkpoint."""

    kind: ClassVar[JobKind] = JobKind.CONTINUE
    run_id: str
    invocation: int


@dataclass(frozen=True)
class ReplyJob:
    """Only answer through ``response_url`` (an input problem found before the ack)."""

    kind: ClassVar[JobKind] = JobKind.REPLY
    response_url: str
    text: str


Job = CommandJob | ReportButtonJob | DecisionJob | ContinueJob | ReplyJob

_TYPES: dict[str, type[Job]] = {
    t.kind.value: t for t in (CommandJob, ReportButtonJob, DecisionJob, ContinueJob, ReplyJob)
}
_LITERALS: dict[tuple[type[Job], str], frozenset[str]] = {
    (ReportButtonJob, "action"): frozenset({"peek", "redrive"}),
    (DecisionJob, "decision"): frozenset({"approve", "reject"}),
}


_ENVELOPE_KEYS = frozenset({"job", "body", "issued_at", "expires_at", "sig"})


def _canonical(envelope: dict[str, Any]) -> bytes:
    signed = {k: envelope[k] for k in ("job", "body", "issued_at", "expires_at")}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _mac(key: bytes, envelope: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(envelope), hashlib.sha256).hexdigest()


class JobSigner:
    """Seals and opens job envelopes with one key (the endpoint seals; the worker opens and
    seals its own continuations)."""

    def __init__(self, key: bytes, *, ttl_s: int = JOB_TTL_S) -> None:
        if len(key) < MIN_KEY_BYTES:
            # A short key is a guessable key: refuse to run rather than sign weakly.
            raise ValueError(f"the job signing key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.ttl_s = ttl_s

    def seal(self, job: Job, now: datetime) -> dict[str, Any]:
        """The signed event for ``job`` (what is passed to the worker's Invoke)."""
        issued = int(now.timestamp())
        envelope: dict[str, Any] = {
            "job": job.kind.value,
            "body": asdict(job),
            "issued_at": issued,
            "expires_at": issued + self.ttl_s,
        }
        envelope["sig"] = _mac(self._key, envelope)
        return envelope

    def open(self, event: Any, now: datetime, *, ignore_expiry: bool = False) -> Job:
        """The job in ``event``, or JobRejectedError saying why it may not run.

        ``ignore_expiry``: for the record of a failed invocation, read after the job's own
        deadline (the signature is still checked)."""
        if not isinstance(event, dict) or "sig" not in event:
            raise JobRejectedError("unsigned", "the event carries no signature")
        if set(event) != _ENVELOPE_KEYS:
            # Whatever else rides on the envelope is not signed: refused, never read.
            raise JobRejectedError("malformed", f"an envelope has exactly {sorted(_ENVELOPE_KEYS)}")
        sig = event.get("sig")
        try:
            expected = _mac(self._key, event)
        except (KeyError, TypeError, ValueError) as exc:
            raise JobRejectedError("malformed", "the envelope is incomplete") from exc
        # compare_digest raises TypeError on non-ASCII str: such a signature is simply wrong.
        if not isinstance(sig, str) or not sig.isascii() or not hmac.compare_digest(sig, expected):
            raise JobRejectedError("tampered", "the signature does not match the job")
        expires_at, issued_at = event.get("expires_at"), event.get("issued_at")
        if type(expires_at) is not int or type(issued_at) is not int:  # bool is an int too
            raise JobRejectedError("malformed", "the envelope's times are not integers")
        if not 0 < expires_at - issued_at <= self.ttl_s:
            # No sealer makes a job valid for longer: one that claims so is not run late.
            raise JobRejectedError("malformed", "the envelope's validity is not a job's")
        if not ignore_expiry and not issued_at - 60 <= now.timestamp() < expires_at:
            raise JobRejectedError("stale", "the job is outside its validity window")
        return _from_body(str(event.get("job")), event.get("body"))


def _from_body(kind: str, body: Any) -> Job:
    job_type = _TYPES.get(kind)
    if job_type is None or not isinstance(body, dict):
        raise JobRejectedError("malformed", f"unknown job {kind!r}")
    names = {f.name for f in fields(job_type)}
    if set(body) != names:
        raise JobRejectedError("malformed", f"a {kind} job has fields {sorted(names)}")
    for f in fields(job_type):
        value = body[f.name]
        allowed = _LITERALS.get((job_type, f.name))
        ok = (
            isinstance(value, str) and value in allowed  # a list or dict is not hashable
            if allowed is not None
            else isinstance(value, int) and not isinstance(value, bool)
            if f.type == "int"
            else isinstance(value, str) or (value is None and "None" in str(f.type))
        )
        if not ok:
            raise JobRejectedError("malformed", f"field {f.name!r} of a {kind} job is invalid")
    return job_type(**body)


def job_signing_key(value: str) -> bytes:
    """The key from its configured text (the deployed secret is 64 generated characters)."""
    return value.encode()
