"""A hand-written in-memory ``TargetApi`` (``bot.delivery_api``): Lambda's asynchronous invoke and
SNS's publish, recording what each target was given, for engine tests without a server.

It follows what AWS documents, the unpleasant parts included:

- an asynchronous invoke is accepted with 202 and runs nothing here ("Lambda places the event in a
  queue and returns a success response without additional information", Invoke API reference):
  the test reads ``invokes`` (what the function would receive);
- a function or topic it does not know is refused: "ResourceNotFoundException: The resource
  specified in the request does not exist" (Invoke), "NotFound: Topic does not exist" (Publish);
- a payload over the limits is refused: "RequestEntityTooLargeException: The request payload
  exceeded the Invoke request body JSON input quota" (1 MB for an asynchronous invoke since 2025),
  "InvalidParameter: Message too long" (SNS: "up to 256 KB", message and attributes together);
- ``refuse(target)`` makes a call fail as AWS refuses it (throttled, denied, a 5xx), with the code;
- ``lose_answer(target)`` makes a call's answer lost AFTER the target took it (a read timeout,
  a connection reset): the delivery is recorded, and the caller gets ``SendAnswerLostError``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import AwsError, SendAnswerLostError
from bot.feeders import unqualified_function_arn as _unqualified

MAX_ASYNC_INVOKE_BYTES = 1_048_576
MAX_SNS_MESSAGE_BYTES = 262_144


@dataclass(frozen=True)
class Published:
    """One message a topic accepted."""

    topic_arn: str
    message: str
    attributes: dict[str, dict[str, Any]]
    group_id: str | None
    dedup_id: str | None
    message_id: str


@dataclass
class FakeTargets:
    """``TargetApi`` in memory. ``functions`` and ``topics``: the ARNs (unqualified for
    functions) or names it knows; None: any."""

    functions: set[str] | None = None
    topics: set[str] | None = None
    refuse: Callable[[str], str | None] = lambda target: None  # an error code, or None
    lose_answer: Callable[[str], bool] = lambda target: False
    invokes: list[tuple[str, bytes]] = field(default_factory=list)  # (function ARN, payload)
    published: list[Published] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, target), refused too
    checked: list[str] = field(default_factory=list)  # functions a dry run asked (Invoke DryRun)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_invoke(self, function_arn: str) -> None:
        with self._lock:
            self.checked.append(function_arn)
            self._check(function_arn, self.functions, "ResourceNotFoundException")

    def invoke_event(self, function_arn: str, payload: bytes) -> None:
        with self._lock:
            self.calls.append(("Invoke", function_arn))
            self._check(function_arn, self.functions, "ResourceNotFoundException")
            if len(payload) > MAX_ASYNC_INVOKE_BYTES:
                raise AwsError(
                    "RequestEntityTooLargeException: The request payload exceeded the Invoke "
                    "request body JSON input quota",
                    code="RequestEntityTooLargeException",
                )
            self.invokes.append((function_arn, payload))
            self._answer(function_arn)

    def publish(
        self,
        topic_arn: str,
        message: str,
        attributes: Mapping[str, Any],
        group_id: str | None,
        dedup_id: str | None,
    ) -> str:
        with self._lock:
            self.calls.append(("Publish", topic_arn))
            self._check(topic_arn, self.topics, "NotFound")
            size = len(message.encode("utf-8", "surrogatepass")) + sum(
                len(name.encode()) + len(json.dumps(value).encode())
                for name, value in attributes.items()
            )
            if size > MAX_SNS_MESSAGE_BYTES:
                raise AwsError("InvalidParameter: Message too long", code="InvalidParameter")
            message_id = f"sns-{next(self._ids)}"
            copied = {name: dict(value) for name, value in attributes.items()}
            self.published.append(
                Published(topic_arn, message, copied, group_id, dedup_id, message_id)
            )
            self._answer(topic_arn)
            return message_id

    def _check(self, target: str, known: set[str] | None, missing_code: str) -> None:
        code = self.refuse(target)
        if code is not None:
            raise AwsError(f"AWS refused {target}: {code}: injected", code=code)
        if known is not None and _unqualified(target) not in known:
            raise AwsError(
                f"{missing_code}: the resource specified in the request does not exist: {target}",
                code=missing_code,
            )

    def _answer(self, target: str) -> None:
        if self.lose_answer(target):
            raise SendAnswerLostError("Read timeout on endpoint URL: the answer was lost")

    # --- what the targets received -------------------------------------------------------------

    def payloads(self, function_arn: str) -> list[Any]:
        """The JSON payloads ``function_arn`` (qualified or not) received, in order."""
        wanted = _unqualified(function_arn)
        return [json.loads(p) for arn, p in self.invokes if _unqualified(arn) == wanted]

    def messages(self, topic_arn: str) -> list[Published]:
        return [p for p in self.published if p.topic_arn == topic_arn]
