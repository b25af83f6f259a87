"""The one place the daily job calls Lambda: invoke itself asynchronously to continue a redrive."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.errors import AwsError
from bot.sqs_gateway import describe_client_error

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaInvoker:
    """Asynchronous (``InvocationType="Event"``) invocations of a function by name."""

    def __init__(self, client: LambdaClient | None = None) -> None:
        self.client: LambdaClient = client if client is not None else boto3.client("lambda")

    def invoke_async(self, function_name: str, payload: dict[str, Any]) -> None:
        """Queue an invocation of ``function_name`` with ``payload``; AwsError if refused."""
        try:
            self.client.invoke(
                FunctionName=function_name,
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            )
        except (ClientError, BotoCoreError) as exc:
            code, message = describe_client_error(exc)
            raise AwsError(f"AWS refused invoking {function_name!r}: {code}: {message}") from exc
