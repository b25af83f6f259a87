"""``TargetApi`` on AWS: an asynchronous invoke through ``bot.lambda_gateway`` and a publish
through ``bot.sns_gateway``. No boto3 here: each gateway makes its own client on first use, so a
run that delivers only to queues never makes a Lambda or SNS client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.lambda_gateway import LambdaRedriveGateway
    from bot.sns_gateway import SnsGateway


class DeliveryGateway:
    """Deliveries to a function or a topic (``bot.delivery_api.TargetApi``)."""

    def __init__(self, lambda_: LambdaRedriveGateway, sns: SnsGateway) -> None:
        self.lambda_ = lambda_
        self.sns = sns

    def invoke_event(self, function_arn: str, payload: bytes) -> None:
        self.lambda_.invoke_event(function_arn, payload)

    def check_invoke(self, function_arn: str) -> None:
        self.lambda_.check_invoke(function_arn)

    def publish(
        self,
        topic_arn: str,
        message: str,
        attributes: Mapping[str, Any],
        group_id: str | None,
        dedup_id: str | None,
    ) -> str:
        return self.sns.publish(topic_arn, message, attributes, group_id, dedup_id)
