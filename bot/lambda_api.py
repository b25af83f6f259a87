"""Lambda as the rest of the code sees it: the ``AsyncInvoker`` Protocol and the payload rule.

No boto3 here: the endpoint's dispatcher, the worker's and the daily job's continuations take an
``AsyncInvoker``; ``bot.lambda_gateway.LambdaGateway`` is the real one,
``tests/unit/fake_lambda.py`` the in-memory one. Both encode and measure a payload with
``event_payload``."""

from __future__ import annotations

import json
from typing import Any, Protocol

from bot.errors import AwsError

# "Invocation payload (request and response): 256 KB (asynchronous)" (Lambda quotas); since
# 2025 an asynchronous invocation takes up to 1 MB, but the functions' destinations and their
# records keep the old size, so the app stays within 256 KiB.
MAX_EVENT_PAYLOAD = 256 * 1024


def event_payload(function_name: str, payload: dict[str, Any]) -> bytes:
    """``payload`` as the bytes Lambda receives; AwsError when it is over ``MAX_EVENT_PAYLOAD``."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > MAX_EVENT_PAYLOAD:
        raise AwsError(f"the payload for {function_name!r} is too large ({len(body)} bytes)")
    return body


class AsyncInvoker(Protocol):
    """Queues invocations of functions by name (``InvocationType="Event"``)."""

    def invoke_async(self, function_name: str, payload: dict[str, Any]) -> None:
        """Queue an invocation of ``function_name`` with ``payload``; AwsError if Lambda did not
        accept it (the function then never runs for it)."""
        ...
