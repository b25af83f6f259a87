"""BatchGetItem as DynamoDB documents it, through the real gateway (``bot.state_table.StateTable``)
on moto, which never answers a partial result: the proxy in front of it does, as DynamoDB may.

DynamoDB's API reference (BatchGetItem): "A single operation can retrieve up to 16 MB of data,
which can contain as many as 100 items. BatchGetItem returns a partial result if the response
size limit is exceeded, the table's provisioned throughput is exceeded, more than 1MB per
partition is requested, or an internal processing failure occurs. If a partial result is
returned, the operation returns a value for UnprocessedKeys. You can use this value to retry the
operation starting with the next item to get." and "If you request more than 100 items,
BatchGetItem returns a ValidationException with the message 'Too many items requested for the
BatchGetItem call.'"
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from bot.errors import AwsError
from bot.state_table import BATCH_GET_ATTEMPTS, StateTable, create_state_table
from bot.state_table_api import Key, key
from infra.local.moto_server import LocalAws
from tests.faults.fault_proxy import Fault, FaultProxy, ProxyRequest

TABLE = "dlq-redrive-state"


def _keys(count: int) -> list[Key]:
    return [key(f"SCANFACTS#q{n:03d}", "LATEST") for n in range(count)]


def _table_with(count: int) -> None:
    create_state_table(boto3.client("dynamodb"), TABLE)
    table = StateTable(TABLE)
    for item_key in _keys(count):
        table.put({**item_key, "n": {"N": "1"}}, doing="seed")


def _partial(answers: int, keep: int) -> tuple[Callable[[ProxyRequest, bytes], bytes], list[int]]:
    """A rewrite that makes the first ``answers`` BatchGetItem answers partial (``keep`` items,
    the rest as UnprocessedKeys), and the number of keys each BatchGetItem asked for."""
    asked: list[int] = []

    def rewrite(request: ProxyRequest, payload: bytes) -> bytes:
        if request.action != "BatchGetItem":
            return payload
        asked.append(len(json.loads(request.body)["RequestItems"][TABLE]["Keys"]))
        if len(asked) > answers:
            return payload
        answer: dict[str, Any] = json.loads(payload)
        items = answer["Responses"][TABLE]
        answer["Responses"][TABLE] = items[:keep]
        left = [{"pk": item["pk"], "sk": item["sk"]} for item in items[keep:]]
        answer["UnprocessedKeys"] = {TABLE: {"Keys": left, "ConsistentRead": True}}
        return json.dumps(answer).encode()

    return rewrite, asked


def _gateway(proxy: FaultProxy) -> StateTable:
    return StateTable(TABLE, boto3.client("dynamodb", endpoint_url=proxy.endpoint))


def test_unprocessed_keys_are_asked_again_until_every_item_is_read(aws: LocalAws) -> None:
    # Given 30 items, and DynamoDB answering the first two batch gets with 10 items each
    _table_with(30)
    rewrite, asked = _partial(answers=2, keep=10)

    # When the gateway reads all 30
    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, rewrite=rewrite) as proxy:
        items = _gateway(proxy).batch_get(_keys(30), doing="read the facts")

    # Then every item came back once, the retries asking only for what was left
    assert sorted(item["pk"]["S"] for item in items) == [k["pk"]["S"] for k in _keys(30)]
    assert asked == [30, 20, 10]


def test_keys_still_unprocessed_after_every_attempt_are_an_error(aws: LocalAws) -> None:
    _table_with(5)
    rewrite, asked = _partial(answers=100, keep=0)
    with (
        FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, rewrite=rewrite) as proxy,
        pytest.raises(AwsError, match="left 5 items unread after 5 attempts to read the facts"),
    ):
        _gateway(proxy).batch_get(_keys(5), doing="read the facts")
    assert asked == [5] * BATCH_GET_ATTEMPTS


def test_more_than_100_keys_are_asked_100_at_a_time(aws: LocalAws) -> None:
    _table_with(250)
    rewrite, asked = _partial(answers=0, keep=0)
    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, rewrite=rewrite) as proxy:
        items = _gateway(proxy).batch_get(_keys(250), doing="read the facts")
    assert len(items) == 250 and asked == [100, 100, 50]
