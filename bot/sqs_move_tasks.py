"""SQS's native message move tasks (StartMessageMoveTask and friends), behind ``dlq-redrive
redrive --native``, ``status`` and ``cancel``: the whole DLQ back to its source (or one queue), no
filtering, at most one task per DLQ. Only the CLI uses them; the Lambda roles have no right to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.sqs_gateway import default_sqs_client, sqs_error

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class MoveTasks:
    """Start, list and cancel message move tasks."""

    def __init__(self, client: SQSClient | None = None) -> None:
        self.client: SQSClient = client if client is not None else default_sqs_client()

    def start(self, source_arn: str, destination_arn: str | None, rate: int | None) -> str:
        """Start moving every message of DLQ ``source_arn`` (to ``destination_arn``, or back to
        its source), at most ``rate`` per second; the task's handle."""
        kwargs: dict[str, Any] = {"SourceArn": source_arn}
        if destination_arn:
            kwargs["DestinationArn"] = destination_arn
        if rate:
            kwargs["MaxNumberOfMessagesPerSecond"] = rate
        try:
            return str(self.client.start_message_move_task(**kwargs)["TaskHandle"])
        except (ClientError, BotoCoreError) as exc:
            raise sqs_error("starting the message move task", exc) from exc

    def list(self, source_arn: str) -> list[dict[str, Any]]:
        """The most recent tasks of DLQ ``source_arn`` (at most 10, as SQS keeps them)."""
        try:
            results = self.client.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)
        except (ClientError, BotoCoreError) as exc:
            raise sqs_error("listing message move tasks", exc) from exc
        return [dict(item) for item in results.get("Results", [])]

    def cancel(self, task_handle: str) -> int:
        """Cancel a running task; about how many messages it had moved."""
        try:
            response = self.client.cancel_message_move_task(TaskHandle=task_handle)
        except (ClientError, BotoCoreError) as exc:
            raise sqs_error("cancelling the message move task", exc) from exc
        return int(response.get("ApproximateNumberOfMessagesMoved", 0))
