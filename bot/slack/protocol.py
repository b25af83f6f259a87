"""What the Slack endpoint hands the worker: typed jobs, signed so the worker can trust them.

Anyone allowed to invoke the worker function could otherwise make up a decision ("approved by
U_BOB"). So every job travels in a signed envelope::

    {"job": "<kind>", "body": {...}, "issued_at": <epoch s>, "expires_at": <epoch s>,
     "sig": "<hex HMAC-SHA256>"}

The HMAC covers the canonical JSON of everything but ``sig``, under a key only the endpoint and
the worker can read (``JOB_SIGNING_KEY`` / ``JOB_SIGNING_KEY_SECRET``). Keys are rotated
(docs/deploy.md), so a signer seals with the current key and opens with the current or the
previous one (a job sealed just before a rotation, or by a container that has not re-read the
key yet, still runs); a job that neither opens makes it re-read its keys once before refusing
(its own may be the stale ones), at most once per ``KEY_REFRESH_COOLDOWN_S`` when nothing new
was found. A job becomes its event
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
import re
from dataclasses import MISSING, Field, asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol, get_args

from bot.errors import DlqRedriveError

# How long a job stays valid after the endpoint signed it. Lambda may hold an asynchronous
# event before running it, so the worker's MaximumEventAgeInSeconds is set to the same value
# (serverless.yml): an event older than this is refused here, never run late.
JOB_TTL_S = 900
MIN_KEY_BYTES = 32
# After re-reading the keys found nothing new, a job that does not open is refused without
# asking again for this long: anyone allowed to invoke the worker could otherwise make it call
# Secrets Manager once per made-up event. A real rotation is found at the first refusal after it.
KEY_REFRESH_COOLDOWN_S = 30
_HMAC_HEX = re.compile(r"[0-9a-f]{64}")
# The envelope name of a sealed form (``JobSigner.seal_form``): no job has it, so a form handed
# to the worker as an event is refused as malformed.
FORM = "form"


class JobKind(StrEnum):
    COMMAND = "command"
    REPORT_BUTTON = "report_button"
    DECISION = "decision"
    MESSAGE_BUTTON = "message_button"
    CONTINUE = "continue"
    REPLY = "reply"
    EDIT_OPEN = "edit_open"
    EDIT_SUBMIT = "edit_submit"
    REQUEST_OPEN = "request_open"
    REQUEST_COUNT = "request_count"
    REQUEST_SUBMIT = "request_submit"
    HOME = "home"
    PEEK_VIEW = "peek_view"


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


class _Job:
    """``__eq__`` and ``__repr__`` of every job, as @dataclass writes them, written once here.

    The jobs are created at the endpoint's cold start, where @dataclass compiles each method of
    each class: ``repr=False, eq=False`` leaves it ``__init__`` alone, about 0.35 of the 0.8 ms a
    job class cost on Python 3.12 (docs/benchmarks.md). Not frozen either (about 0.45 ms more a
    class): nothing changes a job after creation."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if f.compare)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Job) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    __hash__ = None  # type: ignore[assignment]  # as @dataclass's eq=True: jobs are not hashed

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


@dataclass(repr=False, eq=False)
class CommandJob(_Job):
    """A ``/dlq-redrive`` subcommand that needs AWS (list, peek, redrive, status, cancel)."""

    kind: ClassVar[JobKind] = JobKind.COMMAND
    text: str
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str  # ISO 8601 with offset: when the endpoint got the request
    delivery: str  # delivery_key of the Slack request: a replay is dropped


ReportAction = Literal[
    "peek", "redrive", "error_redrive", "error_discard", "expiring_redrive", "expiring_export"
]
REPORT_ACTIONS: frozenset[str] = frozenset(get_args(ReportAction))


@dataclass(repr=False, eq=False)
class ReportButtonJob(_Job):
    """A daily-report button: redrive or peek one DLQ (its day, by the report's time field);
    redrive or discard one error group (``error``: its label digest); redrive or export what
    expires before the next report (``until``: the sent-time bound, ISO 8601 with offset)."""

    kind: ClassVar[JobKind] = JobKind.REPORT_BUTTON
    action: ReportAction
    queue: str
    date: str | None
    time_field: str | None
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str
    delivery: str
    error: str | None = None
    until: str | None = None


@dataclass(repr=False, eq=False)
class MessageButtonJob(_Job):
    """A button of one peeked message (Discard): the queue and the message's id, as the
    button's value carried them (checked on the ack path)."""

    kind: ClassVar[JobKind] = JobKind.MESSAGE_BUTTON
    action: Literal["discard"]
    queue: str
    message_id: str
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str
    delivery: str


@dataclass(repr=False, eq=False)
class DecisionJob(_Job):
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


@dataclass(repr=False, eq=False)
class ContinueJob(_Job):
    """A redrive that ran out of one invocation's time goes on from its checkpoint."""

    kind: ClassVar[JobKind] = JobKind.CONTINUE
    run_id: str
    invocation: int


@dataclass(repr=False, eq=False)
class ReplyJob(_Job):
    """Only answer through ``response_url`` (an input problem found before the ack)."""

    kind: ClassVar[JobKind] = JobKind.REPLY
    response_url: str
    text: str


@dataclass(repr=False, eq=False)
class EditOpenJob(_Job):
    """Edit & resend clicked on a peeked message: the endpoint opened a loading modal
    (``view_id``, its ``view_hash``); the worker reads the message and fills it in."""

    kind: ClassVar[JobKind] = JobKind.EDIT_OPEN
    queue: str
    message_id: str
    view_id: str
    view_hash: str
    user: str
    channel: str
    team: str
    response_url: str
    received_at: str
    delivery: str


@dataclass(repr=False, eq=False)
class EditSubmitJob(_Job):
    """The edit modal submitted and checked on the ack path: ``form`` is its private_metadata as
    the worker sealed it (opened again by the worker), ``body`` the new body."""

    kind: ClassVar[JobKind] = JobKind.EDIT_SUBMIT
    form: str
    body: str
    view_id: str
    user: str
    team: str
    received_at: str
    delivery: str


HomeReason = Literal["opened", "refresh"]
HOME_REASONS: frozenset[str] = frozenset(get_args(HomeReason))


@dataclass(repr=False, eq=False)
class HomeJob(_Job):
    """Publish the App Home tab of ``user``: they opened it (``app_home_opened``; ``delivery`` is
    the event's id, so Slack's retries of one event publish once) or clicked Refresh."""

    kind: ClassVar[JobKind] = JobKind.HOME
    user: str
    team: str
    received_at: str
    delivery: str
    reason: HomeReason


@dataclass(repr=False, eq=False)
class PeekViewJob(_Job):
    """Peek clicked on the Home tab: the endpoint opened a loading modal (``view_id``, its
    ``view_hash``); the worker peeks ``queue`` and fills it in."""

    kind: ClassVar[JobKind] = JobKind.PEEK_VIEW
    queue: str
    view_id: str
    view_hash: str
    user: str
    team: str
    received_at: str
    delivery: str


@dataclass(repr=False, eq=False)
class RequestOpenJob(_Job):
    """The request modal was opened as a loading view (``view_id``, its ``view_hash``) by
    ``/dlq-redrive``, ``/dlq-redrive redrive`` or a Home tab button; the worker fills the form.
    ``queue``: preset DLQ ("" = not chosen); ``action``: redrive or export; ``channel``: where the
    command was typed ("" from the Home tab: the configured channel)."""

    kind: ClassVar[JobKind] = JobKind.REQUEST_OPEN
    view_id: str
    view_hash: str
    user: str
    team: str
    channel: str
    queue: str
    action: Literal["redrive", "export"]
    received_at: str
    delivery: str


@dataclass(repr=False, eq=False)
class RequestCountJob(_Job):
    """The request modal's input changed (or Count was clicked): count what would move.
    ``form``: the modal's parsed state (``request_form.RequestForm.to_json()``)."""

    kind: ClassVar[JobKind] = JobKind.REQUEST_COUNT
    view_id: str
    view_hash: str
    user: str
    team: str
    form: str
    received_at: str
    delivery: str


@dataclass(repr=False, eq=False)
class RequestSubmitJob(_Job):
    """The request modal submitted and checked on the ack path: post the approval card (or
    export) and show the outcome in the modal (``view_id``) or the user's DM."""

    kind: ClassVar[JobKind] = JobKind.REQUEST_SUBMIT
    view_id: str
    user: str
    team: str
    form: str
    received_at: str
    delivery: str


Job = (
    CommandJob
    | ReportButtonJob
    | MessageButtonJob
    | DecisionJob
    | ContinueJob
    | ReplyJob
    | EditOpenJob
    | EditSubmitJob
    | HomeJob
    | PeekViewJob
    | RequestOpenJob
    | RequestCountJob
    | RequestSubmitJob
)

_TYPES: dict[str, type[Job]] = {
    t.kind.value: t
    for t in (
        CommandJob,
        ReportButtonJob,
        MessageButtonJob,
        DecisionJob,
        ContinueJob,
        ReplyJob,
        EditOpenJob,
        EditSubmitJob,
        HomeJob,
        PeekViewJob,
        RequestOpenJob,
        RequestCountJob,
        RequestSubmitJob,
    )
}
_LITERALS: dict[tuple[type[Job], str], frozenset[str]] = {
    (ReportButtonJob, "action"): REPORT_ACTIONS,
    (MessageButtonJob, "action"): frozenset({"discard"}),
    (DecisionJob, "decision"): frozenset({"approve", "reject"}),
    (HomeJob, "reason"): HOME_REASONS,
    (RequestOpenJob, "action"): frozenset({"redrive", "export"}),
}


_ENVELOPE_KEYS = frozenset({"job", "body", "issued_at", "expires_at", "sig"})


def _canonical(envelope: dict[str, Any]) -> bytes:
    signed = {k: envelope[k] for k in ("job", "body", "issued_at", "expires_at")}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _mac(key: bytes, envelope: dict[str, Any]) -> str:
    return _digest(key, _canonical(envelope))


def _digest(key: bytes, signed: bytes) -> str:
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def check_key(key: bytes) -> bytes:
    """``key`` if it is long enough to sign with, else ValueError."""
    if len(key) < MIN_KEY_BYTES:
        # A short key is a guessable key: refuse to run rather than sign weakly.
        raise ValueError(f"the job signing key must be at least {MIN_KEY_BYTES} bytes")
    return key


class KeySource(Protocol):
    """Where a signer's keys are: the one that seals, and the ones that open (the current key,
    then the previous one, if any)."""

    def sealing_key(self) -> bytes:
        """The current key (possibly as cached a while ago)."""
        ...

    def opening_keys(self, *, fresh: bool = False) -> tuple[bytes, ...]:
        """The keys a job may be sealed with; ``fresh``: read again now, not from a cache."""
        ...


class StaticKeys:
    """Keys given as values (``JOB_SIGNING_KEY`` and ``JOB_SIGNING_KEY_PREVIOUS``, local runs and
    tests): they cannot go stale."""

    def __init__(self, current: bytes, previous: bytes | None = None) -> None:
        self._keys = (check_key(current),) + (() if previous is None else (check_key(previous),))

    def sealing_key(self) -> bytes:
        return self._keys[0]

    def opening_keys(self, *, fresh: bool = False) -> tuple[bytes, ...]:
        return self._keys


class JobSigner:
    """Seals job envelopes with the current key and opens them with the current or the previous
    one (the endpoint seals; the worker opens and seals its own continuations)."""

    def __init__(
        self,
        keys: bytes | KeySource,
        *,
        ttl_s: int = JOB_TTL_S,
        refresh_cooldown_s: float = KEY_REFRESH_COOLDOWN_S,
    ) -> None:
        self._keys = StaticKeys(keys) if isinstance(keys, bytes) else keys
        self.ttl_s = ttl_s
        self._refresh_cooldown_s = refresh_cooldown_s
        self._nothing_new_at: datetime | None = None  # the last re-read that found no new key

    def seal(self, job: Job, now: datetime) -> dict[str, Any]:
        """The signed event for ``job`` (what is passed to the worker's Invoke)."""
        issued = int(now.timestamp())
        envelope: dict[str, Any] = {
            "job": job.kind.value,
            "body": asdict(job),
            "issued_at": issued,
            "expires_at": issued + self.ttl_s,
        }
        envelope["sig"] = _mac(self._keys.sealing_key(), envelope)
        return envelope

    def open(self, event: Any, now: datetime, *, ignore_expiry: bool = False) -> Job:
        """The job in ``event``, or JobRejectedError saying why it may not run.

        ``ignore_expiry``: for the record of a failed invocation, read after the job's own
        deadline (the signature is still checked)."""
        self._check(event, now, ttl_s=self.ttl_s, ignore_expiry=ignore_expiry)
        return _from_body(str(event.get("job")), event.get("body"))

    def seal_form(self, form: dict[str, Any], now: datetime, ttl_s: int) -> str:
        """``form`` (what a Slack modal carries back: its ``private_metadata``) as compact signed
        text, valid for ``ttl_s`` seconds. Its envelope names no job: the worker never runs it."""
        issued = int(now.timestamp())
        envelope: dict[str, Any] = {
            "job": FORM,
            "body": form,
            "issued_at": issued,
            "expires_at": issued + ttl_s,
        }
        envelope["sig"] = _mac(self._keys.sealing_key(), envelope)
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=True)

    def open_form(
        self, text: str, now: datetime, *, max_ttl_s: int, current_key_only: bool = False
    ) -> dict[str, Any]:
        """The form sealed in ``text`` by ``seal_form``, or JobRejectedError saying why not.

        ``current_key_only``: open with the key this signer seals with and ask for no other
        (the endpoint's ack path reads no secret; a form sealed before a key rotation is then
        refused, and opening the modal again makes a new one)."""
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise JobRejectedError("malformed", "the form is not JSON") from exc
        self._check(
            event, now, ttl_s=max_ttl_s, ignore_expiry=False, current_key_only=current_key_only
        )
        body = event.get("body")
        if event.get("job") != FORM or not isinstance(body, dict):
            raise JobRejectedError("malformed", "the envelope holds no form")
        return body

    def _check(
        self,
        event: Any,
        now: datetime,
        *,
        ttl_s: int,
        ignore_expiry: bool,
        current_key_only: bool = False,
    ) -> None:
        """JobRejectedError unless ``event`` is an envelope sealed by a key that opens, valid
        for at most ``ttl_s`` seconds, and (unless ``ignore_expiry``) valid now."""
        if not isinstance(event, dict) or "sig" not in event:
            raise JobRejectedError("unsigned", "the event carries no signature")
        if set(event) != _ENVELOPE_KEYS:
            # Whatever else rides on the envelope is not signed: refused, never read.
            raise JobRejectedError("malformed", f"an envelope has exactly {sorted(_ENVELOPE_KEYS)}")
        sig = event.get("sig")
        try:
            signed = _canonical(event)
        except (KeyError, TypeError, ValueError) as exc:
            raise JobRejectedError("malformed", "the envelope is incomplete") from exc
        # Anything but 64 hex digits is no HMAC-SHA256 of any key: refused without re-reading
        # (and compare_digest would raise TypeError on non-ASCII text).
        if not isinstance(sig, str) or not _HMAC_HEX.fullmatch(sig):
            raise JobRejectedError("tampered", "the signature does not match the job")
        opened = (
            _matches((self._keys.sealing_key(),), signed, sig)
            if current_key_only
            else self._signed_by_a_key(signed, sig, now)
        )
        if not opened:
            raise JobRejectedError("tampered", "the signature does not match the job")
        expires_at, issued_at = event.get("expires_at"), event.get("issued_at")
        if type(expires_at) is not int or type(issued_at) is not int:  # bool is an int too
            raise JobRejectedError("malformed", "the envelope's times are not integers")
        if not 0 < expires_at - issued_at <= ttl_s:
            # No sealer makes a job valid for longer: one that claims so is not run late.
            raise JobRejectedError("malformed", "the envelope's validity is not a job's")
        if not ignore_expiry and not issued_at - 60 <= now.timestamp() < expires_at:
            raise JobRejectedError("stale", "the job is outside its validity window")

    def _signed_by_a_key(self, signed: bytes, sig: str, now: datetime) -> bool:
        """Whether ``sig`` is the MAC of ``signed`` under a key that opens; the keys are read
        again once first if ours may be stale (a rotation we have not seen yet)."""
        keys = self._keys.opening_keys()
        if _matches(keys, signed, sig):
            return True
        last = self._nothing_new_at
        if last is not None and (now - last).total_seconds() < self._refresh_cooldown_s:
            return False
        fresh = self._keys.opening_keys(fresh=True)
        self._nothing_new_at = now if fresh == keys else None
        return fresh != keys and _matches(fresh, signed, sig)


def _matches(keys: tuple[bytes, ...], signed: bytes, sig: str) -> bool:
    # Every key is tried (no early exit): the time taken says nothing about which one matched.
    found = [hmac.compare_digest(sig, _digest(key, signed)) for key in keys]
    return any(found)


def _from_body(kind: str, body: Any) -> Job:
    job_type = _TYPES.get(kind)
    if job_type is None or not isinstance(body, dict):
        raise JobRejectedError("malformed", f"unknown job {kind!r}")
    names = {f.name for f in fields(job_type)}
    # A field with a default was added later (ReportButtonJob's error and until): a job sealed
    # by an endpoint of the version before, during a deployment, is still whole without it.
    required = {f.name for f in fields(job_type) if f.default is MISSING}
    if not required <= set(body) <= names:
        raise JobRejectedError("malformed", f"a {kind} job has fields {sorted(names)}")
    for f in fields(job_type):
        if f.name not in body:
            continue
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
