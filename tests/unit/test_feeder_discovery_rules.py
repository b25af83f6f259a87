"""How AWS's configuration answers become feeders (bot.feeder_discovery), DLQ_KINDS
(bot.config) and the directory that reads each kind (bot.feeder_directory): pure, no server.
The answers are shaped as the API references document GetSubscriptionAttributes,
ListTargetsByRule, ListFunctions and ListFunctionEventInvokeConfigs."""

from __future__ import annotations

import json

import pytest

from bot.config import EngineSettings
from bot.errors import AwsError, ConfigError
from bot.feeder_directory import FeederDirectoryGateway
from bot.feeder_discovery import (
    FeederRead,
    function_dlq_feeder,
    in_scope,
    on_failure_feeders,
    subscription_feeder,
    target_feeder,
)
from bot.feeders import Feeder, Kind, Via

DLQ = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
SUBSCRIPTION = f"{TOPIC}:0f6b3c1e-5b7a-4c1e-9f0a-2a3b4c5d6e7f"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:ship"


def subscription(protocol: str, endpoint: str, **more: str) -> dict[str, str]:
    return {
        "SubscriptionArn": SUBSCRIPTION,
        "TopicArn": TOPIC,
        "Protocol": protocol,
        "Endpoint": endpoint,
        "RawMessageDelivery": "false",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ}),
        **more,
    }


# --- SNS ----------------------------------------------------------------------------------------


def test_a_subscription_with_a_redrive_policy_feeds_its_dlq() -> None:
    # Given an SQS subscription with raw delivery and a RedrivePolicy
    endpoint = "arn:aws:sqs:us-east-1:123456789012:billing"
    feeder = subscription_feeder(subscription("sqs", endpoint, RawMessageDelivery="true"))
    # Then it feeds the DLQ, named by its ARN, and goes back to its endpoint queue only
    assert feeder == Feeder(
        kind=Kind.SNS,
        dlq_arn=DLQ,
        name=SUBSCRIPTION,
        target_arn=endpoint,
        protocol="sqs",
        topic_arn=TOPIC,
        raw=True,
    )
    assert feeder.via is Via.QUEUE


def test_a_subscription_without_a_redrive_policy_or_into_no_queue_feeds_nothing() -> None:
    plain = subscription("sqs", "arn:aws:sqs:us-east-1:123456789012:billing")
    del plain["RedrivePolicy"]
    assert subscription_feeder(plain) is None
    broken = subscription("sqs", "x", RedrivePolicy="{not json")
    assert subscription_feeder(broken) is None
    to_topic = subscription("sqs", "x", RedrivePolicy=json.dumps({"deadLetterTargetArn": TOPIC}))
    assert subscription_feeder(to_topic) is None


@pytest.mark.parametrize(
    ("protocol", "endpoint", "why"),
    [
        ("https", "https://example.com/hook", "SNS delivers to an https endpoint itself"),
        ("http", "http://example.com/hook", "SNS delivers to an http endpoint itself"),
        ("email", "ops@example.com", "SNS sends email itself"),
        ("sms", "+15555550100", "SNS sends SMS itself"),
        ("firehose", "arn:aws:firehose:us-east-1:123456789012:deliverystream/x", "Firehose"),
    ],
)
def test_an_endpoint_sns_alone_reaches_is_refused_with_its_reason(
    protocol: str, endpoint: str, why: str
) -> None:
    feeder = subscription_feeder(subscription(protocol, endpoint))
    assert feeder is not None and feeder.refusal is not None
    assert why in feeder.refusal and "redrive by hand" in feeder.refusal
    assert feeder.via is None


def test_a_lambda_subscription_goes_back_to_its_function() -> None:
    feeder = subscription_feeder(subscription("lambda", FUNCTION))
    assert feeder is not None and feeder.refusal is None and feeder.via is Via.FUNCTION


# --- EventBridge ------------------------------------------------------------------------------

RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/orders-bus/placed"


def test_a_target_with_a_dead_letter_config_feeds_its_dlq() -> None:
    target = {"Id": "ship", "Arn": FUNCTION, "DeadLetterConfig": {"Arn": DLQ}}
    feeder = target_feeder("orders-bus", "placed", RULE_ARN, target)
    assert feeder == Feeder(
        kind=Kind.EVENTS,
        dlq_arn=DLQ,
        name="orders-bus/placed/ship",
        target_arn=FUNCTION,
        protocol="lambda",
        rule_arn=RULE_ARN,
        target_id="ship",
    )
    assert feeder.via is Via.FUNCTION


def test_a_target_without_a_dead_letter_config_feeds_nothing() -> None:
    assert target_feeder("default", "r", RULE_ARN, {"Id": "t", "Arn": FUNCTION}) is None


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ({"Input": '{"fixed": 1}'}, "its Input changes it"),
        ({"InputPath": "$.detail"}, "its InputPath changes it"),
        (
            {"InputTransformer": {"InputTemplate": "<x>", "InputPathsMap": {"x": "$.id"}}},
            "its InputTransformer changes it",
        ),
        ({"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}, "service 'kinesis'"),
        ({"Arn": "arn:aws:sqs:us-east-1:123456789012:orders.fifo"}, "a FIFO target"),
    ],
)
def test_a_target_a_copy_cannot_reach_as_eventbridge_would_is_refused(
    target: dict[str, object], why: str
) -> None:
    given = {"Id": "t", "Arn": FUNCTION, "DeadLetterConfig": {"Arn": DLQ}, **target}
    feeder = target_feeder("default", "r", RULE_ARN, given)
    assert feeder is not None and feeder.refusal is not None
    assert why in feeder.refusal and feeder.via is None


def test_a_topic_target_goes_back_to_its_topic() -> None:
    target = {"Id": "t", "Arn": TOPIC, "DeadLetterConfig": {"Arn": DLQ}}
    feeder = target_feeder("default", "r", RULE_ARN, target)
    assert feeder is not None and feeder.via is Via.TOPIC


# --- Lambda -------------------------------------------------------------------------------------


def test_a_function_dead_letter_config_into_a_queue_feeds_it() -> None:
    config = {
        "FunctionName": "ship",
        "FunctionArn": FUNCTION,
        "DeadLetterConfig": {"TargetArn": DLQ},
    }
    assert function_dlq_feeder(config) == Feeder(
        kind=Kind.LAMBDA, dlq_arn=DLQ, name="ship", target_arn=FUNCTION, protocol="lambda"
    )
    to_topic = {**config, "DeadLetterConfig": {"TargetArn": TOPIC}}
    assert function_dlq_feeder(to_topic) is None
    assert function_dlq_feeder({"FunctionName": "ship", "FunctionArn": FUNCTION}) is None


def test_on_failure_destinations_that_are_queues_feed_them_once_each() -> None:
    # Given the configs of $LATEST and an alias, both to the same queue, and one to a topic
    config = {"FunctionName": "ship", "FunctionArn": FUNCTION}
    configs = [
        {
            "FunctionArn": f"{FUNCTION}:$LATEST",
            "DestinationConfig": {"OnFailure": {"Destination": DLQ}},
        },
        {
            "FunctionArn": f"{FUNCTION}:live",
            "DestinationConfig": {"OnFailure": {"Destination": DLQ}},
        },
        {
            "FunctionArn": f"{FUNCTION}:v2",
            "DestinationConfig": {"OnFailure": {"Destination": TOPIC}},
        },
        {"FunctionArn": f"{FUNCTION}:v3", "DestinationConfig": {"OnSuccess": {"Destination": DLQ}}},
    ]
    # Then the queue is fed once, by the function (unqualified), as an on-failure destination
    # of $LATEST and the alias (not v2's nor v3's: their configs do not name it)
    assert on_failure_feeders(config, configs) == [
        Feeder(
            kind=Kind.LAMBDA,
            dlq_arn=DLQ,
            name="ship",
            target_arn=FUNCTION,
            protocol="lambda",
            on_failure=True,
            qualifiers=("$LATEST", "live"),
        )
    ]


# --- what was not read ----------------------------------------------------------------------


def test_items_not_read_are_told_by_code_with_a_count_and_an_example() -> None:
    read = FeederRead(
        (),
        examined=5,
        noun="subscriptions",
        failed=(("arn:a", "AccessDenied"), ("arn:b", "AccessDenied"), ("arn:c", "Throttling")),
    )
    assert read.gaps() == [
        "AccessDenied: 2 of 5 subscriptions not read (e.g. arn:a); "
        "a DLQ they feed is not known from them",
        "Throttling: 1 of 5 subscriptions not read (e.g. arn:c); "
        "a DLQ they feed is not known from them",
    ]


# --- DLQ_KINDS ----------------------------------------------------------------------------------


def test_dlq_kinds_default_to_every_kind() -> None:
    assert EngineSettings.from_env({}).dlq_kinds == frozenset(Kind)


def test_dlq_kinds_always_read_sqs_sources() -> None:
    settings = EngineSettings.from_env({"DLQ_KINDS": " SNS, lambda ,"})
    assert settings.dlq_kinds == {Kind.SQS, Kind.SNS, Kind.LAMBDA}
    assert EngineSettings.from_env({"DLQ_KINDS": "sqs"}).dlq_kinds == {Kind.SQS}


def test_an_unknown_dlq_kind_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="DLQ_KINDS names unknown kinds 'kinesis'"):
        EngineSettings.from_env({"DLQ_KINDS": "sqs,kinesis"})


# --- the directory ----------------------------------------------------------------------------


class Reader:
    """One kind's discovery: answers ``read`` or raises ``error``; counts its calls."""

    def __init__(self, read: FeederRead | None = None, error: AwsError | None = None) -> None:
        self.read, self.error, self.calls = read, error, 0

    def __call__(self) -> FeederRead:
        self.calls += 1
        if self.error is not None:
            raise self.error
        assert self.read is not None
        return self.read


class Sources:
    def __init__(self, sns: Reader, events: Reader, lambda_: Reader) -> None:
        self.subscription_feeders, self.target_feeders, self.function_feeders = sns, events, lambda_


def test_the_directory_reads_only_the_configured_kinds_and_tells_what_it_could_not_read() -> None:
    # Given SNS refused whole, EventBridge read with one rule refused, Lambda not configured
    topic_feeder = target_feeder(
        "default", "r", RULE_ARN, {"Id": "t", "Arn": TOPIC, "DeadLetterConfig": {"Arn": DLQ}}
    )
    assert topic_feeder is not None
    sns = Reader(
        error=AwsError("AWS refused listing subscriptions: AccessDenied: no", code="AccessDenied")
    )
    events = Reader(
        FeederRead(
            (topic_feeder,), examined=2, noun="rules", failed=(("default/x", "AccessDenied"),)
        )
    )
    lambda_ = Reader(FeederRead(()))
    sources = Sources(sns, events, lambda_)
    directory = FeederDirectoryGateway(
        sources, sources, sources, frozenset({Kind.SQS, Kind.SNS, Kind.EVENTS})
    )
    # When it scans
    scan = directory.feeders()
    # Then it found EventBridge's feeder, never asked Lambda, and says what it did not read
    assert scan.feeders == (topic_feeder,)
    assert lambda_.calls == 0
    assert scan.unread == (
        (Kind.SNS, "AccessDenied: AWS refused listing subscriptions: no"),
        (
            Kind.EVENTS,
            "AccessDenied: 1 of 2 rules not read (e.g. default/x); "
            "a DLQ they feed is not known from them",
        ),
    )


# --- scope: whose feeders are read ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "globs", "read"),
    [
        ("orders", (), True),  # no globs: every name
        ("orders", ("orders",), True),
        ("orders-eu", ("orders",), False),
        ("orders-eu", ("orders*",), True),
        ("orders-eu", ("billing", "orders-??"), True),
        ("Orders", ("orders*",), False),  # names are case-sensitive, as AWS's
    ],
)
def test_a_name_is_in_scope_when_a_glob_matches_it(
    name: str, globs: tuple[str, ...], read: bool
) -> None:
    assert in_scope(name, globs) is read


def test_the_scope_comes_from_its_variables() -> None:
    settings = EngineSettings.from_env(
        {
            "DLQ_SNS_TOPICS": "orders*, billing",
            "DLQ_EVENT_BUSES": "default,orders-bus",
            "DLQ_EVENT_RULES": "placed",
            "DLQ_LAMBDA_FUNCTIONS": "ship-?",
        }
    )
    assert settings.sns_topics == ("orders*", "billing")
    assert settings.event_buses == ("default", "orders-bus")
    assert settings.event_rules == ("placed",)
    assert settings.lambda_functions == ("ship-?",)
    assert EngineSettings.from_env({}).sns_topics == ()


def test_an_arn_where_a_name_glob_belongs_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DLQ_SNS_TOPICS 'arn:aws:sns:us-east-1:1:orders' is"):
        EngineSettings.from_env({"DLQ_SNS_TOPICS": "arn:aws:sns:us-east-1:1:orders"})
