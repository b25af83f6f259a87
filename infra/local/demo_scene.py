"""The demo scene: ``orders`` and ``payments.fifo``, each with its DLQ and failed messages from
yesterday and today carrying attributes. Built by ``make demo`` and by the tests of its steps."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.local.scene import create_pair, put_in_dlq

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def order_event(day: datetime, n: int, error: str) -> tuple[str, dict[str, Any]]:
    occurred = day.replace(hour=8 + n % 12, minute=(7 * n) % 60, second=0, microsecond=0)
    body = {
        "type": "OrderPlaced",
        "orderId": f"ord-{uuid.uuid5(uuid.NAMESPACE_OID, str(n)).hex[:8]}",
        "occurredAt": occurred.isoformat(),
        "amount": {"value": 19.9 + n, "currency": "EUR"},
    }
    attributes = {
        "error": {"DataType": "String", "StringValue": error},
        "tenant": {"DataType": "String", "StringValue": ("acme", "globex")[n % 2]},
        "attempt": {"DataType": "Number", "StringValue": "5"},
    }
    return json.dumps(body), attributes


def build_scene(sqs: SQSClient, now: datetime) -> None:
    today = now
    yesterday = now - timedelta(days=1)
    orders = create_pair(sqs, "orders", max_receive_count=1)
    groups = [
        (yesterday, 6, "PaymentGatewayTimeout"),
        (yesterday, 3, "InventoryServiceDown"),
        (today, 4, "PaymentGatewayTimeout"),
    ]
    n = 0
    for day, how_many, error in groups:
        for _ in range(how_many):
            body, attributes = order_event(day, n, error)
            put_in_dlq(sqs, orders, [body], attributes=attributes)
            n += 1
    parse_error = {"error": {"DataType": "String", "StringValue": "ParseError"}}
    put_in_dlq(sqs, orders, ["<order id='broken'/> not JSON"], attributes=parse_error)

    payments = create_pair(sqs, "payments.fifo", max_receive_count=3)
    for customer, days in (
        ("customer-17", (yesterday, yesterday, today)),
        ("customer-42", (yesterday,)),
    ):
        bodies = [
            json.dumps(
                {
                    "type": "ChargeRequested",
                    "customer": customer,
                    "step": step,
                    "occurredAt": day.replace(
                        hour=9 + step, minute=0, second=0, microsecond=0
                    ).isoformat(),
                }
            )
            for step, day in enumerate(days)
        ]
        put_in_dlq(
            sqs,
            payments,
            bodies,
            group_id=customer,
            attributes={"error": {"DataType": "String", "StringValue": "CardNetworkUnavailable"}},
        )
