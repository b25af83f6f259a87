"""The daily job's run leases in the state table: the data access behind ``bot.daily.once``.

One item per piece of work (the 06:00 run of one scheduled time, or one continuation of it):
``pk = "DAILYLEASE#<work key>"``, ``sk = "lease"``, with

- ``state``: ``running`` while an attempt holds it, ``done`` once one finished (with ``result``,
  the JSON answer a duplicate event gets back);
- ``owner``: the Lambda request id of the attempt holding it (Lambda's retries of an
  asynchronous invocation keep the request id), and ``attempt``: how many attempts claimed it;
- ``until_ms``: when the lease runs out unless its owner renews it (epoch milliseconds);
- ``pending``: per DLQ, messages an attempt moved that are not yet in the run's moved counter
  (``DAILYRUN#``), so that an attempt that takes over from a dead one can count them;
- ``expires_at``: DynamoDB's TTL (``RETENTION`` after the last claim); an item past it counts as
  absent, since DynamoDB deletes expired items only eventually.

Every write is conditional on the state and the owner, so an attempt that lost its lease (it
stalled past ``until_ms`` and another took over) cannot overwrite the new owner's item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.state_schema import PARTITION_KEY, TTL_ATTRIBUTE
from bot.state_table_api import ConditionFailedError, StateTableApi
from bot.state_table_api import key as item_key

PREFIX = "DAILYLEASE#"
SORT = "lease"
# A duplicate event within this long gets the first run's answer (EventBridge and Lambda deliver
# again within hours, not days).
RETENTION = timedelta(days=3)
RUNNING = "running"
DONE = "done"
# Every attempt died (Lambda's on-failure destination said so: ``bot.daily.failures``). A later
# delivery of the same event may claim it and run again.
FAILED = "failed"

_NAMES = {
    "#pk": PARTITION_KEY,
    "#state": "state",
    "#owner": "owner",
    "#until": "until_ms",
    "#pending": "pending",
    "#attempt": "attempt",
    "#result": "result",
    "#ttl": TTL_ATTRIBUTE,
}


@dataclass(frozen=True)
class Lease:
    """A lease item as read or written."""

    state: str
    owner: str
    until_ms: int
    attempt: int
    pending: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] | None = None


class LeaseStore:
    """Claims, renews, completes and releases leases; the only code touching these items."""

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def claim(
        self, key: str, owner: str, *, now_ms: int, lease_ms: int
    ) -> tuple[bool, Lease | None]:
        """Take the lease of ``key`` for ``owner`` until ``now_ms + lease_ms`` if nobody holds it:
        no item (or an expired one), or a running one whose lease ran out or that ``owner``
        holds already (Lambda's retry of the same request). ``(True, the lease)`` then, with the
        pending moves of earlier attempts kept; else ``(False, the lease as it is)``."""
        expires = now_ms // 1000 + int(RETENTION.total_seconds())
        try:
            item = self.table.update(
                _key(key),
                "SET #state = :running, #owner = :me, #until = :until, #ttl = :ttl, "
                "#pending = if_not_exists(#pending, :none) ADD #attempt :one REMOVE #result",
                condition=(
                    "attribute_not_exists(#pk) OR #ttl < :now_s OR #state = :failed OR "
                    "(#state = :running AND (#until < :now_ms OR #owner = :me))"
                ),
                names=_NAMES,
                values={
                    ":running": {"S": RUNNING},
                    ":failed": {"S": FAILED},
                    ":me": {"S": owner},
                    ":until": {"N": str(now_ms + lease_ms)},
                    ":ttl": {"N": str(expires)},
                    ":none": {"M": {}},
                    ":one": {"N": "1"},
                    ":now_s": {"N": str(now_ms // 1000)},
                    ":now_ms": {"N": str(now_ms)},
                },
                doing=f"claim the run {key}",
            )
        except ConditionFailedError:
            return False, self.read(key, now_ms=now_ms)
        return True, _lease(item)

    def read(self, key: str, *, now_ms: int) -> Lease | None:
        """The lease of ``key`` (strongly consistent), or None if there is none (or expired)."""
        found = self.table.get(_key(key), doing=f"read the run {key}")
        if found is None or int(found[TTL_ATTRIBUTE]["N"]) < now_ms // 1000:
            return None
        return _lease(found)

    def renew(self, key: str, owner: str, *, until_ms: int, pending: dict[str, int]) -> bool:
        """Extend ``owner``'s lease to ``until_ms`` and store its pending moves; False if it is
        not ``owner``'s any more."""
        return self._update(
            key,
            owner,
            "SET #until = :until, #pending = :pending",
            {":until": {"N": str(until_ms)}, ":pending": _pending(pending)},
            "renew",
        )

    def complete(self, key: str, owner: str, result: dict[str, Any]) -> bool:
        """``owner`` finished: a duplicate event now gets ``result``."""
        return self._update(
            key,
            owner,
            "SET #state = :done, #result = :result REMOVE #until",
            {
                ":done": {"S": DONE},
                ":result": {"S": json.dumps(result, default=str, sort_keys=True)},
            },
            "complete",
        )

    def release(self, key: str, owner: str, *, pending: dict[str, int]) -> bool:
        """``owner`` failed: its lease ends now (the next attempt claims it at once), and the
        moves it did not count stay pending for that attempt."""
        return self._update(
            key,
            owner,
            "SET #until = :until, #pending = :pending",
            {":until": {"N": "0"}, ":pending": _pending(pending)},
            "release",
        )

    def fail(self, key: str, owner: str, reason: str, *, now_ms: int) -> Lease | None:
        """Mark the work of ``key`` failed (every attempt of Lambda request ``owner`` died) and
        return it, pending moves kept; None if it is not dead: another attempt completed it or
        holds a live lease on it. A run never claimed is marked too."""
        expires = now_ms // 1000 + int(RETENTION.total_seconds())
        try:
            item = self.table.update(
                _key(key),
                "SET #state = :failed, #owner = :me, #result = :result, #ttl = :ttl, "
                "#pending = if_not_exists(#pending, :none), "
                "#attempt = if_not_exists(#attempt, :zero) REMOVE #until",
                condition=(
                    "attribute_not_exists(#pk) OR #ttl < :now_s OR #state = :failed OR "
                    "(#state = :running AND (#until < :now_ms OR #owner = :me))"
                ),
                names=_NAMES,
                values={
                    ":failed": {"S": FAILED},
                    ":running": {"S": RUNNING},
                    ":me": {"S": owner},
                    ":result": {"S": json.dumps({"status": FAILED, "error": reason})},
                    ":ttl": {"N": str(expires)},
                    ":none": {"M": {}},
                    ":zero": {"N": "0"},
                    ":now_s": {"N": str(now_ms // 1000)},
                    ":now_ms": {"N": str(now_ms)},
                },
                doing=f"mark the run {key} failed",
            )
        except ConditionFailedError:
            return None
        return _lease(item)

    def _update(
        self, key: str, owner: str, expression: str, values: dict[str, Any], doing: str
    ) -> bool:
        names = {k: v for k, v in _NAMES.items() if k in expression or k in ("#state", "#owner")}
        try:
            self.table.update(
                _key(key),
                expression,
                condition="#state = :running AND #owner = :me",
                names=names,
                values={**values, ":running": {"S": RUNNING}, ":me": {"S": owner}},
                doing=f"{doing} the run {key}",
            )
        except ConditionFailedError:
            return False
        return True


def _key(key: str) -> dict[str, Any]:
    return item_key(PREFIX + key, SORT)


def _pending(pending: dict[str, int]) -> dict[str, Any]:
    return {"M": {dlq: {"N": str(n)} for dlq, n in pending.items() if n}}


def _lease(item: dict[str, Any]) -> Lease:
    result = item.get("result", {}).get("S")
    return Lease(
        state=item["state"]["S"],
        owner=item["owner"]["S"],
        until_ms=int(item.get("until_ms", {}).get("N", "0")),
        attempt=int(item.get("attempt", {}).get("N", "1")),
        pending={dlq: int(v["N"]) for dlq, v in item.get("pending", {}).get("M", {}).items()},
        result=json.loads(result) if result else None,
    )
