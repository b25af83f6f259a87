"""The local Lambda endpoint serves boto3's invoke for real: Event in the background (202),
RequestResponse inline (200), errors recorded, time budget configurable."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from infra.local.lambda_server import LambdaServer


def _client(server: LambdaServer) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_event_invocation_runs_in_the_background() -> None:
    release = threading.Event()
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> None:
        release.wait(10)
        seen.append((event, context.function_name, context.aws_request_id))

    with LambdaServer({"worker": handler}) as server:
        response = _client(server).invoke(
            FunctionName="worker", InvocationType="Event", Payload=b'{"job": 1}'
        )
        assert response["StatusCode"] == 202
        assert seen == []  # answered before the handler finished
        release.set()
        server.wait_idle(10)

    assert seen[0][:2] == ({"job": 1}, "worker")
    assert server.invocations[0].invocation_type == "Event"


def test_request_response_returns_the_result_and_names_by_arn_work() -> None:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return {"echo": event, "arn": context.invoked_function_arn}

    with LambdaServer({"daily": handler}) as server:
        response = _client(server).invoke(
            FunctionName="arn:aws:lambda:us-east-1:123456789012:function:daily",
            Payload=b'{"a": 1}',
        )
        payload = response["Payload"].read()

    assert response["StatusCode"] == 200 and b'"echo": {"a": 1}' in payload
    assert b"function:daily" in payload


def test_errors_are_recorded_not_swallowed() -> None:
    def broken(event: Any, context: Any) -> None:
        raise ValueError("boom")

    with LambdaServer({"worker": broken}) as server:
        client = _client(server)
        client.invoke(FunctionName="worker", InvocationType="Event", Payload=b"{}")
        inline = client.invoke(FunctionName="worker", Payload=b"{}")
        server.wait_idle(10)

    assert inline["FunctionError"] == "Unhandled"
    assert len(server.errors()) == 2
    assert isinstance(server.errors()[0].error, ValueError)
    with pytest.raises(AssertionError, match="ValueError: boom"):
        server.raise_errors()


def test_unknown_function_is_not_found() -> None:
    with LambdaServer({}) as server:
        client = _client(server)
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke(FunctionName="nope", Payload=b"{}")


def test_time_budget_counts_down_from_the_configured_timeout() -> None:
    def handler(event: Any, context: Any) -> int:
        return int(context.get_remaining_time_in_millis())

    with LambdaServer({"worker": handler}, timeouts={"worker": 2.0}) as server:
        remaining = int(_client(server).invoke(FunctionName="worker")["Payload"].read())
        server.set_timeout("worker", 0.5)
        shorter = int(_client(server).invoke(FunctionName="worker")["Payload"].read())

    assert 1500 < remaining <= 2000
    assert 0 < shorter <= 500
