"""The one module that calls DynamoDB for the state table (``STATE_TABLE``).

Every store (approval requests and runs, daily snapshots and run state, leases, the redrive
ledger) gets a ``StateTableApi`` (bot/state_table_api.py: items, writes, errors, no boto3) and
this class is the real one; tests use ``tests.unit.fake_state_table.FakeStateTable``. Example::

    from bot.state_table import StateTable
    from bot.state_table_api import ConditionFailedError, Put, Update, key

    table = StateTable("dlq-redrive-state")  # or StateTable(name, client=a boto3 client)
    try:
        table.put(
            {"pk": {"S": "DELIVERY#abc"}, "sk": {"S": "DELIVERY"}},
            condition="attribute_not_exists(pk)",
            doing="check for a replayed request",
        )
    except ConditionFailedError:
        ...  # seen before
    run = table.update(
        key("RUNS", "r1"),
        "SET #s = :s ADD moved :n",
        condition="invocation = :expected",
        names={"#s": "status"},
        values={":s": {"S": "running"}, ":n": {"N": "10"}, ":expected": {"N": "1"}},
        doing="save the run checkpoint",
    )  # the item as it is afterwards
    table.transact(
        [Update(key("REQUEST#1", "REQUEST"), "SET #s = :a", "#s = :p", {"#s": "status"},
                {":a": {"S": "approved"}, ":p": {"S": "pending"}}),
         Put(run_item, condition="attribute_not_exists(pk)")],
        doing="record the approval and its run",
    )  # both or neither: TransactionCanceledError(reasons) otherwise
    items = table.query("RUNS", newest_first=True, limit=25, doing="list the runs")

boto3 finds a local server through ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_DYNAMODB``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_errors import describe_client_error
from bot.errors import AwsError
from bot.state_schema import PARTITION_KEY, SORT_KEY, table_definition
from bot.state_table_api import (
    BATCH_GET_KEYS,
    CONDITION_FAILED,
    TRANSACTION_CANCELED,
    ConditionCheck,
    ConditionFailedError,
    Item,
    Key,
    Names,
    Put,
    TransactionCanceledError,
    Update,
    Values,
    Write,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_ATTEMPTS = 5  # for keys DynamoDB leaves unprocessed (throttling)


class StateTable:
    """``StateTableApi`` on DynamoDB."""

    def __init__(self, name: str, client: DynamoDBClient | None = None) -> None:
        self.name = name
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    def get(self, key: Key, *, doing: str) -> Item | None:
        try:
            got = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            _raise(doing, exc)
        item: Item | None = got.get("Item")
        return item

    def put(
        self,
        item: Item,
        *,
        doing: str,
        condition: str | None = None,
        names: Names | None = None,
        values: Values | None = None,
    ) -> None:
        try:
            self.client.put_item(
                TableName=self.name, Item=item, **_expression_args(condition, names, values)
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(doing, exc)

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
        try:
            got = self.client.update_item(
                TableName=self.name,
                Key=key,
                UpdateExpression=expression,
                ReturnValues="ALL_NEW",
                **_expression_args(condition, names, values),
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(doing, exc)
        item: Item = got.get("Attributes", {})
        return item

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
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        names = {"#pk": PARTITION_KEY}
        if sk_prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = {"S": sk_prefix}
            names["#sk"] = SORT_KEY
        elif sk_between is not None:
            condition += " AND #sk BETWEEN :first AND :last"
            values[":first"], values[":last"] = {"S": sk_between[0]}, {"S": sk_between[1]}
            names["#sk"] = SORT_KEY
        items: list[Item] = []
        start: dict[str, Any] | None = None
        try:
            while limit is None or len(items) < limit:
                extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
                if limit is not None:
                    extra["Limit"] = limit - len(items)
                got = self.client.query(
                    TableName=self.name,
                    KeyConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ScanIndexForward=not newest_first,
                    ConsistentRead=True,
                    **extra,
                )
                items.extend(got.get("Items", []))
                start = got.get("LastEvaluatedKey")
                if not start:
                    break
        except (ClientError, BotoCoreError) as exc:
            _raise(doing, exc)
        return items

    def batch_get(self, keys: Sequence[Key], *, doing: str) -> list[Item]:
        items: list[Item] = []
        for first in range(0, len(keys), BATCH_GET_KEYS):
            items += self._batch_get(list(keys[first : first + BATCH_GET_KEYS]), doing)
        return items

    def _batch_get(self, keys: list[Key], doing: str) -> list[Item]:
        items: list[Item] = []
        for attempt in range(BATCH_GET_ATTEMPTS):
            try:
                got = self.client.batch_get_item(
                    RequestItems={self.name: {"Keys": keys, "ConsistentRead": True}}
                )
            except (ClientError, BotoCoreError) as exc:
                _raise(doing, exc)
            items += got.get("Responses", {}).get(self.name, [])
            unprocessed = got.get("UnprocessedKeys", {}).get(self.name)
            keys = list(unprocessed["Keys"]) if unprocessed else []
            if not keys:
                return items
            time.sleep(0.05 * 2**attempt)  # DynamoDB's advice: back off before asking again
        raise AwsError(
            f"the state table left {len(keys)} items unread after {BATCH_GET_ATTEMPTS} "
            f"attempts to {doing} (throttled)",
            code="ProvisionedThroughputExceededException",
        )

    def transact(self, writes: Sequence[Write], *, doing: str) -> None:
        try:
            self.client.transact_write_items(
                # Built as plain dicts from the caller's writes (not boto3's TypedDicts).
                TransactItems=[self._transact_item(write) for write in writes]  # type: ignore[misc]
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(doing, exc)

    def _transact_item(self, write: Write) -> dict[str, Any]:
        args = _expression_args(write.condition, write.names, write.values)
        if isinstance(write, Put):
            return {"Put": {"TableName": self.name, "Item": write.item, **args}}
        if isinstance(write, Update):
            return {
                "Update": {
                    "TableName": self.name,
                    "Key": write.key,
                    "UpdateExpression": write.expression,
                    **args,
                }
            }
        assert isinstance(write, ConditionCheck)
        return {"ConditionCheck": {"TableName": self.name, "Key": write.key, **args}}


def _expression_args(
    condition: str | None, names: Names | None, values: Values | None
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if condition is not None:
        args["ConditionExpression"] = condition
    if names:
        args["ExpressionAttributeNames"] = dict(names)
    if values:
        args["ExpressionAttributeValues"] = dict(values)
    return args


def _raise(doing: str, exc: ClientError | BotoCoreError) -> NoReturn:
    code, message = describe_client_error(exc)
    if isinstance(exc, BotoCoreError):
        raise AwsError(f"could not reach the state table to {doing} ({code})", code=code) from exc
    text = f"the state table refused to {doing} ({code}: {message})"
    if code == CONDITION_FAILED:
        raise ConditionFailedError(text) from exc
    if code == TRANSACTION_CANCELED:
        reasons = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]
        raise TransactionCanceledError(text, reasons or _reasons_from_message(message)) from exc
    raise AwsError(text, code=code) from exc


def _reasons_from_message(message: str) -> list[str]:
    """The reasons in the message, when the answer had no CancellationReasons ("Transaction
    cancelled, please refer cancellation reasons for specific reasons [None,
    ConditionalCheckFailed]", as DynamoDB phrases it)."""
    start, end = message.rfind("["), message.rfind("]")
    if start < 0 or end < start:
        return []
    return [reason.strip() for reason in message[start + 1 : end].split(",")]


def create_named_state_table(name: str, client: DynamoDBClient | None = None) -> bool:
    """``create_state_table`` for the CLI: on the default session's client unless one is given,
    and AwsError (not boto3's exceptions) when DynamoDB refuses or cannot be reached."""
    try:
        return create_state_table(client if client is not None else boto3.client("dynamodb"), name)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"could not create the state table {name!r} ({exc})") from exc


def create_state_table(client: DynamoDBClient, name: str) -> bool:
    """Create the state table ``name`` (with TTL) unless it exists; True if it was created.

    ``client`` is a boto3 DynamoDB client for whatever endpoint boto3 is configured for.
    """
    definition = table_definition()
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=definition["AttributeDefinitions"],
            KeySchema=definition["KeySchema"],
            BillingMode=definition["BillingMode"],
        )
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={
            "Enabled": True,
            "AttributeName": definition["TimeToLiveAttribute"],
        },
    )
    return True
