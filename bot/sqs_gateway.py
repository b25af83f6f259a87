"""The one module that calls SQS for messages and queues (move tasks: ``bot.sqs_move_tasks``).

Everything above it receives an ``SqsApi`` / ``QueueDirectory`` (``bot.sqs_model``: the Protocols
and the plain data, ``ReceivedMessage``, ``QueueInfo``, ``SendFailure``, with no boto3), this
class or the in-memory ``tests/unit/fake_sqs.py``. boto3 finds a local server through the standard
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_SQS`` variables; there is no special code path.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import aws_client
from bot.aws_errors import ANSWER_MAY_BE_LOST, answer_lost, aws_error, describe_client_error
from bot.errors import AwsError, QueueNotFoundError
from bot.queue_refs import located, parse_queue_ref
from bot.sqs_model import (
    MISSING_QUEUE_CODES,
    QueueInfo,
    ReceivedMessage,
    SendFailure,
    queue_info_from_attributes,
    received_message,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def is_missing_queue(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code", "") in MISSING_QUEUE_CODES


def default_sqs_client(max_pool_connections: int = 32) -> SQSClient:
    """A client sized for the engine's worker threads, with adaptive retries on throttling.

    For every call but sends: see ``send_sqs_client``.
    """
    client: SQSClient = aws_client("sqs", max_pool_connections=max_pool_connections)
    return client


def send_sqs_client(max_pool_connections: int = 32, *, like: SQSClient | None = None) -> SQSClient:
    """The client for SendMessageBatch: one attempt per call, no transport retries
    (``bot.aws_clients``: a retried send can store its batch again). The engine retries only
    what SQS answered it did not store, and reports a send without an answer as unconfirmed.

    ``like``: a client injected for the other calls; this one then talks to the same endpoint
    in the same region.
    """
    client: SQSClient = aws_client(
        "sqs", once=True, like=like, max_pool_connections=max_pool_connections
    )
    return client


class SqsGateway:
    """Thin, typed wrapper around the boto3 SQS clients.

    ``client`` makes every call but sends, ``send_client`` the sends. By default both are built
    from the default session (``default_sqs_client``, ``send_sqs_client``); a caller passing only
    ``client`` chooses every call's retries itself (tests, benchmarks counting calls).
    """

    def __init__(
        self, client: SQSClient | None = None, *, send_client: SQSClient | None = None
    ) -> None:
        self.client: SQSClient = client if client is not None else default_sqs_client()
        if send_client is None:
            send_client = client if client is not None else send_sqs_client()
        self.send_client: SQSClient = send_client
        self._url_by_arn: dict[str, str] = {}
        self._url_lock = threading.Lock()  # the engine's workers all ask at once at the start

    # --- queues -------------------------------------------------------------------------------

    def queue_url(self, name_or_url: str) -> str:
        """The URL of a queue given by name, URL or ARN (an ARN: in its own account); a
        UsageError for another region's (``bot.queue_refs.located``), QueueNotFoundError if
        there is none."""
        ref = located(name_or_url, self.client.meta.region_name)
        if ref.is_arn:
            return self.url_for_arn(name_or_url)
        if ref.is_url:
            self.queue_info(name_or_url)  # raises when it does not exist
            return name_or_url
        return self._get_queue_url(ref.name, None, f"no queue named {ref.name!r}")

    def url_for_arn(self, arn: str) -> str:
        """The URL of the queue with this ARN (cached, looked up once however many threads ask
        at the same time); QueueNotFoundError if it is gone."""
        known = self._url_by_arn.get(arn)  # every message asks: no lock once it is known
        if known is not None:
            return known
        with self._url_lock:
            if arn not in self._url_by_arn:
                ref = parse_queue_ref(arn)
                if not ref.is_arn:
                    raise QueueNotFoundError(f"{arn!r} is not an SQS queue ARN")
                missing = f"queue {ref.name!r} no longer exists"
                self._url_by_arn[arn] = self._get_queue_url(ref.name, ref.account, missing)
            return self._url_by_arn[arn]

    def _get_queue_url(self, name: str, account: str | None, missing: str) -> str:
        """GetQueueUrl, in ``account`` (QueueOwnerAWSAccountId: a queue of another account
        that lets this one in) or this one; QueueNotFoundError(``missing``) if there is none."""
        owner = {} if account is None else {"QueueOwnerAWSAccountId": account}
        try:
            return self.client.get_queue_url(QueueName=name, **owner)["QueueUrl"]
        except ClientError as exc:
            if is_missing_queue(exc):
                raise QueueNotFoundError(missing) from exc
            raise sqs_error(f"looking up queue {name!r}", exc) from exc
        except BotoCoreError as exc:
            raise sqs_error(f"looking up queue {name!r}", exc) from exc

    def list_queue_urls(self) -> list[str]:
        urls: list[str] = []
        try:
            for page in self.client.get_paginator("list_queues").paginate(
                PaginationConfig={"PageSize": 1000}
            ):
                urls.extend(page.get("QueueUrls", []))
        except (ClientError, BotoCoreError) as exc:
            raise sqs_error("listing queues", exc) from exc
        return urls

    def queue_info(self, url: str) -> QueueInfo:
        try:
            attrs = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
                "Attributes"
            ]
        except ClientError as exc:
            if is_missing_queue(exc):
                raise QueueNotFoundError(
                    f"queue {url.rsplit('/', 1)[-1]!r} does not exist"
                ) from exc
            raise sqs_error(f"reading queue {url}", exc) from exc
        except BotoCoreError as exc:
            raise sqs_error(f"reading queue {url}", exc) from exc
        return queue_info_from_attributes(url, {str(k): v for k, v in attrs.items()})

    def dead_letter_sources(self, url: str) -> list[str]:
        """URLs of the queues whose RedrivePolicy targets this queue."""
        urls: list[str] = []
        try:
            for page in self.client.get_paginator("list_dead_letter_source_queues").paginate(
                QueueUrl=url
            ):
                urls.extend(page.get("queueUrls", []))
        except ClientError as exc:
            if is_missing_queue(exc):
                raise QueueNotFoundError(
                    f"queue {url.rsplit('/', 1)[-1]!r} does not exist"
                ) from exc
            raise sqs_error(f"listing the sources of {url}", exc) from exc
        except BotoCoreError as exc:
            raise sqs_error(f"listing the sources of {url}", exc) from exc
        return urls

    # --- messages -----------------------------------------------------------------------------

    def receive(
        self, url: str, *, max_messages: int = 10, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[ReceivedMessage]:
        try:
            response = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max_messages,
                VisibilityTimeout=visibility_timeout,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except ClientError as exc:
            if is_missing_queue(exc):
                raise QueueNotFoundError(
                    f"queue {url.rsplit('/', 1)[-1]!r} does not exist"
                ) from exc
            raise sqs_error(f"receiving from {url}", exc) from exc
        except BotoCoreError as exc:
            raise sqs_error(f"receiving from {url}", exc) from exc
        return [received_message(dict(raw)) for raw in response.get("Messages", [])]

    def send_batch(
        self, url: str, entries: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[SendFailure]]:
        """Send up to 10 entries; return the ids SQS confirmed and the failures.

        A call SQS refused as a whole, or that never reached it, stored nothing: every entry is
        reported failed. A call that got no answer after its request may have reached SQS
        raises SendAnswerLostError: its entries may or may not have been stored.
        """
        try:
            response = self.send_client.send_message_batch(QueueUrl=url, Entries=list(entries))  # type: ignore[arg-type]
        except ANSWER_MAY_BE_LOST as exc:
            raise answer_lost("SQS", exc) from exc
        except (ClientError, BotoCoreError) as exc:
            code, message = describe_client_error(exc)
            return [], [SendFailure(str(e["Id"]), code, message, False) for e in entries]
        ok = [item["Id"] for item in response.get("Successful", [])]
        failed = [
            SendFailure(
                item["Id"], item.get("Code", ""), item.get("Message", ""), item["SenderFault"]
            )
            for item in response.get("Failed", [])
        ]
        return ok, failed

    def delete_batch(self, url: str, receipt_handles: Sequence[str]) -> list[SendFailure]:
        return self._handle_batch(url, receipt_handles, None)

    def change_visibility_batch(
        self, url: str, receipt_handles: Sequence[str], timeout: int
    ) -> list[SendFailure]:
        return self._handle_batch(url, receipt_handles, timeout)

    def _handle_batch(
        self, url: str, receipt_handles: Sequence[str], timeout: int | None
    ) -> list[SendFailure]:
        failures: list[SendFailure] = []
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start : start + 10]
            try:
                if timeout is None:
                    response: Any = self.client.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
                    )
                else:
                    response = self.client.change_message_visibility_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": timeout}
                            for i, h in enumerate(chunk)
                        ],
                    )
            except (ClientError, BotoCoreError) as exc:
                code, message = describe_client_error(exc)
                failures.extend(
                    SendFailure(str(i), code, message, False) for i in range(len(chunk))
                )
                continue
            failures.extend(
                SendFailure(
                    str(int(item["Id"]) + start),
                    item.get("Code", ""),
                    item.get("Message", ""),
                    item["SenderFault"],
                )
                for item in response.get("Failed", [])
            )
        return failures


def sqs_error(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    """An SQS call's failure, phrased for the user: unreachable, or refused with AWS's code."""
    return aws_error("SQS", doing, exc)
