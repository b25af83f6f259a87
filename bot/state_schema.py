"""The state table's shape, from the one definition shared with serverless.yml.

``bot/state_table.json`` is read here (for ``dlq-redrive create-state-table`` and the tests) and by
serverless.yml through ``${file(...)}``, so the deployed table and the local one cannot drift.
Single-table design: ``pk`` / ``sk`` strings, TTL on the numeric ``expires_at`` (epoch seconds).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"


def table_definition() -> dict[str, Any]:
    """The table's AttributeDefinitions, KeySchema, BillingMode and TimeToLiveAttribute."""
    text = resources.files("bot").joinpath("state_table.json").read_text(encoding="utf-8")
    definition: dict[str, Any] = json.loads(text)
    return definition


def create_state_table(client: Any, name: str) -> bool:
    """Create the state table ``name`` (with TTL) unless it exists; True if it was created.

    ``client`` is a boto3 DynamoDB client for whatever endpoint boto3 is configured for.
    """
    definition = table_definition()
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=definition["AttributeDefinitions"],
            KeySchema=definition["KeySchema"],
            BillingMode=definition["BillingMode"],
        )
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={
            "Enabled": True,
            "AttributeName": definition["TimeToLiveAttribute"],
        },
    )
    return True
