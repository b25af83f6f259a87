"""The alert checks' items in the state table: each DLQ's alert state, and the DLQs that only
feeders feed, as the daily report last found them.

- ``AlertStore``: one item per DLQ, ``pk = "ALERTS"``, ``sk = "<dlq name>"``: one Query reads
  every state (a check reads them all). Every write is conditional on the item's ``version``
  (absent for a new one), so two checks that race (a late duplicate, an overlapping schedule)
  cannot both act on one state: the second's write fails and it leaves that DLQ alone. TTL
  ``RETENTION`` after the last write (a deleted DLQ's state goes away); the rules rewrite a
  state at least daily, and a reader treats an item past its TTL as absent (DynamoDB deletes
  expired items only eventually).
- ``FedDlqStore``: one item, ``pk = "ALERTWATCH"``, ``sk = "fed"``: the URL of every DLQ the
  daily report found fed by an SNS subscription, an EventBridge target or a Lambda function.
  Finding those takes a feeder scan (every subscription, rule and function: many calls and
  rights the alert check does not have), so the daily report writes what its scan found, and
  the checks read this one item. A feeder added today is watched from tomorrow's report on (or
  at once if ``DLQ_QUEUES`` names its DLQ). No TTL: each report overwrites it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.rules import QUIET, AlertState
from bot.catalog import Dlq
from bot.errors import AwsError
from bot.feeders import Kind
from bot.printable import printable_logger
from bot.state_schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from bot.state_table_api import (
    ConditionFailedError,
    Item,
    Put,
    StateTableApi,
    TransactionCanceledError,
    key,
)
from bot.watched_dlqs import FedRecord

logger = printable_logger(__name__)

ALERTS = "ALERTS"
WATCH = "ALERTWATCH"
FED = "fed"
RETENTION = timedelta(days=30)
MAX_TRANSACT = 100  # TransactWriteItems' limit of actions
# A DynamoDB item holds at most 400 KB, attribute names (the map keys: each DLQ's name, twice,
# in ``dlqs`` and ``kinds``) included. A DLQ takes at most about 330 bytes (an 80-character
# name twice, a URL of about 135, its kinds): 1,000 of them stay within it
# (tests/integration/test_fed_record_size.py: 2,000 did not, even before kinds were kept).
MAX_FED_DLQS = 1_000

_TIMES = ("last_checked", "alerted_at", "quiet_until")
_NUMBERS = ("last_depth", "notified_depth", "told_depth")
_TEXTS = ("thread_ts", "alert_run", "alert_part", "told_run", "told_part", "told_status")


class AlertStore:
    """Reads and writes ``AlertState`` items; the only code touching them."""

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def states(self, *, now: datetime) -> dict[str, AlertState]:
        """Every DLQ's state (one Query), by DLQ name; those past their TTL are absent."""
        items = self.table.query(ALERTS, doing="read the alert states")
        alive = (i for i in items if int(i[TTL_ATTRIBUTE]["N"]) >= now.timestamp())
        return {state.dlq: state for state in map(_state, alive)}

    def save(self, state: AlertState, *, now: datetime) -> AlertState | None:
        """Write ``state`` if its item is still at ``state.version`` (absent for 0): the state
        as stored (its version one up), or None if another check changed it meanwhile."""
        stored, put = _put(state, now)
        try:
            self.table.put(
                put.item,
                condition=put.condition,
                names=put.names,
                values=put.values,
                doing=f"save the alert state of {state.dlq!r}",
            )
        except ConditionFailedError:
            logger.warning("alert state of %s changed by another check: left to it", state.dlq)
            return None
        return stored

    def save_all(self, states: list[AlertState], *, now: datetime) -> bool:
        """Write ``states`` all or none (one transaction per ``MAX_TRANSACT`` of them), each on
        the condition ``save`` puts: the DLQs one thread reply spoke of are recorded together,
        so a retry that finds some recorded never re-renders that reply without the others.
        False if another check changed one of them meanwhile."""
        for start in range(0, len(states), MAX_TRANSACT):
            chunk = states[start : start + MAX_TRANSACT]
            try:
                self.table.transact(
                    [_put(state, now)[1] for state in chunk],
                    doing=f"save the alert states of {len(chunk)} DLQs",
                )
            except TransactionCanceledError as exc:
                if not exc.condition_failed:
                    raise
                logger.warning("alert states changed by another check: left to it")
                return False
        return True


def _put(state: AlertState, now: datetime) -> tuple[AlertState, Put]:
    """The state as stored (its version one up) and its conditional write."""
    if state.version:
        condition = "#version = :version"
        values: dict[str, Any] = {":version": {"N": str(state.version)}}
        names: dict[str, str] = {"#version": "version"}
    else:
        # Absent, or past its TTL and not yet deleted (``states`` reads it as absent).
        condition = "attribute_not_exists(#pk) OR #ttl < :now"
        values = {":now": {"N": str(int(now.timestamp()))}}
        names = {"#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE}
    stored = replace(state, version=state.version + 1)
    return stored, Put(_item(stored, now), condition, names, values)


class FedDlqStore:
    """The feeder-fed DLQs the daily report found (see the module docstring)."""

    def __init__(self, table: StateTableApi) -> None:
        self.table = table

    def record(
        self,
        urls: dict[str, str],
        *,
        now: datetime,
        partial: bool = False,
        kinds: dict[str, tuple[Kind, ...]] | None = None,
        unread: tuple[tuple[Kind, str], ...] = (),
    ) -> None:
        """Replace the list with ``urls`` (DLQ name -> queue URL) and ``kinds`` (each one's
        feeder kinds), the first ``MAX_FED_DLQS`` by name (a warning says how many are left
        out), with ``unread`` (the feeder kinds the scan could not read, and why). ``partial``:
        the scan could not read some kind of feeder, so a DLQ missing from ``urls`` may still
        be fed: the list keeps what it held (with the kinds then recorded) and adds ``urls``."""
        kinds = kinds or {}
        if partial:
            held = self.latest()
            urls = {**held.urls, **urls}
            kinds = {**held.kinds, **kinds}
        names = sorted(urls)
        if len(names) > MAX_FED_DLQS:
            logger.warning(
                "%d feeder-fed DLQs: alerts watch the first %d by name only",
                len(names),
                MAX_FED_DLQS,
            )
        kept = names[:MAX_FED_DLQS]
        self.table.put(
            {
                PARTITION_KEY: {"S": WATCH},
                SORT_KEY: {"S": FED},
                "dlqs": {"M": {name: {"S": urls[name]} for name in kept}},
                # Apart from ``dlqs`` so that a record written before kinds were kept reads as
                # such (no ``kinds``: not known), and short: "sns+lambda".
                "kinds": {
                    "M": {name: {"S": "+".join(kinds[name])} for name in kept if name in kinds}
                },
                "unread": {
                    "L": [{"M": {"kind": {"S": k}, "why": {"S": why}}} for k, why in unread]
                },
                "recorded_at": {"S": now.isoformat(timespec="seconds")},
            },
            doing="record the feeder-fed DLQs for the alert checks",
        )

    def read(self) -> dict[str, str]:
        """DLQ name -> queue URL, as the last daily report recorded them (none yet: empty)."""
        return self.latest().urls

    def latest(self) -> FedRecord:
        """The last daily report's record (none yet: an empty one, ``recorded_at`` None). A
        kind this version does not know is left out of a DLQ's kinds."""
        item = self.table.get(key(WATCH, FED), doing="read the feeder-fed DLQs")
        if item is None:
            return FedRecord()
        known = {kind.value: kind for kind in Kind}
        return FedRecord(
            urls={name: value["S"] for name, value in item["dlqs"]["M"].items()},
            kinds={
                name: tuple(known[k] for k in value["S"].split("+") if k in known)
                for name, value in item.get("kinds", {}).get("M", {}).items()
            },
            unread=tuple(
                (known[e["M"]["kind"]["S"]], e["M"]["why"]["S"])
                for e in item.get("unread", {}).get("L", [])
                if e["M"]["kind"]["S"] in known
            ),
            recorded_at=datetime.fromisoformat(item["recorded_at"]["S"]),
        )


def _item(state: AlertState, now: datetime) -> Item:
    item: Item = {
        PARTITION_KEY: {"S": ALERTS},
        SORT_KEY: {"S": state.dlq},
        "status": {"S": state.status},
        "version": {"N": str(state.version)},
        TTL_ATTRIBUTE: {"N": str(int((now + RETENTION).timestamp()))},
    }
    for name in _TIMES:
        value = getattr(state, name)
        if value is not None:
            item[name] = {"S": value.isoformat()}
    for name in _NUMBERS:
        if getattr(state, name) is not None:
            item[name] = {"N": str(getattr(state, name))}
    for name in _TEXTS:
        if getattr(state, name) is not None:
            item[name] = {"S": getattr(state, name)}
    return item


def _state(item: Item) -> AlertState:
    fields: dict[str, Any] = {}
    for name in _TIMES:
        if name in item:
            fields[name] = datetime.fromisoformat(item[name]["S"])
    for name in _NUMBERS:
        if name in item:
            fields[name] = int(item[name]["N"])
    for name in _TEXTS:
        if name in item:
            fields[name] = item[name]["S"]
    return AlertState(
        dlq=item[SORT_KEY]["S"],
        status=item.get("status", {}).get("S", QUIET),
        version=int(item["version"]["N"]),
        **fields,
    )


def record_fed_dlqs(
    store: FedDlqStore | None,
    dlqs: list[Dlq],
    *,
    partial: bool,
    now: datetime,
    unread: tuple[tuple[Kind, str], ...] = (),
) -> None:
    """What the daily report calls once its scan found the watched DLQs: record those a feeder
    feeds, with their feeder kinds, and the kinds the scan could not read (``unread``;
    ``partial``: see ``FedDlqStore.record``). A refusal is logged: the report goes on, and the
    alert checks and the Home tab read the record as it was."""
    if store is None:
        return
    fed = [d for d in dlqs if d.feeders]
    try:
        store.record(
            {d.name: d.info.url for d in fed},
            kinds={d.name: tuple(k for k in d.kinds() if k is not Kind.SQS) for d in fed},
            unread=unread,
            now=now,
            partial=partial,
        )
    except AwsError as exc:
        logger.warning("feeder-fed DLQs not recorded for the alert checks: %s", exc)
