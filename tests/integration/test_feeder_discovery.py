"""Discovery of what dead-letters into a queue besides SQS queues, through the real gateways:
SNS subscriptions and EventBridge rule targets on moto's server (it stores and returns a
subscription's RedrivePolicy and a target's DeadLetterConfig), Lambda on-failure destinations on
moto, and Lambda DeadLetterConfigs on the local Lambda server (moto does not return a function's
DeadLetterConfig: docs/dlq-kinds.md). AWS refusing a kind or an item is told, never a silent
"none found"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.events_gateway import EventsGateway
from bot.feeder_directory import FeederDirectoryGateway
from bot.feeders import Feeder, Kind
from bot.lambda_gateway import LambdaRedriveGateway
from bot.sns_gateway import SnsGateway
from bot.sqs_gateway import SqsGateway
from infra.local.kinds_scene import moto_function
from infra.local.lambda_server import LambdaServer
from infra.local.moto_server import LocalAws
from tests.faults.fault_proxy import Fault, FaultProxy, ProxyRequest

ACCOUNT = "123456789012"
REGION = "us-east-1"


def queue(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def redrive_policy(dlq_arn: str) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn})


@pytest.fixture
def lambda_server() -> Iterator[LambdaServer]:
    with LambdaServer() as server:
        yield server


def nothing(event: Any, context: Any) -> None:
    return None


# --- SNS ----------------------------------------------------------------------------------------


def test_only_the_subscription_with_a_redrive_policy_feeds_a_dlq(aws: LocalAws, sqs: Any) -> None:
    # Given a topic with two SQS subscribers, only one with a RedrivePolicy (raw delivery), and a
    # Lambda subscriber with its own DLQ
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    billing, shipping = queue(sqs, "billing"), queue(sqs, "shipping")
    billing_dlq, fn_dlq = queue(sqs, "billing-dlq"), queue(sqs, "notify-dlq")
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify"
    with_dlq = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=billing,
        Attributes={"RedrivePolicy": redrive_policy(billing_dlq), "RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=shipping, ReturnSubscriptionArn=True)
    to_function = sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=function,
        Attributes={"RedrivePolicy": redrive_policy(fn_dlq)},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    # When SNS is read
    read = SnsGateway().subscription_feeders()
    # Then the two subscriptions with a DLQ are its feeders, each back to its own endpoint
    assert set(read.feeders) == {
        Feeder(Kind.SNS, billing_dlq, with_dlq, billing, "sqs", topic_arn=topic, raw=True),
        Feeder(Kind.SNS, fn_dlq, to_function, function, "lambda", topic_arn=topic),
    }
    assert (read.examined, read.failed) == (3, ())


def test_subscriptions_past_the_first_page_are_read(aws: LocalAws, sqs: Any) -> None:
    # Given 100 subscriptions without a DLQ (a full page of ListSubscriptions), then one with
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="busy")["TopicArn"]
    for n in range(100):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue(sqs, f"q{n}"))
    dlq = queue(sqs, "last-dlq")
    last = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue(sqs, "last"),
        Attributes={"RedrivePolicy": redrive_policy(dlq)},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    # When SNS is read, Then the one on the second page is found
    read = SnsGateway().subscription_feeders()
    assert [f.name for f in read.feeders] == [last] and read.examined == 101


def _two_subscriptions_with_dlqs(sqs: Any) -> tuple[Any, str, str]:
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    arns = [
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue(sqs, name),
            Attributes={"RedrivePolicy": redrive_policy(queue(sqs, f"{name}-dlq"))},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        for name in ("billing", "shipping")
    ]
    return sns, arns[0], arns[1]


def test_a_subscription_deleted_between_listing_and_reading_is_skipped(
    aws: LocalAws, sqs: Any
) -> None:
    # Given two subscriptions with DLQs, one of which is deleted just as its attributes are read
    sns, kept, deleted = _two_subscriptions_with_dlqs(sqs)

    def delete_first(request: ProxyRequest) -> None:
        if request.params.get("SubscriptionArn") == deleted:
            sns.unsubscribe(SubscriptionArn=deleted)  # gone before SNS reads it
        return None

    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, inspect=delete_first) as proxy:
        read = SnsGateway(boto3.client("sns", endpoint_url=proxy.endpoint)).subscription_feeders()
    # Then the one left is found, and the deleted one is neither a feeder nor "not read"
    assert proxy.calls("GetSubscriptionAttributes") == 2
    assert [f.name for f in read.feeders] == [kept]
    assert read.failed == ()


def test_a_subscription_sns_will_not_let_us_read_is_told(aws: LocalAws, sqs: Any) -> None:
    # Given rights to read one subscription's attributes and not the other's
    _, allowed, denied = _two_subscriptions_with_dlqs(sqs)

    def deny_one(request: ProxyRequest) -> Fault | None:
        return Fault.DENY if request.params.get("SubscriptionArn") == denied else None

    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, inspect=deny_one) as proxy:
        gateway = SnsGateway(boto3.client("sns", endpoint_url=proxy.endpoint))
        directory = FeederDirectoryGateway(gateway, None, None, frozenset({Kind.SNS}))
        scan = directory.feeders()
    # Then the readable one is found and the other is named as not read, with AWS's code
    assert [f.name for f in scan.feeders] == [allowed]
    assert scan.unread == (
        (
            Kind.SNS,
            f"AuthorizationError: 1 of 2 subscriptions not read (e.g. {denied}); "
            "a DLQ they feed is not known from them",
        ),
    )


# --- EventBridge ------------------------------------------------------------------------------


def test_only_the_rule_target_with_a_dead_letter_config_feeds_a_dlq(
    aws: LocalAws, sqs: Any
) -> None:
    # Given a rule on a custom bus with two targets, only one with a DeadLetterConfig, and a rule
    # on the default bus whose target gets a transformed event
    events = boto3.client("events")
    events.create_event_bus(Name="orders-bus")
    rule = events.put_rule(
        Name="placed", EventBusName="orders-bus", EventPattern=json.dumps({"source": ["shop"]})
    )["RuleArn"]
    ship, audit, dlq = queue(sqs, "ship"), queue(sqs, "audit"), queue(sqs, "ship-dlq")
    events.put_targets(
        Rule="placed",
        EventBusName="orders-bus",
        Targets=[
            {"Id": "ship", "Arn": ship, "DeadLetterConfig": {"Arn": dlq}},
            {"Id": "audit", "Arn": audit},
        ],
    )
    transformed_rule = events.put_rule(
        Name="digest", EventPattern=json.dumps({"source": ["shop"]})
    )["RuleArn"]
    digest_dlq = queue(sqs, "digest-dlq")
    events.put_targets(
        Rule="digest",
        Targets=[
            {
                "Id": "digest",
                "Arn": audit,
                "DeadLetterConfig": {"Arn": digest_dlq},
                "InputTransformer": {"InputPathsMap": {"id": "$.id"}, "InputTemplate": '"<id>"'},
            }
        ],
    )
    # When EventBridge is read
    read = EventsGateway().target_feeders()
    # Then the custom bus's target with a DLQ is found, named bus/rule/target
    by_name = {f.name: f for f in read.feeders}
    assert set(by_name) == {"orders-bus/placed/ship", "default/digest/digest"}
    assert by_name["orders-bus/placed/ship"] == Feeder(
        Kind.EVENTS, dlq, "orders-bus/placed/ship", ship, "sqs", rule_arn=rule, target_id="ship"
    )
    # And the transformed one is found but refused: a copy may not be what the target receives
    digest = by_name["default/digest/digest"]
    assert digest.rule_arn == transformed_rule and digest.dlq_arn == digest_dlq
    assert digest.refusal is not None and "InputTransformer" in digest.refusal
    assert read.failed == ()


def test_rules_past_the_first_page_are_read(aws: LocalAws, sqs: Any) -> None:
    # Given 50 rules (a full page of ListRules) and then one whose target has a DLQ
    events = boto3.client("events")
    pattern = json.dumps({"source": ["shop"]})
    for n in range(50):
        events.put_rule(Name=f"rule-{n:02d}", EventPattern=pattern)
    events.put_rule(Name="rule-zz", EventPattern=pattern)
    events.put_targets(
        Rule="rule-zz",
        Targets=[
            {"Id": "t", "Arn": queue(sqs, "t"), "DeadLetterConfig": {"Arn": queue(sqs, "t-dlq")}}
        ],
    )
    # When EventBridge is read, Then the last rule's target is found
    read = EventsGateway().target_feeders()
    assert [f.name for f in read.feeders] == ["default/rule-zz/t"] and read.examined == 51


# --- Lambda -------------------------------------------------------------------------------------


def test_an_on_failure_destination_that_is_a_queue_feeds_it(aws: LocalAws, sqs: Any) -> None:
    # Given (on moto) a function whose on-failure destination is a queue, and one whose is a topic
    lam = boto3.client("lambda")
    ship = moto_function("ship")
    moto_function("notify")
    dest = queue(sqs, "ship-failures")
    topic = boto3.client("sns").create_topic(Name="failures")["TopicArn"]
    lam.put_function_event_invoke_config(
        FunctionName="ship", DestinationConfig={"OnFailure": {"Destination": dest}}
    )
    lam.put_function_event_invoke_config(
        FunctionName="notify", DestinationConfig={"OnFailure": {"Destination": topic}}
    )
    # When Lambda is read
    read = LambdaRedriveGateway().function_feeders()
    # Then the queue is fed by "ship" (on failure, of its own config: $LATEST's, as moto and
    # AWS name a config put without a qualifier), and the topic is no DLQ of ours
    assert read.feeders == (
        Feeder(Kind.LAMBDA, dest, "ship", ship, "lambda", on_failure=True, qualifiers=("$LATEST",)),
    )
    assert (read.examined, read.failed) == (2, ())


def test_a_function_dead_letter_config_is_found_past_the_first_page(
    lambda_server: LambdaServer, aws: LocalAws
) -> None:
    # Given (on the local Lambda server) 50 functions without a DLQ, then one with an async DLQ,
    # and one whose DLQ is a topic
    for n in range(50):
        lambda_server.register(f"fn-{n:02d}", nothing)
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ship-dlq"
    lambda_server.register("zz-ship", nothing, dead_letter_arn=dlq)
    lambda_server.register("zz-topic", nothing, dead_letter_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:t")
    client = boto3.client("lambda", endpoint_url=lambda_server.endpoint_url)
    # When Lambda is read (ListFunctions answers 50 per page)
    read = LambdaRedriveGateway(client).function_feeders()
    # Then the function on the second page with a queue for DLQ feeds it
    assert read.feeders == (
        Feeder(
            Kind.LAMBDA,
            dlq,
            "zz-ship",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:zz-ship",
            "lambda",
        ),
    )
    assert read.examined == 52


# --- every kind at once, and what AWS refuses ---------------------------------------------------


def test_a_kind_aws_refuses_is_unread_and_the_others_are_found(
    aws: LocalAws, sqs: Any, lambda_server: LambdaServer
) -> None:
    # Given rights to Lambda only: SNS answers AuthorizationError, EventBridge AccessDenied
    dlq = queue(sqs, "ship-dlq")
    lambda_server.register("ship", nothing, dead_letter_arn=dlq)

    with FaultProxy(aws.endpoint, lambda action, n: Fault.DENY) as proxy:
        directory = FeederDirectoryGateway(
            SnsGateway(boto3.client("sns", endpoint_url=proxy.endpoint)),
            EventsGateway(boto3.client("events", endpoint_url=proxy.endpoint)),
            LambdaRedriveGateway(boto3.client("lambda", endpoint_url=lambda_server.endpoint_url)),
            frozenset(Kind),
        )
        scan = directory.feeders()
    # Then Lambda's feeder is found, and SNS and EventBridge are said unread with AWS's codes
    assert [(f.kind, f.name) for f in scan.feeders] == [(Kind.LAMBDA, "ship")]
    assert [(kind, reason.split(":", 1)[0]) for kind, reason in scan.unread] == [
        (Kind.SNS, "AuthorizationError"),
        (Kind.EVENTS, "AccessDeniedException"),
    ]
    assert "not authorized" in scan.unread[0][1]


def test_the_catalog_lists_each_kind_next_to_plain_sqs_dlqs(
    aws: LocalAws, sqs: Any, lambda_server: LambdaServer
) -> None:
    # Given an SQS queue with a RedrivePolicy, an SNS subscription, an EventBridge target and a
    # Lambda function, each dead-lettering into a DLQ of its own
    sqs_dlq = queue(sqs, "orders-dlq")
    sqs.create_queue(
        QueueName="orders",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": sqs_dlq, "maxReceiveCount": "3"})
        },
    )
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="placed")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue(sqs, "billing"),
        Attributes={"RedrivePolicy": redrive_policy(queue(sqs, "billing-dlq"))},
    )
    events = boto3.client("events")
    events.put_rule(Name="placed", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(
        Rule="placed",
        Targets=[
            {
                "Id": "ship",
                "Arn": queue(sqs, "ship"),
                "DeadLetterConfig": {"Arn": queue(sqs, "ship-dlq")},
            }
        ],
    )
    lambda_server.register("notify", nothing, dead_letter_arn=queue(sqs, "notify-dlq"))
    directory = FeederDirectoryGateway(
        SnsGateway(),
        EventsGateway(),
        LambdaRedriveGateway(boto3.client("lambda", endpoint_url=lambda_server.endpoint_url)),
        frozenset(Kind),
    )
    # When every DLQ is discovered
    catalog = DlqCatalog(SqsGateway(), EngineSettings.from_env({}), directory)
    kinds = {dlq.name: dlq.kind_label() for dlq in catalog.watched()}
    # Then each is listed with its kind
    assert kinds == {
        "orders-dlq": "sqs",
        "billing-dlq": "sns",
        "ship-dlq": "events",
        "notify-dlq": "lambda",
    }
    assert catalog.unread == ()


# --- scope: a role's rights cover some topics, rules and functions ----------------------------


def test_subscriptions_of_topics_out_of_scope_are_not_read_nor_told_unread(
    aws: LocalAws, sqs: Any
) -> None:
    # Given subscriptions with DLQs on two topics, and a role that may read only the first's
    # (the other's GetSubscriptionAttributes is denied, as IAM would)
    sns = boto3.client("sns")
    arns = {}
    for topic_name in ("orders-eu", "payroll"):
        topic = sns.create_topic(Name=topic_name)["TopicArn"]
        arns[topic_name] = sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue(sqs, f"{topic_name}-q"),
            Attributes={"RedrivePolicy": redrive_policy(queue(sqs, f"{topic_name}-dlq"))},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def as_iam(request: ProxyRequest) -> Fault | None:
        arn = request.params.get("SubscriptionArn", "")
        return Fault.DENY if ":payroll:" in arn else None

    with FaultProxy(aws.endpoint, lambda action, n: Fault.PASS, inspect=as_iam) as proxy:
        client = boto3.client("sns", endpoint_url=proxy.endpoint)
        # When SNS is read with DLQ_SNS_TOPICS=orders* (what the role may read)
        scoped = FeederDirectoryGateway(
            SnsGateway(client, topics=("orders*",)), None, None, frozenset({Kind.SNS})
        ).feeders()
        # Then the topic in scope is found and the other is not asked for, so not "unread"
        assert proxy.calls("GetSubscriptionAttributes") == 1
        # (without the scope, the same role leaves the other subscription unread)
        unscoped = FeederDirectoryGateway(
            SnsGateway(client), None, None, frozenset({Kind.SNS})
        ).feeders()
    assert [f.name for f in scoped.feeders] == [arns["orders-eu"]] and scoped.unread == ()
    assert [f.name for f in unscoped.feeders] == [arns["orders-eu"]]
    assert unscoped.unread[0][1].startswith("AuthorizationError: 1 of 2 subscriptions")


def test_only_the_buses_rules_and_functions_in_scope_are_read(
    aws: LocalAws, sqs: Any, lambda_server: LambdaServer
) -> None:
    # Given rule targets with DLQs on two buses and two rules, and two functions with DLQs
    events = boto3.client("events")
    events.create_event_bus(Name="orders-bus")
    pattern = json.dumps({"source": ["shop"]})
    for bus in ("default", "orders-bus"):
        for rule in ("placed", "audit"):
            events.put_rule(Name=rule, EventBusName=bus, EventPattern=pattern)
            target = queue(sqs, f"{bus}-{rule}")
            events.put_targets(
                Rule=rule,
                EventBusName=bus,
                Targets=[{"Id": "t", "Arn": target, "DeadLetterConfig": {"Arn": target + "-dlq"}}],
            )
    for name in ("ship-1", "payroll"):
        lambda_server.register(name, nothing, dead_letter_arn=queue(sqs, f"{name}-dlq"))
    # When they are read with DLQ_EVENT_BUSES=orders-bus, DLQ_EVENT_RULES=placed and
    # DLQ_LAMBDA_FUNCTIONS=ship-?
    targets = EventsGateway(buses=("orders-bus",), rules=("placed",)).target_feeders()
    functions = LambdaRedriveGateway(
        boto3.client("lambda", endpoint_url=lambda_server.endpoint_url), functions=("ship-?",)
    ).function_feeders()
    # Then only those feed DLQs, and only those were examined
    assert ([f.name for f in targets.feeders], targets.examined) == (["orders-bus/placed/t"], 1)
    assert ([f.name for f in functions.feeders], functions.examined) == (["ship-1"], 1)
