"""Hand work to the worker Lambda through ``bot.lambda_gateway`` (asynchronous invocations).

The Slack endpoint keeps a short timeout and minimal permissions; everything slow (SQS, DynamoDB,
Slack messages after the ack) runs in the worker, which has a long timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from bot.config import SlackSettings
from bot.errors import AwsError, ConfigError
from bot.lambda_gateway import LambdaGateway

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class Dispatcher(Protocol):
    def dispatch(self, job: dict[str, Any]) -> None: ...


class LambdaDispatcher:
    """Queue a job for the worker function (asynchronous invocation, 202 from Lambda)."""

    def __init__(self, function_name: str, client: LambdaClient | None = None) -> None:
        self.function_name = function_name
        self.lambdas = LambdaGateway(client)

    def dispatch(self, job: dict[str, Any]) -> None:
        try:
            self.lambdas.invoke_async(self.function_name, job)
        except AwsError as exc:
            # The person sees this: name the step, keep AWS's own wording for the logs.
            reason = type(exc.__cause__).__name__ if exc.__cause__ is not None else str(exc)
            raise AwsError(
                f"could not start the worker function {self.function_name!r} ({reason})"
            ) from exc


def worker_function_name(settings: SlackSettings) -> str:
    """The worker Lambda's name, or a ConfigError naming the variable."""
    if not settings.worker_function:
        raise ConfigError("WORKER_FUNCTION_NAME is not set (the worker Lambda's function name)")
    return settings.worker_function
