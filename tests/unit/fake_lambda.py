"""A hand-written in-memory Lambda with ``AsyncInvoker``'s method: it records the invocations it
accepted. tests/integration/test_lambda_contract.py runs the same tests against it and against
``bot.lambda_gateway.LambdaGateway`` on the local Lambda endpoint (infra/local/lambda_server.py).

Like Lambda it refuses a payload over the asynchronous limit (``bot.lambda_api.event_payload``,
the same rule the gateway applies before sending) and a function it does not know
("ResourceNotFoundException: Function not found"); ``refuse_next`` makes the next invocation fail
as a throttled or unreachable Lambda does. An accepted invocation runs nothing here: the test
runs the handler with ``payloads(name)`` when it wants to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.errors import AwsError
from bot.lambda_api import event_payload


@dataclass
class FakeLambda:
    """``AsyncInvoker`` in memory; ``functions``: the names it knows (None: any)."""

    functions: set[str] | None = None
    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)  # error codes, one per invocation

    def invoke_async(self, function_name: str, payload: dict[str, Any]) -> None:
        body = event_payload(function_name, payload)
        if self.refuse_next:
            code = self.refuse_next.pop(0)
            raise AwsError(f"AWS refused invoking {function_name!r}: {code}: injected")
        name = (
            function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        )
        if self.functions is not None and name not in self.functions:
            raise AwsError(
                f"AWS refused invoking {function_name!r}: ResourceNotFoundException: "
                f"Function not found: {function_name}"
            )
        # What the function receives is the JSON Lambda was sent, not the caller's objects.
        self.invocations.append((function_name, json.loads(body)))

    def payloads(self, function_name: str) -> list[dict[str, Any]]:
        """The payloads of the invocations of ``function_name`` accepted so far, in order."""
        return [payload for name, payload in self.invocations if name == function_name]
