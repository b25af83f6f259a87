"""The one module that calls Lambda: asynchronous invocations (``InvocationType="Event"``), used by
the Slack endpoint to hand work to the worker and by the worker and the daily job to continue
themselves. ``AWS_ENDPOINT_URL_LAMBDA`` points boto3 at a local endpoint in tests and the demo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_errors import describe_client_error
from bot.errors import AwsError
from bot.lambda_api import event_payload

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


def default_lambda_client() -> LambdaClient:
    # Short timeouts and few retries: the Slack ack must come back inside 3 seconds, and an
    # asynchronous invocation is answered at once (202) whatever the function then does.
    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2})
    return boto3.client("lambda", config=config)


class LambdaGateway:
    """``AsyncInvoker`` on boto3: queue invocations of functions by name."""

    def __init__(self, client: LambdaClient | None = None) -> None:
        self.client: LambdaClient = client if client is not None else default_lambda_client()

    def invoke_async(self, function_name: str, payload: dict[str, Any]) -> None:
        """Queue an invocation of ``function_name`` with ``payload``; AwsError if not accepted."""
        body = event_payload(function_name, payload)
        try:
            response = self.client.invoke(
                FunctionName=function_name, InvocationType="Event", Payload=body
            )
        except (ClientError, BotoCoreError) as exc:
            code, message = describe_client_error(exc)
            raise AwsError(f"AWS refused invoking {function_name!r}: {code}: {message}") from exc
        if response.get("StatusCode") != 202:
            raise AwsError(
                f"{function_name!r} did not accept the invocation "
                f"(status {response.get('StatusCode')})"
            )
