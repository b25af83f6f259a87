"""The one module that calls SNS: discovery of the subscriptions that dead-letter into a queue,
and publishing (only to an EventBridge target that is a topic: a redrive never publishes to the
topic of an SNS subscription, every other subscriber would get a duplicate).

boto3 finds a local server through ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_SNS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import aws_client
from bot.aws_errors import ANSWER_MAY_BE_LOST, answer_lost, aws_error, describe_client_error
from bot.feeder_discovery import FeederRead, in_scope, subscription_feeder
from bot.feeders import Feeder, resource_name

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

DISCOVERY_THREADS = 8
# A subscription deleted between ListSubscriptions and GetSubscriptionAttributes: "NotFound"
# ("Indicates that the requested resource does not exist", SNS API reference).
_GONE = frozenset({"NotFound", "ResourceNotFound"})
# ListSubscriptions names a subscription not yet confirmed "PendingConfirmation" (no ARN to read),
# one being deleted "Deleted".
_NOT_AN_ARN = frozenset({"PendingConfirmation", "Deleted"})


class SnsGateway:
    """SNS on boto3. ``client`` reads (retries), ``publish_client`` publishes (one attempt: a
    retried publish can deliver twice). Clients not given are made on first use. ``topics``:
    the globs of the topics whose subscriptions are read (``EngineSettings.sns_topics``)."""

    def __init__(
        self,
        client: SNSClient | None = None,
        *,
        publish_client: SNSClient | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        self._client = client
        self._publish_client = publish_client
        self.topics = tuple(topics)

    @property
    def client(self) -> SNSClient:
        if self._client is None:
            self._client = aws_client("sns", max_pool_connections=DISCOVERY_THREADS)
        return self._client

    @property
    def publish_client(self) -> SNSClient:
        if self._publish_client is None:
            self._publish_client = aws_client("sns", once=True, like=self._client)
        return self._publish_client

    # --- discovery --------------------------------------------------------------------------

    def subscription_feeders(self) -> FeederRead:
        """Every subscription with a RedrivePolicy into a queue, of the topics in scope
        (ListSubscriptions, then GetSubscriptionAttributes for each, in 8 threads). AwsError if
        the list cannot be read; a subscription that cannot be read is kept in ``failed``."""
        client = self.client
        arns: list[str] = []
        try:
            for page in client.get_paginator("list_subscriptions").paginate():
                arns.extend(
                    str(sub["SubscriptionArn"])
                    for sub in page.get("Subscriptions", [])
                    if sub.get("SubscriptionArn")
                    and sub["SubscriptionArn"] not in _NOT_AN_ARN
                    and in_scope(resource_name(sub.get("TopicArn", "")), self.topics)
                )
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("SNS", "listing subscriptions", exc) from exc
        with ThreadPoolExecutor(DISCOVERY_THREADS, thread_name_prefix="sns-discovery") as pool:
            read = list(pool.map(self._subscription, arns))
        feeders = tuple(f for f, _ in read if isinstance(f, Feeder))
        failed = tuple((arn, code) for arn, (_, code) in zip(arns, read, strict=True) if code)
        return FeederRead(feeders, examined=len(arns), noun="subscriptions", failed=failed)

    def _subscription(self, arn: str) -> tuple[Feeder | None, str | None]:
        """(its feeder or None, None) or (None, AWS's code) when it could not be read."""
        try:
            attributes = self.client.get_subscription_attributes(SubscriptionArn=arn)
        except (ClientError, BotoCoreError) as exc:
            code, _ = describe_client_error(exc)
            return None, None if code in _GONE else code
        found = {str(k): str(v) for k, v in attributes.get("Attributes", {}).items()}
        return subscription_feeder({"SubscriptionArn": arn, **found}), None

    # --- delivery ---------------------------------------------------------------------------

    def publish(
        self,
        topic_arn: str,
        message: str,
        attributes: Mapping[str, Any],
        group_id: str | None,
        dedup_id: str | None,
    ) -> str:
        """Publish one message; SNS's MessageId. AwsError (AWS's code) if SNS refused it,
        SendAnswerLostError if the answer was lost after the request went out."""
        request: dict[str, Any] = {
            "TopicArn": topic_arn,
            "Message": message,
            "MessageAttributes": dict(attributes),
        }
        if group_id is not None:
            request["MessageGroupId"] = group_id
        if dedup_id is not None:
            request["MessageDeduplicationId"] = dedup_id
        try:
            response = self.publish_client.publish(**request)
        except ANSWER_MAY_BE_LOST as exc:
            raise answer_lost("SNS", exc) from exc
        except (ClientError, BotoCoreError) as exc:
            raise aws_error("SNS", f"publishing to {topic_arn}", exc) from exc
        return str(response["MessageId"])
