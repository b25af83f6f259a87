"""The state table as the rest of the code sees it: items, writes, errors and the ``StateTableApi``
Protocol. No boto3 here: the stores (requests and runs, snapshots, leases, the redrive ledger) take
a ``StateTableApi`` and load without the AWS SDK; ``bot.state_table.StateTable`` implements it on
DynamoDB, ``tests/unit/fake_state_table.py`` in memory.

Items and keys are DynamoDB's own attribute values (``{"pk": {"S": "RUNS"}, "moved": {"N": "3"}}``),
expressions DynamoDB's expression language: the stores keep their codecs, and what a store writes
is exactly what DynamoDB receives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.errors import AwsError
from bot.state_schema import PARTITION_KEY, SORT_KEY

Item = dict[str, Any]  # attribute name -> attribute value ({"S": ...}, {"N": ...}, {"M": ...}, ...)
Key = dict[str, Any]  # the item's pk and sk, as attribute values
Names = Mapping[str, str]  # ExpressionAttributeNames: "#s" -> "status"
Values = Mapping[str, Any]  # ExpressionAttributeValues: ":now" -> {"N": "1700000000"}

CONDITION_FAILED = "ConditionalCheckFailedException"
BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
TRANSACTION_CANCELED = "TransactionCanceledException"


def key(pk: str, sk: str) -> Key:
    """The key of the item ``pk`` / ``sk``."""
    return {PARTITION_KEY: {"S": pk}, SORT_KEY: {"S": sk}}


class ConditionFailedError(AwsError):
    """The write's ConditionExpression was false: nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=CONDITION_FAILED)


class TransactionCanceledError(AwsError):
    """A transaction was cancelled: none of its writes happened.

    ``reasons``: one code per write, in order, as DynamoDB's CancellationReasons give them
    (``"None"`` for a write that was not the cause, ``"ConditionalCheckFailed"``,
    ``"TransactionConflict"``, ``"ThrottlingError"``, ...).
    """

    def __init__(self, message: str, reasons: Sequence[str]) -> None:
        super().__init__(message, code=TRANSACTION_CANCELED)
        self.reasons = tuple(reasons)

    @property
    def condition_failed(self) -> bool:
        """Whether a condition of the transaction was false (not a conflict or a throttle)."""
        return "ConditionalCheckFailed" in self.reasons


@dataclass(frozen=True)
class Put:
    """A whole item, written (replacing any item with its key) if ``condition`` holds."""

    item: Item
    condition: str | None = None
    names: Names = field(default_factory=dict)
    values: Values = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    """An UpdateExpression on the item ``key`` (created when absent) if ``condition`` holds."""

    key: Key
    expression: str
    condition: str | None = None
    names: Names = field(default_factory=dict)
    values: Values = field(default_factory=dict)


@dataclass(frozen=True)
class ConditionCheck:
    """A condition on the item ``key`` that a transaction needs, writing nothing."""

    key: Key
    condition: str
    names: Names = field(default_factory=dict)
    values: Values = field(default_factory=dict)


Write = Put | Update | ConditionCheck


class StateTableApi(Protocol):
    """The operations on the one state table. Every read is strongly consistent.

    Each takes ``doing`` ("store the approval request"): an error reads "the state table refused
    to <doing> (<code>: <message>)". A false ``condition`` raises ``ConditionFailedError``; any
    other failure ``AwsError``.
    """

    def get(self, key: Key, *, doing: str) -> Item | None:
        """The item with ``key``, or None."""
        ...

    def put(
        self,
        item: Item,
        *,
        doing: str,
        condition: str | None = None,
        names: Names | None = None,
        values: Values | None = None,
    ) -> None:
        """Write ``item`` whole (replacing the item with its key) if ``condition`` holds."""
        ...

    def update(
        self,
        key: Key,
        expression: str,
        *,
        doing: str,
        condition: str | None = None,
        names: Names | None = None,
        values: Values | None = None,
    ) -> Item:
        """Apply ``expression`` to the item ``key`` (created when absent) if ``condition`` holds;
        the item as it is afterwards."""
        ...

    def query(
        self,
        pk: str,
        *,
        doing: str,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        """The items of partition ``pk`` in sort key order (reversed with ``newest_first``),
        optionally only sort keys starting with ``sk_prefix`` or between the two (inclusive),
        at most ``limit`` of them; every page is read."""
        ...

    def batch_get(self, keys: Sequence[Key], *, doing: str) -> list[Item]:
        """The items with these keys that exist (in no particular order). Keys DynamoDB leaves
        unprocessed are asked again a few times; AwsError if some still are."""
        ...

    def transact(self, writes: Sequence[Write], *, doing: str) -> None:
        """All of ``writes`` or none: TransactionCanceledError (with a reason per write) when a
        condition is false or the transaction conflicts with another."""
        ...
