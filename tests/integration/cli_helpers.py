"""Run the CLI in-process against the local server and capture what it printed."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from bot.cli import main
from bot.sqs_gateway import SqsGateway


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.out)  # type: ignore[no-any-return]


def run_cli(
    argv: list[str], env: Mapping[str, str], gateway: SqsGateway | None = None
) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, gateway=gateway, out=out, err=err)
    return CliResult(code, out.getvalue(), err.getvalue())


class CallRecorder:
    """Records the SQS operations (and parameters) an injected client makes, through botocore's
    public event hooks: the requests still go to the real local server."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register("provide-client-params.sqs.*", self._record)
        self.gateway = SqsGateway(self.client)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def touched_messages(self) -> bool:
        """Whether any call received, sent, deleted or hid a message."""
        message_ops = {
            "ReceiveMessage",
            "SendMessageBatch",
            "SendMessage",
            "DeleteMessageBatch",
            "DeleteMessage",
            "ChangeMessageVisibilityBatch",
            "ChangeMessageVisibility",
        }
        return any(name in message_ops for name in self.names())
