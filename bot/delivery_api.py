"""Where a redriven copy goes when it is not a queue, as the engine sees it: the ``TargetApi``
Protocol. No boto3 here: ``bot.delivery_gateway.DeliveryGateway`` is the real one (Lambda and SNS
through their gateways), ``tests/unit/fake_targets.py`` the in-memory one.

Both methods confirm or refuse one delivery, never "maybe" silently: a delivery AWS refused raises
``AwsError`` with AWS's code (nothing was delivered: the message stays in its DLQ and may be tried
again), one whose answer was lost after the request went out raises ``SendAnswerLostError`` (it may
have been delivered: the message is neither deleted nor sent again in the same run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TargetApi(Protocol):
    """Deliveries to a function (asynchronous invoke) or a topic (publish)."""

    def invoke_event(self, function_arn: str, payload: bytes) -> None:
        """Queue one asynchronous invocation (``InvocationType="Event"``) of ``function_arn``
        (an ARN, qualified or not, or a name) with ``payload``; returns once Lambda accepted it
        (202). ``AwsError`` (AWS's code) if refused, ``SendAnswerLostError`` if the answer was
        lost after the request went out."""
        ...

    def check_invoke(self, function_arn: str) -> None:
        """Whether ``function_arn`` exists and may be invoked, without running it: Invoke with
        ``InvocationType="DryRun"`` ("Validate parameter values and verify that the user or role
        has permission to invoke the function", API reference; 204). ``AwsError`` (AWS's code,
        e.g. ResourceNotFoundException) if not. A dry run asks it once per function, as it looks
        up each destination queue, so that "would move" never counts copies for a function that
        would refuse them."""
        ...

    def publish(
        self,
        topic_arn: str,
        message: str,
        attributes: Mapping[str, Any],
        group_id: str | None,
        dedup_id: str | None,
    ) -> str:
        """Publish ``message`` to ``topic_arn`` with ``attributes`` (SNS's MessageAttributes
        shape, ``{name: {"DataType": ..., "StringValue" | "BinaryValue": ...}}``); a FIFO
        topic's group and deduplication ids, else None. Returns SNS's MessageId. ``AwsError``
        (AWS's code) if refused, ``SendAnswerLostError`` if the answer was lost."""
        ...
