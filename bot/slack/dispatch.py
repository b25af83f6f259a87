"""Hand work to the worker Lambda: ``lambda.invoke(InvocationType="Event")`` (the only module that
calls Lambda). ``AWS_ENDPOINT_URL_LAMBDA`` points boto3 at a local endpoint in tests and the demo.

The Slack endpoint keeps a short timeout and minimal permissions; everything slow (SQS, DynamoDB,
Slack messages after the ack) runs in the worker, which has a long timeout.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.config import SlackSettings
from bot.errors import AwsError, ConfigError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

MAX_EVENT_PAYLOAD = 256 * 1024  # Lambda's limit for asynchronous invocations


class Dispatcher(Protocol):
    def dispatch(self, job: dict[str, Any]) -> None: ...


def default_lambda_client() -> LambdaClient:
    # Short timeouts and few retries: the ack must come back inside Slack's 3 seconds.
    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2})
    return boto3.client("lambda", config=config)


class LambdaDispatcher:
    """Queue a job for the worker function (asynchronous invocation, 202 from Lambda)."""

    def __init__(self, function_name: str, client: LambdaClient | None = None) -> None:
        self.function_name = function_name
        self.client: LambdaClient = client or default_lambda_client()

    def dispatch(self, job: dict[str, Any]) -> None:
        payload = json.dumps(job, separators=(",", ":")).encode()
        if len(payload) > MAX_EVENT_PAYLOAD:
            raise AwsError(f"the job is too large to hand to the worker ({len(payload)} bytes)")
        try:
            response = self.client.invoke(
                FunctionName=self.function_name, InvocationType="Event", Payload=payload
            )
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(
                f"could not start the worker function {self.function_name!r} ({type(exc).__name__})"
            ) from exc
        if response.get("StatusCode") != 202:
            raise AwsError(
                f"the worker function {self.function_name!r} did not accept the job "
                f"(status {response.get('StatusCode')})"
            )


def worker_function_name(settings: SlackSettings) -> str:
    """The worker Lambda's name, or a ConfigError naming the variable."""
    if not settings.worker_function:
        raise ConfigError("WORKER_FUNCTION_NAME is not set (the worker Lambda's function name)")
    return settings.worker_function
