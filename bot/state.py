"""The Slack app's records in the state table: approval requests, the conditional decision
writes, audit events, redrive runs (progress, checkpoints, cancel flags) and the replay guard.
Every read and write goes through the state table's gateway (``bot.state_table_api``): this
module holds no boto3, and its tests can run on the in-memory table.

Items (single table, ``pk`` / ``sk`` strings, TTL on ``expires_at``):

- ``REQUEST#<id>`` / ``REQUEST``: one approval request, its pin and its decision.
- ``REQUEST#<id>`` / ``PIN#<n>``: the rest of a pin too big for the request item (n = 1, 2, ...;
  written before the request item, which names how many there are).
- ``REQUEST#<id>`` / ``EVENT#<iso time>#<n>``: the audit trail (who, when, what, counts).
- ``REQUESTS`` / ``<id>``: the index of requests (DLQ, requester), deleted by TTL when the
  approval window closes: the pending ones are listed with one query and one batch get.
- ``RUNS`` / ``<id>``: a redrive run (status, counts so far, invocation number, cancel flag). One
  partition, sorted by id, so ``status`` reads the most recent runs with one query; ids start with
  the UTC time, so they sort by age.
- ``DELIVERY#<key>`` / ``DELIVERY``: a Slack request already handled (replays are dropped).

(The daily report keeps ``SNAPSHOT#<dlq>`` items and powertools idempotency records in the same
table; none of the prefixes above collide with them.)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.errors import UsageError
from bot.state_model import (
    ACTIVE_RUN_STATUSES,
    DELIVERY_RETENTION,
    PIN_INLINE_DIGESTS,
    PIN_PART_PREFIX,
    RECORD_RETENTION,
    REQUESTS_PARTITION,
    RUNS_PARTITION,
    ApprovalRequest,
    DecisionOutcome,
    RequestStatus,
    RunRecord,
    RunStatus,
    epoch,
    from_attr_map,
    new_request_id,
    to_attr_map,
)
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import (
    ConditionFailedError,
    Item,
    Key,
    Put,
    StateTableApi,
    TransactionCanceledError,
    Update,
    key,
)

# Re-exported: the records' home is bot.state_model (no boto3); callers may import them here.
__all__ = [
    "ACTIVE_RUN_STATUSES",
    "ApprovalRequest",
    "DecisionOutcome",
    "RequestStatus",
    "RunRecord",
    "RunStatus",
    "StateStore",
    "new_request_id",
]

_event_counter = itertools.count()
_ACTIVE = {
    ":running": {"S": RunStatus.RUNNING.value},
    ":continuing": {"S": RunStatus.CONTINUING.value},
}
_IS_ACTIVE = "#s IN (:running, :continuing)"


def _event_item(
    request_id: str, kind: str, actor: str, now: datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    sk = f"EVENT#{now.astimezone(UTC).isoformat()}#{next(_event_counter):06d}"
    return {
        PARTITION_KEY: {"S": f"REQUEST#{request_id}"},
        SORT_KEY: {"S": sk},
        "kind": {"S": kind},
        "actor": {"S": actor},
        "at": {"S": now.isoformat()},
        "detail": {"M": to_attr_map(detail)},
        TTL_ATTRIBUTE: {"N": str(epoch(now + RECORD_RETENTION))},
    }


def _request_key(request_id: str) -> Key:
    return key(f"REQUEST#{request_id}", "REQUEST")


def _index_item(request: ApprovalRequest) -> Item:
    """The request's item in the ``REQUESTS`` index, gone (TTL) once its window closes."""
    closes = epoch(request.approval_expires_at)
    return {
        PARTITION_KEY: {"S": REQUESTS_PARTITION},
        SORT_KEY: {"S": request.request_id},
        "dlq": {"S": request.dlq},
        "requester": {"S": request.requester},
        "approval_expires_at": {"N": str(closes)},
        TTL_ATTRIBUTE: {"N": str(closes)},
    }


def _run_key(run_id: str) -> Key:
    return key(RUNS_PARTITION, run_id)


class _OnTable:
    def __init__(self, table: StateTableApi) -> None:
        # The gateway is made by whoever composes (bot.composition, a test): one way to DynamoDB.
        self.table: StateTableApi = table


class ApprovalStore(_OnTable):
    """Approval requests, their decisions, their audit events and the replay guard.

    ``pin_part_digests``: the digests of a pin each item holds (tests make it small to split
    small pins as production splits big ones)."""

    def __init__(self, table: StateTableApi, *, pin_part_digests: int = PIN_INLINE_DIGESTS) -> None:
        super().__init__(table)
        self.pin_part_digests = pin_part_digests

    # --- requests and decisions -------------------------------------------------------------

    def put_request(self, request: ApprovalRequest) -> None:
        """Store a new pending request (ids are unique; an existing one is never overwritten).
        A pin's part items are written first: the request item, written last, names them, so
        no request exists (none can be approved) before its whole pin does. Its index item
        goes first too, so every request that exists is listed (an index item whose request
        was never written names nothing: ``requests`` finds no such request)."""
        item, parts = request.to_items(self.pin_part_digests)
        self.table.put(
            _index_item(request), condition="attribute_not_exists(pk)", doing="list the request"
        )
        for part in parts:
            self.table.put(
                part,
                condition="attribute_not_exists(pk)",
                doing="store the approval request's counted ids",
            )
        self.table.put(
            item,
            condition="attribute_not_exists(pk)",
            doing="store the approval request",
        )

    def set_card(self, request_id: str, message_ts: str) -> None:
        """Remember where the approval card is, so every later step can update it."""
        self.table.update(
            _request_key(request_id),
            "SET message_ts = :ts",
            values={":ts": {"S": message_ts}},
            doing="remember the approval card",
        )

    def get_request(self, request_id: str) -> ApprovalRequest | None:
        item = self.table.get(_request_key(request_id), doing="read the approval request")
        return self._request(item) if item else None

    def requests(self, request_ids: Iterable[str]) -> dict[str, ApprovalRequest]:
        """The requests with these ids that exist, by id: one BatchGetItem (the gateway splits
        past 100 keys and asks again for unprocessed ones), plus a Query for each pin stored
        in parts, so each comes back as ``get_request`` reads it."""
        unique = list(dict.fromkeys(request_ids))  # DynamoDB refuses a batch naming one twice
        if not unique:
            return {}
        items = self.table.batch_get(
            [_request_key(request_id) for request_id in unique],
            doing="read the approval requests",
        )
        found = (self._request(item) for item in items)
        return {request.request_id: request for request in found}

    def pending_requests(self, now: datetime) -> list[ApprovalRequest]:
        """The requests still waiting for a decision at ``now`` (pending, window open), oldest
        first: one Query of the index, then one batch get of the requests it names whose
        window is still open (DynamoDB's TTL deletes index items days late, not on time)."""
        index = self.table.query(REQUESTS_PARTITION, doing="list the approval requests")
        open_ids = [
            item[SORT_KEY]["S"]
            for item in index
            if int(item["approval_expires_at"]["N"]) > epoch(now)
        ]
        requests = self.requests(open_ids).values()
        pending = [
            request
            for request in requests
            if request.status is RequestStatus.PENDING and request.approval_expires_at > now
        ]
        return sorted(pending, key=lambda request: (request.requested_at, request.request_id))

    def _request(self, item: Item) -> ApprovalRequest:
        """The request of ``item``, with its pin's part items when it has some (one Query)."""
        parts = []
        if "pin_parts" in item:
            parts = self.table.query(
                item[PARTITION_KEY]["S"],
                sk_prefix=PIN_PART_PREFIX,
                doing="read the approval request's counted ids",
            )
        return ApprovalRequest.from_items(item, parts)

    @staticmethod
    def _decision(request_id: str, status: RequestStatus, user: str, now: datetime) -> Update:
        """pending → ``status`` by ``user``. Approve and reject also require the request not
        to have expired; ``EXPIRED`` requires the opposite, so a late click can only ever mark
        it expired."""
        window = "<=" if status is RequestStatus.EXPIRED else ">"
        return Update(
            _request_key(request_id),
            "SET #s = :status, decided_by = :user, decided_at = :at",
            f"attribute_exists(pk) AND #s = :pending AND approval_expires_at {window} :now",
            {"#s": "status"},
            {
                ":pending": {"S": RequestStatus.PENDING.value},
                ":status": {"S": status.value},
                ":user": {"S": user},
                ":at": {"S": now.isoformat()},
                ":now": {"N": str(epoch(now))},
            },
        )

    def decide(
        self, request_id: str, status: RequestStatus, user: str, now: datetime
    ) -> DecisionOutcome:
        """The one conditional write: pending → ``status``. Exactly one caller wins."""
        write = self._decision(request_id, status, user, now)
        try:
            item = self.table.update(
                write.key,
                write.expression,
                condition=write.condition,
                names=write.names,
                values=write.values,
                doing="record the decision",
            )
        except ConditionFailedError:
            return DecisionOutcome(won=False, request=self.get_request(request_id))
        return DecisionOutcome(won=True, request=self._request(item))

    def approve_and_start(
        self, request_id: str, run: RunRecord, *, detail: dict[str, Any] | None = None
    ) -> DecisionOutcome:
        """The approval, its run record and its audit event in one transaction: the request goes
        pending → approved (by ``run.approved_by`` at ``run.started_at``, not expired), the
        ``running`` run is created and the "approved" event written (with ``detail``: what was
        approved, ``ApprovalRequest.audit_detail``), all or none. So a won approval always has
        its run, whatever happens to Slack afterwards; exactly one caller wins."""
        approve = self._decision(
            request_id, RequestStatus.APPROVED, run.approved_by, run.started_at
        )
        start = Put(run.to_item(), condition="attribute_not_exists(pk)")
        audit = Put(
            _event_item(request_id, "approved", run.approved_by, run.started_at, detail or {})
        )
        try:
            self.table.transact(
                [approve, start, audit], doing="record the approval and start the run"
            )
        except TransactionCanceledError as exc:
            if not exc.condition_failed:  # a conflict or a throttle: an error to report
                raise
            return DecisionOutcome(won=False, request=self.get_request(request_id))
        return DecisionOutcome(won=True, request=self.get_request(request_id))

    # --- audit -------------------------------------------------------------------------------

    def record_event(
        self, request_id: str, kind: str, actor: str, now: datetime, **detail: Any
    ) -> None:
        """Append one audit event (who, when, what, counts) to the request's history."""
        self.table.put(
            _event_item(request_id, kind, actor, now, detail), doing="record the audit event"
        )

    def events(self, request_id: str) -> list[dict[str, Any]]:
        """The request's audit events, oldest first (kind, actor, at, detail)."""
        items = self.table.query(
            f"REQUEST#{request_id}", sk_prefix="EVENT#", doing="read the audit events"
        )
        return [
            {
                "kind": item["kind"]["S"],
                "actor": item["actor"]["S"],
                "at": item["at"]["S"],
                "detail": from_attr_map(item["detail"]["M"]),
            }
            for item in items
        ]

    # --- replay guard ------------------------------------------------------------------------

    def claim_delivery(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` (a signed Slack request) is seen, False on a replay."""
        try:
            self.table.put(
                {
                    PARTITION_KEY: {"S": f"DELIVERY#{key}"},
                    SORT_KEY: {"S": "DELIVERY"},
                    "at": {"S": now.isoformat()},
                    TTL_ATTRIBUTE: {"N": str(epoch(now + DELIVERY_RETENTION))},
                },
                condition="attribute_not_exists(pk)",
                doing="check for a replayed request",
            )
        except ConditionFailedError:
            return False
        return True


def _owned_by(approved_by: str | None, started_by: str | None) -> tuple[str, dict[str, Any]]:
    """The condition (and its values) that a run is that person's approval and that click's or
    invocation's (``RunStore.fail_run``); "true" when neither is given."""
    parts, values = ["attribute_exists(pk)"], {}
    if approved_by is not None:
        parts.append("approved_by = :approved_by")
        values[":approved_by"] = {"S": approved_by}
    if started_by is not None:
        parts.append("(attribute_not_exists(started_by) OR started_by = :started_by)")
        values[":started_by"] = {"S": started_by}
    return " AND ".join(parts), values


class RunStore(_OnTable):
    """Redrive runs: progress, checkpoints, cancel flags, failures."""

    def start_run(self, run: RunRecord) -> bool:
        """Create the run record; False if it exists (a duplicate delivery of the same start)."""
        try:
            self.table.put(
                run.to_item(), condition="attribute_not_exists(pk)", doing="start the run record"
            )
        except ConditionFailedError:
            return False
        return True

    def get_run(self, run_id: str) -> RunRecord | None:
        item = self.table.get(_run_key(run_id), doing="read the run")
        return RunRecord.from_item(item) if item else None

    def save_run(self, run: RunRecord, *, expected_invocation: int) -> RunRecord | None:
        """Write the run's progress/checkpoint if it is active and still belongs to invocation
        ``expected_invocation``; return the stored run (with any cancel flag set meanwhile),
        or None if another invocation took it over or it was marked failed (the caller must
        stop).

        Only the fields the worker owns are written, so a concurrent ``cancel`` is never lost.
        """
        try:
            item = self.table.update(
                _run_key(run.run_id),
                "SET #s = :status, updated_at = :updated, invocation = :invocation, "
                "moved = :moved, failed = :failed, skipped = :skipped, "
                "needs_human = :needs_human, scanned = :scanned, duration_s = :duration, "
                "idle_invocations = :idle, #e = :error, unreported = :unreported, "
                "detail = :detail",
                # Only an active run: one marked failed from outside (its invocation died, as
                # Lambda reported) is never written again by what is left of that invocation.
                condition=f"invocation = :expected AND {_IS_ACTIVE}",
                names={"#s": "status", "#e": "error"},
                values={
                    ":status": {"S": run.status.value},
                    ":updated": {"S": run.updated_at.isoformat()},
                    ":invocation": {"N": str(run.invocation)},
                    ":moved": {"N": str(run.moved)},
                    ":failed": {"N": str(run.failed)},
                    ":skipped": {"N": str(run.skipped)},
                    ":needs_human": {"N": str(run.needs_human)},
                    ":scanned": {"N": str(run.scanned)},
                    ":duration": {"N": str(round(run.duration_s, 3))},
                    ":idle": {"N": str(run.idle_invocations)},
                    ":error": {"S": run.error} if run.error else {"NULL": True},
                    ":unreported": {"BOOL": run.unreported},
                    # what the next part must know (``bot.slack.runner.NOT_AGAIN``)
                    ":detail": {"M": to_attr_map(run.detail)},
                    ":expected": {"N": str(expected_invocation)},
                    **_ACTIVE,
                },
                doing="save the run checkpoint",
            )
        except ConditionFailedError:
            return None
        return RunRecord.from_item(item)

    def claim_continuation(
        self, run_id: str, invocation: int, now: datetime, *, owner: str | None = None
    ) -> RunRecord | None:
        """Take a ``continuing`` run for ``invocation`` (the checkpoint's next number); None when
        this continuation was already taken (a duplicate asynchronous delivery). ``owner``: the
        Lambda request id of the invocation taking it (``started_by``), so that the record of
        a duplicate delivery of the same part that died cannot fail it."""
        values: dict[str, Any] = {
            **_ACTIVE,
            ":n": {"N": str(invocation)},
            ":at": {"S": now.isoformat()},
        }
        if owner is not None:
            expression = "SET #s = :running, updated_at = :at, started_by = :owner"
            values[":owner"] = {"S": owner}
        else:  # unknown: the part is then judged by its number alone
            expression = "SET #s = :running, updated_at = :at REMOVE started_by"
        try:
            item = self.table.update(
                _run_key(run_id),
                expression,
                condition="#s = :continuing AND invocation = :n",
                names={"#s": "status"},
                values=values,
                doing="continue the run",
            )
        except ConditionFailedError:
            return None
        return RunRecord.from_item(item)

    def fail_run(
        self,
        run_id: str,
        error: str,
        now: datetime,
        *,
        invocation: int | None = None,
        approved_by: str | None = None,
        started_by: str | None = None,
    ) -> RunRecord | None:
        """Mark an active (running or continuing) run failed with ``error``; None when it is
        unknown or already ended (its own outcome stands), or, with ``invocation`` /
        ``approved_by`` / ``started_by``, when it is no longer that invocation's or was not that
        person's approval or that click's (the failed invocation does not own it: its outcome
        is not the run's). A run stored without ``started_by`` is judged by the rest."""
        condition, values = _owned_by(approved_by, started_by)
        if invocation is not None:
            condition += " AND invocation = :invocation"
            values[":invocation"] = {"N": str(invocation)}
        return self._fail(
            run_id,
            # The invocation died: its counts are those of its last saved progress.
            "SET #s = :failed, #e = :error, updated_at = :at, unreported = :unreported",
            f"{_IS_ACTIVE} AND {condition}",
            {":error": {"S": error}, ":at": {"S": now.isoformat()}, ":unreported": {"BOOL": True}}
            | _ACTIVE
            | values,
        )

    def fail_hand_over(
        self,
        run_id: str,
        error: str,
        now: datetime,
        *,
        invocation: int,
        approved_by: str | None = None,
        started_by: str | None = None,
    ) -> RunRecord | None:
        """Mark failed a run that part ``invocation`` (owned by ``approved_by`` /
        ``started_by``, as ``fail_run`` judges) handed over to the next part, which nobody has
        claimed: the part died after its checkpoint, so no part will ever run it. None when the
        next part was claimed (``claim_continuation``), even at the same moment: both writes are
        conditional on the run still waiting, so exactly one wins.

        The checkpoint holds the part's whole report (its engine had returned), so the counts
        stay exact, and the run's part number goes back to the last part that ran."""
        condition, values = _owned_by(approved_by, started_by)
        return self._fail(
            run_id,
            "SET #s = :failed, #e = :error, updated_at = :at, invocation = :ran",
            f"#s = :continuing AND invocation = :next AND {condition}",
            {
                ":error": {"S": error},
                ":at": {"S": now.isoformat()},
                ":ran": {"N": str(invocation)},
                ":next": {"N": str(invocation + 1)},
                ":continuing": _ACTIVE[":continuing"],
            }
            | values,
        )

    def _fail(
        self, run_id: str, expression: str, condition: str, values: dict[str, Any]
    ) -> RunRecord | None:
        try:
            item = self.table.update(
                _run_key(run_id),
                expression,
                condition=condition,
                names={"#s": "status", "#e": "error"},
                values={":failed": {"S": RunStatus.FAILED.value}} | values,
                doing="mark the run failed",
            )
        except ConditionFailedError:
            return None
        return RunRecord.from_item(item)

    def request_cancel(self, run_id: str, user: str) -> RunRecord:
        """Flag an active run to stop; UsageError if it is unknown or already finished."""
        try:
            item = self.table.update(
                _run_key(run_id),
                "SET cancel_requested_by = :user",
                condition=f"attribute_exists(pk) AND {_IS_ACTIVE}",
                names={"#s": "status"},
                values={":user": {"S": user}, **_ACTIVE},
                doing="cancel the run",
            )
        except ConditionFailedError as exc:
            run = self.get_run(run_id)
            if run is None:
                raise UsageError(
                    f"no redrive with id {run_id!r}; `/dlq-redrive status` lists them"
                ) from exc
            raise UsageError(f"redrive {run_id} already ended ({run.status.value})") from exc
        return RunRecord.from_item(item)

    def cancel_requested(self, run_id: str) -> bool:
        run = self.get_run(run_id)
        return run is not None and run.cancel_requested_by is not None

    def recent_runs(self, limit: int = 25) -> list[RunRecord]:
        """The most recent runs, newest first."""
        items = self.table.query(
            RUNS_PARTITION, newest_first=True, limit=limit, doing="list the runs"
        )
        return [RunRecord.from_item(item) for item in items]


class StateStore(ApprovalStore, RunStore):
    """The Slack app's records (approvals and runs) in the one state table."""


def utcnow() -> datetime:
    return datetime.now(UTC)
