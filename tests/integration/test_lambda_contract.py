"""One contract for Lambda's asynchronous invocations, run against ``LambdaGateway`` on the local
Lambda endpoint (infra/local/lambda_server.py) and against ``FakeLambda``: what the dispatcher and
the continuations rely on behaves the same in both, so the fake cannot drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from bot.errors import AwsError
from bot.lambda_api import MAX_EVENT_PAYLOAD, AsyncInvoker
from bot.lambda_gateway import LambdaGateway
from infra.local.lambda_server import LambdaServer
from tests.unit.fake_lambda import FakeLambda


@dataclass
class Scene:
    """An invoker, and what the function ``worker`` received through it."""

    invoker: AsyncInvoker
    received: Callable[[], list[dict[str, Any]]]


@pytest.fixture(params=["lambda", "fake"])
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    if request.param == "fake":
        fake = FakeLambda(functions={"worker"})
        yield Scene(fake, lambda: fake.payloads("worker"))
        return
    request.getfixturevalue("aws")  # dummy credentials and a region
    events: list[dict[str, Any]] = []
    with LambdaServer({"worker": lambda event, context: events.append(event)}) as server:
        client = boto3.client("lambda", endpoint_url=server.endpoint_url)

        def received() -> list[dict[str, Any]]:
            server.wait_idle(timeout=10)
            return events

        yield Scene(LambdaGateway(client), received)


def test_an_accepted_invocation_delivers_the_payload(scene: Scene) -> None:
    scene.invoker.invoke_async("worker", {"job": "decision", "n": 1, "text": "é <b>"})
    assert scene.received() == [{"job": "decision", "n": 1, "text": "é <b>"}]


def test_a_function_that_does_not_exist_is_refused(scene: Scene) -> None:
    with pytest.raises(AwsError) as refused:
        scene.invoker.invoke_async("no-such-function", {"job": "x"})
    assert "ResourceNotFoundException" in str(refused.value)
    assert scene.received() == []


def test_a_payload_over_the_asynchronous_limit_is_refused_before_it_is_sent(
    scene: Scene,
) -> None:
    with pytest.raises(AwsError) as refused:
        scene.invoker.invoke_async("worker", {"blob": "x" * MAX_EVENT_PAYLOAD})
    assert "too large" in str(refused.value)
    assert scene.received() == []
