"""DLQ_QUEUES entries given as names, queue URLs or ARNs (as infra/iam/arns.js grants them) are
each exactly that queue for the app too: `dlq-redrive list` and the catalog on moto's SQS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.errors import UsageError
from bot.queue_refs import parse_queue_ref
from bot.sqs_gateway import SqsGateway
from infra.local.scene import create_pair, put_in_dlq, queue_arn
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ACCOUNT = "123456789012"  # moto's default account


def test_list_takes_dlqs_listed_by_name_url_and_arn(sqs: SQSClient, engine_env: dict) -> None:
    # Given three DLQs, listed in DLQ_QUEUES by name, by URL and by ARN
    orders, payments = create_pair(sqs, "orders"), create_pair(sqs, "payments")
    create_pair(sqs, "refunds")
    put_in_dlq(sqs, payments, ["a", "b"])
    listed = f"refunds-dlq,{orders.dlq_url},{queue_arn(sqs, payments.dlq_url)}"

    # When `dlq-redrive list` runs
    result = run_cli(["--json", "list"], {**engine_env, "DLQ_QUEUES": listed})

    # Then each is that queue, with its counts and sources
    assert result.code == 0, result.err
    dlqs = {d["name"]: d for d in result.json["dlqs"]}
    assert list(dlqs) == ["refunds-dlq", "orders-dlq", "payments-dlq"]
    assert dlqs["payments-dlq"]["visible"] == 2
    assert dlqs["payments-dlq"]["sources"] == ["payments"]


def test_a_dlq_listed_by_arn_is_found_by_its_name(sqs: SQSClient, engine_env: dict) -> None:
    # Given a DLQ listed by ARN
    payments = create_pair(sqs, "payments")
    put_in_dlq(sqs, payments, ["a"])
    env = {**engine_env, "DLQ_QUEUES": queue_arn(sqs, payments.dlq_url)}

    # When a user names it, by name or by URL
    by_name = run_cli(["--json", "peek", "payments-dlq"], env)
    by_url = run_cli(["--json", "peek", payments.dlq_url], env)

    # Then it is that queue
    assert by_name.code == 0, by_name.err
    assert by_url.code == 0, by_url.err
    catalog = DlqCatalog(SqsGateway(), EngineSettings.from_env(env))
    assert catalog.get("payments-dlq").info.url == payments.dlq_url
    assert catalog.watched_names() == ["payments-dlq"]


def test_an_arn_is_looked_up_in_its_own_account(sqs: SQSClient, engine_env: dict) -> None:
    # Given a DLQ ARN of another account (one that lets this account in)
    create_pair(sqs, "payments")
    other = "arn:aws:sqs:us-east-1:210987654321:payments-dlq"
    recorder = CallRecorder()

    # When the catalog looks it up
    catalog = DlqCatalog(recorder.gateway, EngineSettings.from_env({"DLQ_QUEUES": other}))
    catalog.get("payments-dlq")

    # Then SQS is asked for that account's queue (GetQueueUrl's QueueOwnerAWSAccountId), not
    # this account's queue of the same name. moto ignores QueueOwnerAWSAccountId (its
    # get_queue_url reads QueueName only) and answers with its own queue: only the request
    # is checked here.
    assert (
        "GetQueueUrl",
        {"QueueName": "payments-dlq", "QueueOwnerAWSAccountId": "210987654321"},
    ) in recorder.calls
    assert parse_queue_ref(other).account == "210987654321"


@pytest.mark.parametrize(
    "elsewhere",
    [
        f"arn:aws:sqs:eu-west-1:{ACCOUNT}:payments-dlq",
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/payments-dlq",
    ],
)
def test_a_dlq_of_another_region_is_refused_saying_why(
    sqs: SQSClient, engine_env: dict, elsewhere: str
) -> None:
    # Given a DLQ listed by the ARN or URL of another region (a same-named one exists here)
    create_pair(sqs, "payments")

    # When `list` runs
    result = run_cli(["list"], {**engine_env, "DLQ_QUEUES": elsewhere})

    # Then it says the queue is in a region its SQS client cannot look into, in one line
    assert result.code == 2, result.out
    assert "'payments-dlq' is in region eu-west-1" in result.err
    assert "works in us-east-1" in result.err
    with pytest.raises(UsageError, match="deployed in eu-west-1"):
        SqsGateway().queue_url(elsewhere)


def test_queue_references_parse_as_arns_js_reads_them() -> None:
    assert parse_queue_ref("orders-dlq").name == "orders-dlq"
    arn = parse_queue_ref(f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-dlq.fifo")
    assert (arn.name, arn.region, arn.account, arn.is_arn) == (
        "orders-dlq.fifo",
        "eu-west-1",
        ACCOUNT,
        True,
    )
    old_style = parse_queue_ref(f"https://us-west-2.queue.amazonaws.com/{ACCOUNT}/orders-dlq/")
    assert (old_style.name, old_style.region, old_style.account) == (
        "orders-dlq",
        "us-west-2",
        ACCOUNT,
    )
    local = parse_queue_ref(f"http://127.0.0.1:5000/{ACCOUNT}/orders-dlq")
    assert (local.name, local.region, local.is_url) == ("orders-dlq", None, True)
    # Not an SQS ARN: kept whole, so no queue has that name
    assert parse_queue_ref("arn:aws:sns:us-east-1:123456789012:topic").name.startswith("arn:")
