"""The one module that calls Lambda. ``AWS_ENDPOINT_URL_LAMBDA`` points boto3 at a local endpoint
in tests and the demo.

- ``LambdaGateway``: asynchronous invocations (``InvocationType="Event"``) of the app's own
  functions, used by the Slack endpoint to hand work to the worker and by the worker and the daily
  job to continue themselves; short timeouts (the Slack ack's 3 seconds).
- ``LambdaRedriveGateway``: the functions that dead-letter into a queue (discovery) and the
  asynchronous invocations that redrive a message back to its function; normal timeouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import aws_client
from bot.aws_errors import ANSWER_MAY_BE_LOST, answer_lost, aws_error, describe_client_error
from bot.errors import AwsError
from bot.lambda_api import event_payload

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    # The Slack endpoint imports this module to dispatch (LambdaGateway): the discovery's rules
    # are the worker's, loaded by the first discovery (tests/deploy/test_handler_imports.py).
    from bot.feeder_discovery import FeederRead
    from bot.feeders import Feeder


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


DISCOVERY_THREADS = 8
# A function deleted between ListFunctions and ListFunctionEventInvokeConfigs.
_GONE = frozenset({"ResourceNotFoundException"})


class LambdaRedriveGateway:
    """Lambda for redrives, on boto3. ``client`` reads (retries), ``invoke_client`` invokes (one
    attempt: a retried asynchronous invoke can run the function twice); both with normal
    timeouts, made on first use unless given (``invoke_client`` then like ``client``).
    ``functions``: the globs of the functions whose feeders are read
    (``EngineSettings.lambda_functions``)."""

    def __init__(
        self,
        client: LambdaClient | None = None,
        *,
        invoke_client: LambdaClient | None = None,
        functions: Sequence[str] = (),
    ) -> None:
        self._client = client
        self._invoke_client = invoke_client
        self.functions = tuple(functions)

    @property
    def client(self) -> LambdaClient:
        if self._client is None:
            self._client = aws_client("lambda", max_pool_connections=DISCOVERY_THREADS)
        return self._client

    @property
    def invoke_client(self) -> LambdaClient:
        if self._invoke_client is None:
            self._invoke_client = aws_client(
                "lambda", once=True, like=self._client, max_pool_connections=DISCOVERY_THREADS
            )
        return self._invoke_client

    # --- discovery --------------------------------------------------------------------------

    def function_feeders(self) -> FeederRead:
        """Every function in scope whose DeadLetterConfig is a queue (ListFunctions: its $LATEST
        configuration), and every on-failure destination that is a queue
        (ListFunctionEventInvokeConfigs per function, in 8 threads). AwsError if the functions
        cannot be listed; a function whose configs cannot be read is kept in ``failed``."""
        from bot.feeder_discovery import FeederRead, function_dlq_feeder, in_scope  # see imports

        client = self.client
        functions: list[dict[str, Any]] = []
        try:
            for page in client.get_paginator("list_functions").paginate():
                functions.extend(
                    dict(f)
                    for f in page.get("Functions", [])
                    if in_scope(str(f.get("FunctionName", "")), self.functions)
                )
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("Lambda", "listing functions", exc) from exc
        with ThreadPoolExecutor(DISCOVERY_THREADS, thread_name_prefix="lambda-discovery") as pool:
            read = list(pool.map(self._on_failure, functions))
        feeders: list[Feeder] = []
        for function, (found, _) in zip(functions, read, strict=True):
            dead_letter = function_dlq_feeder(function)
            feeders.extend([dead_letter, *found] if dead_letter is not None else found)
        failed = tuple(
            (str(function.get("FunctionName", "")), code)
            for function, (_, code) in zip(functions, read, strict=True)
            if code
        )
        return FeederRead(
            tuple(feeders),
            examined=len(functions),
            noun="functions' on-failure destinations",
            failed=failed,
        )

    def _on_failure(self, function: dict[str, Any]) -> tuple[list[Feeder], str | None]:
        """(the function's on-failure feeders, None) or ([], AWS's code) if not read."""
        configs: list[dict[str, Any]] = []
        try:
            for page in self.client.get_paginator("list_function_event_invoke_configs").paginate(
                FunctionName=str(function.get("FunctionArn") or function.get("FunctionName"))
            ):
                configs.extend(dict(c) for c in page.get("FunctionEventInvokeConfigs", []))
        except (ClientError, BotoCoreError) as exc:
            code, _ = describe_client_error(exc)
            return [], None if code in _GONE else code
        from bot.feeder_discovery import on_failure_feeders  # see the imports

        return on_failure_feeders(function, configs), None

    # --- delivery ---------------------------------------------------------------------------

    def check_invoke(self, function_arn: str) -> None:
        """Invoke with InvocationType DryRun (``bot.delivery_api.TargetApi.check_invoke``): 204
        if the function exists and may be invoked; AwsError with AWS's code otherwise."""
        try:
            self.invoke_client.invoke(FunctionName=function_arn, InvocationType="DryRun")
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("Lambda", f"checking {function_arn}", exc) from exc

    def invoke_event(self, function_arn: str, payload: bytes) -> None:
        """Queue one asynchronous invocation; returns once Lambda accepted it (202). AwsError
        (AWS's code) if refused, SendAnswerLostError if the answer was lost after the request
        went out (Lambda may have queued it)."""
        try:
            response = self.invoke_client.invoke(
                FunctionName=function_arn, InvocationType="Event", Payload=payload
            )
        except ANSWER_MAY_BE_LOST as exc:
            raise answer_lost("Lambda", exc) from exc
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("Lambda", f"invoking {function_arn}", exc) from exc
        status = response.get("StatusCode")
        if status != 202:
            # "For the Event invocation type, this status code is 202" (Invoke, API reference):
            # any other answer did not queue the event.
            raise AwsError(
                f"Lambda did not accept the invocation of {function_arn} (status {status})",
                code=f"Status{status}",
            )
