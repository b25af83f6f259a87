"""``dlq-redrive create-state-table`` on moto's DynamoDB: it creates the table from the one
definition, once, and says what it did."""

from __future__ import annotations

import io
import json

import boto3

from bot.cli import EXIT_OK, EXIT_USAGE, main
from bot.state_schema import table_definition
from infra.local.moto_server import LocalAws


def test_create_state_table_creates_the_table_once(aws: LocalAws) -> None:
    # Given no table
    # When the command runs twice, naming the table through STATE_TABLE
    outs = [io.StringIO(), io.StringIO()]
    env = {**aws.env, "STATE_TABLE": "dlq-redrive-state"}
    codes = [main(["create-state-table", "--json"], env=env, out=out) for out in outs]
    # Then the first created it with the shared key schema and TTL, the second found it there
    assert codes == [EXIT_OK, EXIT_OK]
    assert [json.loads(out.getvalue())["created"] for out in outs] == [True, False]
    client = boto3.client("dynamodb")
    table = client.describe_table(TableName="dlq-redrive-state")["Table"]
    assert table["KeySchema"] == table_definition()["KeySchema"]
    ttl = client.describe_time_to_live(TableName="dlq-redrive-state")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table_definition()["TimeToLiveAttribute"]


def test_create_state_table_without_a_name_is_a_usage_error(aws: LocalAws) -> None:
    err = io.StringIO()
    assert main(["create-state-table"], env=dict(aws.env), err=err) == EXIT_USAGE
    assert "name the table with --table or set STATE_TABLE" in err.getvalue()
