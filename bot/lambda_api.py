"""Lambda as the rest of the code sees it: the ``AsyncInvoker`` Protocol and the payload rule.

No boto3 here: the endpoint's dispatcher, the worker's and the daily job's continuations take an
``AsyncInvoker``; ``bot.lambda_gateway.LambdaGateway`` is the real one,
``tests/unit/fake_lambda.py`` the in-memory one. Both encode and measure a payload with
``event_payload``. ``FailedInvocation`` reads the record Lambda sends a function's on-failure
destination, for the worker's and the daily report's failure rules alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import AwsError, UsageError

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


MAX_ERROR_TEXT = 500  # characters of Lambda's error kept and shown


@dataclass(frozen=True)
class FailedInvocation:
    """An asynchronous invocation that failed (every attempt, or too old to run), from the record
    Lambda sends the function's on-failure destination. The AWS Lambda Developer Guide
    ("Capturing records of Lambda asynchronous invocations") shows it as ``{"version": "1.0",
    "timestamp": ..., "requestContext": {"requestId", "functionArn", "condition":
    "RetriesExhausted" | "EventAgeExceeded", "approximateInvokeCount"}, "requestPayload": <the
    event>, "responseContext": {"statusCode", "executedVersion", "functionError"},
    "responsePayload": {"errorType"?, "errorMessage"}}``. Lambda's retries of one invocation keep
    its request id."""

    request_id: str
    condition: str
    attempts: int
    payload: Any
    error_type: str | None = None
    error_message: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FailedInvocation:
        """UsageError (saying what is missing) for anything but a destination record."""
        context = record.get("requestContext") if isinstance(record, Mapping) else None
        if not isinstance(context, Mapping) or not context.get("requestId"):
            raise UsageError("not a Lambda destination record: no requestContext.requestId")
        if "requestPayload" not in record:
            raise UsageError("not a Lambda destination record: no requestPayload")
        response = record.get("responsePayload")
        response = response if isinstance(response, Mapping) else {}
        try:
            attempts = int(context.get("approximateInvokeCount") or 0)
        except (TypeError, ValueError):
            attempts = 0
        return cls(
            request_id=str(context["requestId"]),
            condition=str(context.get("condition") or "unknown"),
            attempts=attempts,
            payload=record["requestPayload"],
            error_type=_text(response.get("errorType")),
            error_message=_text(response.get("errorMessage")),
        )

    @property
    def error(self) -> str:
        """Why it failed, in Lambda's words (plain text: every surface escapes it): the error's
        type and message, else the record's condition."""
        words = ": ".join(e for e in (self.error_type, self.error_message) if e)
        return (words or self.condition)[:MAX_ERROR_TEXT]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None
