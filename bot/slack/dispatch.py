"""Hand work to the worker Lambda through ``bot.lambda_gateway`` (asynchronous invocations).

The Slack endpoint keeps a short timeout and minimal permissions; everything slow (SQS, DynamoDB,
Slack messages after the ack) runs in the worker, which has a long timeout.

Every job is sealed (``bot.slack.protocol.JobSigner``) before it leaves: the worker runs nothing
it cannot verify, so whoever else may invoke it cannot make up a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.config import SlackSettings
from bot.errors import AwsError, ConfigError
from bot.lambda_gateway import LambdaGateway
from bot.slack.protocol import Job, JobSigner

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class Dispatcher(Protocol):
    """Hands a sealed event to the worker (an asynchronous invoke)."""

    def dispatch(self, job: dict[str, Any]) -> None: ...


class JobDispatcher(Protocol):
    """Hands a typed job to the worker; sealing it is the dispatcher's business."""

    def dispatch(self, job: Job) -> None: ...


class SealingDispatcher:
    """Seals each job with ``signer`` at the time it leaves, then hands it to ``transport``."""

    def __init__(
        self,
        signer: JobSigner,
        transport: Dispatcher,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.signer = signer
        self.transport = transport
        self.clock = clock

    def dispatch(self, job: Job) -> None:
        self.transport.dispatch(self.signer.seal(job, self.clock()))


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
