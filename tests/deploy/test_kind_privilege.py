"""Least privilege for the other DLQ kinds (issue 13): SNS subscriptions, EventBridge, Lambda.

Given serverless.yml packaged offline with the kinds' parameters (snsTopicPatterns,
eventRulePatterns with eventBusNames, lambdaFunctionPatterns), each role is read as CloudFormation
deploys it (conditions decided) and its resources are matched, with IAM's glob semantics, against
ARNs of what the parameters name and of what they do not. Three stages are packaged besides the
session's default one: every kind on, SNS alone, EventBridge and Lambda without SNS.

What each action accepts as its Resource is the Service Authorization Reference's (the actions,
resources and condition keys pages of SNS, EventBridge and Lambda), written down in
``NO_RESOURCE_TYPE`` and ``RESOURCE_TYPE`` below.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.composition import feeder_directory
from bot.config import EngineSettings
from bot.errors import AwsError
from bot.feeders import Kind
from bot.lambda_gateway import LambdaRedriveGateway
from bot.sns_gateway import SnsGateway
from infra.local.kinds_scene import moto_function
from infra.local.lambda_server import LambdaServer
from infra.local.moto_server import LocalAws
from tests.deploy import test_scanners, tooling
from tests.deploy.conftest import REQUIRED_PARAMS
from tests.deploy.test_least_privilege import calls, code_of, iam_glob_matches
from tests.deploy.test_template import (
    HANDLERS,
    NAMES,
    Template,
    as_list,
    function,
    granted,
    role_of,
    roles,
    statements,
    sub,
)
from tests.deploy.tooling import ROOT, package_refused
from tests.faults.fault_proxy import Fault, FaultProxy, ProxyRequest

# Every kind on: two topic patterns, two rule patterns on the default bus and a custom one, two
# function patterns.
KINDS_PARAMS = (
    *REQUIRED_PARAMS,
    "snsTopicPatterns=orders-events,payments-*",
    "eventRulePatterns=orders-rule,billing-*",
    "eventBusNames=default,orders-bus",
    "lambdaFunctionPatterns=orders-handler,billing-*",
)
SNS_ONLY_PARAMS = (*REQUIRED_PARAMS, "snsTopicPatterns=orders-events")
EVENTS_AND_LAMBDA_PARAMS = (
    *REQUIRED_PARAMS,
    "eventRulePatterns=orders-rule",
    "lambdaFunctionPatterns=orders-handler",
)

HERE = "arn:aws:{service}:us-east-1:111122223333:"
# What the templates' "${AWS::...}" become in the account the ARNs below live in.
PSEUDO = {
    "${AWS::Partition}": "aws",
    "${AWS::Region}": "us-east-1",
    "${AWS::AccountId}": "111122223333",
}

# The Service Authorization Reference, per action: no resource type at all (the Resource must be
# "*")...
NO_RESOURCE_TYPE = {
    "sqs:ListQueues",
    "sns:ListSubscriptions",
    "events:ListEventBuses",
    "events:ListRules",
    "lambda:ListFunctions",
}
# ... or the resource types a statement can name: sns:GetSubscriptionAttributes "topic",
# sns:Publish "topic*" (arn:${Partition}:sns:${Region}:${Account}:${TopicName});
# events:ListTargetsByRule "rule-on-default-event-bus" (rule/${RuleName}) and
# "rule-on-custom-event-bus" (rule/${EventBusName}/${RuleName});
# lambda:ListFunctionEventInvokeConfigs and lambda:InvokeFunction "function*"
# (function:${FunctionName}, and a version's or alias's ARN adds ":<qualifier>").
RESOURCE_TYPE = {
    "sns:GetSubscriptionAttributes": "sns",
    "sns:Publish": "sns",
    "events:ListTargetsByRule": "events",
    "lambda:ListFunctionEventInvokeConfigs": "lambda",
    "lambda:InvokeFunction": "lambda",
}
KIND_ACTIONS = (NO_RESOURCE_TYPE - {"sqs:ListQueues"}) | set(RESOURCE_TYPE)
SNS_ACTIONS = {a for a in KIND_ACTIONS if a.startswith("sns:")}
EVENTS_ACTIONS = {a for a in KIND_ACTIONS if a.startswith("events:")}
# The worker and the daily job invoke themselves and `failed` (their own statements, not a kind's).
OWN_FUNCTIONS = {f"dlq-redrive-dev-{name}" for name in NAMES}


def package(tmp_path_factory: pytest.TempPathFactory, name: str, *params: str) -> Template:
    output = tmp_path_factory.mktemp(name)
    return tooling.load_template(tooling.osls_package(output, *params))


@pytest.fixture(scope="module")
def kinds_template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tooling.osls_package(tmp_path_factory.mktemp("osls-kinds"), *KINDS_PARAMS)


@pytest.fixture(scope="module")
def kinds_template(kinds_template_path: Path) -> Template:
    return tooling.load_template(kinds_template_path)


@pytest.fixture(scope="module")
def sns_only_template(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Template:
    return package(tmp_path_factory, "osls-sns-only", *SNS_ONLY_PARAMS)


@pytest.fixture(scope="module")
def events_and_lambda_template(
    artifact: Path, tmp_path_factory: pytest.TempPathFactory
) -> Template:
    return package(tmp_path_factory, "osls-events-lambda", *EVENTS_AND_LAMBDA_PARAMS)


def with_auto_redrive(template: Template) -> Template:
    """The same template deployed with AUTO_REDRIVE set: CloudFormation decides the daily
    role's AutoRedriveEnabled condition from the AutoRedrive parameter, which osls fills from
    --param autoRedrive (its value is the Default here)."""
    changed = copy.deepcopy(template)
    changed["Parameters"]["AutoRedrive"]["Default"] = "orders-dlq"
    return changed


def arns(role: dict[str, Any], action: str) -> list[str]:
    """The ARN patterns the role may do ``action`` on, as deployed in account 111122223333."""
    found = []
    for resource in granted(role, action):
        text = "*" if resource == "*" else sub(resource)
        for pseudo, value in PSEUDO.items():
            text = text.replace(pseudo, value)
        found.append(text)
    return found


def reaches(role: dict[str, Any], action: str, arn: str) -> bool:
    return any(iam_glob_matches(pattern, arn) for pattern in arns(role, action))


def own_invoke(statement: dict[str, Any]) -> bool:
    """Whether the statement is a function's invoke of this stack's own functions only."""
    if as_list(statement["Action"]) != ["lambda:InvokeFunction"]:
        return False
    targets = {sub(r).rsplit(":function:", 1)[-1] for r in as_list(statement["Resource"])}
    return targets <= OWN_FUNCTIONS


def kind_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """The role's statements of the other kinds, its invokes of its own functions aside."""
    found = [s for s in statements(role) if set(as_list(s["Action"])) & KIND_ACTIONS]
    return [s for s in found if not own_invoke(s)]


def kind_actions(role: dict[str, Any]) -> set[str]:
    return {a for s in kind_statements(role) for a in as_list(s["Action"])} & KIND_ACTIONS


# The environment that scopes discovery (bot.config.EngineSettings), set from the kinds' parameters.
SCOPE = ("DLQ_SNS_TOPICS", "DLQ_EVENT_BUSES", "DLQ_EVENT_RULES", "DLQ_LAMBDA_FUNCTIONS")


def dlq_kinds(template: Template) -> set[str]:
    return {
        function(template, handler)["Environment"]["Variables"]["DLQ_KINDS"] for handler in HANDLERS
    }


# --- which kinds are on ------------------------------------------------------------------------


def test_dlq_kinds_follows_the_parameters_given(
    template: Template,
    kinds_template: Template,
    sns_only_template: Template,
    events_and_lambda_template: Template,
) -> None:
    # Given stages packaged with none, all, and some of the kinds' parameters
    # Then every function is told the same kinds: sqs always, each other kind when its
    # parameter names something
    assert dlq_kinds(template) == {"sqs"}
    assert dlq_kinds(kinds_template) == {"sqs,sns,events,lambda"}
    assert dlq_kinds(sns_only_template) == {"sqs,sns"}
    assert dlq_kinds(events_and_lambda_template) == {"sqs,events,lambda"}
    # And whose feeders discovery reads: the very names the roles may read
    for handler in HANDLERS:
        env = function(kinds_template, handler)["Environment"]["Variables"]
        assert {k: v for k, v in env.items() if k in SCOPE} == {
            "DLQ_SNS_TOPICS": "orders-events,payments-*",
            "DLQ_EVENT_BUSES": "default,orders-bus",
            "DLQ_EVENT_RULES": "orders-rule,billing-*",
            "DLQ_LAMBDA_FUNCTIONS": "orders-handler,billing-*",
        }
        env = function(template, handler)["Environment"]["Variables"]
        assert {k: v for k, v in env.items() if k in SCOPE} == dict.fromkeys(SCOPE, "")


def test_no_kind_has_a_right_without_its_parameter(
    template: Template, sns_only_template: Template, events_and_lambda_template: Template
) -> None:
    for stack in (template, with_auto_redrive(template)):
        # Given the default stage (no kind's parameter): no role has any right of the kinds
        assert {h: kind_actions(role_of(stack, h)[1]) for h in HANDLERS} == {
            h: set() for h in HANDLERS
        }
    for stack in (sns_only_template, with_auto_redrive(sns_only_template)):
        # Given SNS alone: reading subscriptions, no EventBridge or Lambda right, and no
        # publish (only an EventBridge target that is a topic is ever published to)
        _, worker = role_of(stack, "handlers/worker.handler")
        _, daily = role_of(stack, "handlers/daily.handler")
        assert kind_actions(worker) == kind_actions(daily) == SNS_ACTIONS - {"sns:Publish"}
    for stack in (events_and_lambda_template, with_auto_redrive(events_and_lambda_template)):
        # Given EventBridge and Lambda without snsTopicPatterns: no SNS right at all, publish
        # included (an EventBridge target that is a topic then stays undelivered: AccessDenied)
        _, worker = role_of(stack, "handlers/worker.handler")
        assert not kind_actions(worker) & SNS_ACTIONS
        assert EVENTS_ACTIONS | {"lambda:InvokeFunction"} <= kind_actions(worker)


def test_the_kinds_rights_are_only_in_the_worker_and_daily_roles(kinds_template: Template) -> None:
    # Given every kind on, auto-redrive on too
    stack = with_auto_redrive(kinds_template)
    worker = kind_actions(role_of(stack, "handlers/worker.handler")[1])
    daily = kind_actions(role_of(stack, "handlers/daily.handler")[1])
    # Then the worker reads and delivers every kind, the daily job too when it auto-redrives
    assert worker == daily == KIND_ACTIONS
    # And the Slack endpoint and `failed` get none of it: the endpoint still only invokes the
    # worker, `failed` nothing; no other role of the stack has any
    _, slack = role_of(stack, "handlers/slack.handler")
    _, failed = role_of(stack, "handlers/failed.handler")
    assert kind_actions(slack) == kind_actions(failed) == set()
    assert arns(slack, "lambda:InvokeFunction") == [
        HERE.format(service="lambda") + "function:dlq-redrive-dev-worker"
    ]
    assert granted(failed, "lambda:InvokeFunction") == []
    with_kinds = [r for r in roles(stack) if kind_actions(r)]
    assert sorted(r["Properties"]["Description"] for r in with_kinds) == [
        "dlq-redrive asynchronous worker (redrives)",
        "dlq-redrive daily report",
    ]


def test_the_daily_job_reads_the_kinds_but_delivers_only_when_it_auto_redrives(
    kinds_template: Template,
) -> None:
    # Given every kind on and AUTO_REDRIVE empty: the report names each DLQ's feeders
    _, daily = role_of(kinds_template, "handlers/daily.handler")
    reads = KIND_ACTIONS - {"sns:Publish", "lambda:InvokeFunction"}
    # Then it may read them, but neither invoke an application's function nor publish
    assert kind_actions(daily) == reads
    assert not reaches(daily, "lambda:InvokeFunction", lambda_arn("orders-handler"))
    assert granted(daily, "sns:Publish") == []
    # Given AUTO_REDRIVE set (the template's own AutoRedriveEnabled condition)
    _, auto = role_of(with_auto_redrive(kinds_template), "handlers/daily.handler")
    # Then it may deliver back to the named functions and topics
    assert reaches(auto, "lambda:InvokeFunction", lambda_arn("orders-handler"))
    assert reaches(auto, "sns:Publish", topic_arn("orders-events"))


# --- scoped by the parameters -------------------------------------------------------------------


def topic_arn(topic: str) -> str:
    return HERE.format(service="sns") + topic


def rule_arn(rule: str) -> str:
    return HERE.format(service="events") + f"rule/{rule}"


def lambda_arn(name: str) -> str:
    return HERE.format(service="lambda") + f"function:{name}"


SUBSCRIPTION_ID = "0f6e3c5a-8b7d-4e2f-9a1b-2c3d4e5f6a7b"

# (action, ARN, whether the worker may): the named topics' subscriptions, the named rules on the
# named buses, the named functions; nothing next to them.
SCOPED = [
    ("sns:GetSubscriptionAttributes", topic_arn(f"orders-events:{SUBSCRIPTION_ID}"), True),
    ("sns:GetSubscriptionAttributes", topic_arn("orders-events"), True),
    ("sns:GetSubscriptionAttributes", topic_arn(f"payments-eu:{SUBSCRIPTION_ID}"), True),
    ("sns:GetSubscriptionAttributes", topic_arn(f"audit-events:{SUBSCRIPTION_ID}"), False),
    ("sns:GetSubscriptionAttributes", topic_arn(f"orders-events-v2:{SUBSCRIPTION_ID}"), False),
    ("events:ListTargetsByRule", rule_arn("orders-rule"), True),
    ("events:ListTargetsByRule", rule_arn("orders-bus/orders-rule"), True),
    ("events:ListTargetsByRule", rule_arn("billing-nightly"), True),
    ("events:ListTargetsByRule", rule_arn("orders-bus/billing-nightly"), True),
    ("events:ListTargetsByRule", rule_arn("audit-rule"), False),
    ("events:ListTargetsByRule", rule_arn("audit-bus/orders-rule"), False),
    ("lambda:ListFunctionEventInvokeConfigs", lambda_arn("orders-handler"), True),
    ("lambda:ListFunctionEventInvokeConfigs", lambda_arn("billing-export"), True),
    ("lambda:ListFunctionEventInvokeConfigs", lambda_arn("audit-handler"), False),
    ("lambda:ListFunctionEventInvokeConfigs", lambda_arn("orders-handler-v2"), False),
    # Delivery: an on-failure record names the version or alias that failed
    ("lambda:InvokeFunction", lambda_arn("orders-handler"), True),
    ("lambda:InvokeFunction", lambda_arn("orders-handler:$LATEST"), True),
    ("lambda:InvokeFunction", lambda_arn("orders-handler:live"), True),
    ("lambda:InvokeFunction", lambda_arn("billing-export:7"), True),
    ("lambda:InvokeFunction", lambda_arn("orders-handler-v2"), False),
    ("lambda:InvokeFunction", lambda_arn("audit-handler:live"), False),
    ("sns:Publish", topic_arn("orders-events"), True),
    ("sns:Publish", topic_arn("payments-eu.fifo"), True),
    ("sns:Publish", topic_arn("audit-events"), False),
]


@pytest.mark.parametrize(("action", "arn", "allowed"), SCOPED)
def test_each_right_reaches_what_the_parameters_name_and_nothing_beside(
    kinds_template: Template, action: str, arn: str, allowed: bool
) -> None:
    _, worker = role_of(kinds_template, "handlers/worker.handler")
    assert reaches(worker, action, arn) is allowed


def test_no_kind_right_reaches_this_stack_s_own_functions(kinds_template: Template) -> None:
    # The worker's self-invoke and its invoke of `failed` stay their own statement, as before
    _, worker = role_of(kinds_template, "handlers/worker.handler")
    scoped = [s for s in kind_statements(worker) if s["Resource"] != "*"]
    assert scoped
    for statement in scoped:
        for resource in as_list(statement["Resource"]):
            pattern = sub(resource)
            for pseudo, value in PSEUDO.items():
                pattern = pattern.replace(pseudo, value)
            for own in OWN_FUNCTIONS:
                assert not iam_glob_matches(pattern, lambda_arn(own)), pattern
                assert not iam_glob_matches(pattern, lambda_arn(f"{own}:$LATEST")), pattern
    assert arns(worker, "lambda:InvokeFunction")[-2:] == [
        lambda_arn("dlq-redrive-dev-worker"),
        lambda_arn("dlq-redrive-dev-failed"),
    ]


def test_resource_star_only_where_aws_allows_no_narrower_and_the_roles_say_so(
    kinds_template: Template,
) -> None:
    # Given every kind on (and auto-redrive, so every statement is deployed)
    stack = with_auto_redrive(kinds_template)
    star = {
        action
        for role in roles(stack)
        for statement in statements(role)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    # Then "*" is used only for actions that have no resource type at all
    assert star == NO_RESOURCE_TYPE
    # And every other kind action names its resources (never a wildcard-only one)
    _, worker = role_of(stack, "handlers/worker.handler")
    for action in RESOURCE_TYPE:
        patterns = arns(worker, action)
        assert patterns, action
        for pattern in patterns:
            service = RESOURCE_TYPE[action]
            assert pattern.startswith(HERE.format(service=service)), (action, pattern)
            assert not re.fullmatch(r"[*?:/]+", pattern.split(":", 5)[5]), (action, pattern)
    # And in infra/iam/roles.yml, each statement with Resource "*" says why, in its comment
    text = (ROOT / "infra/iam/roles.yml").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=x-[a-z-]+: &)", text)
    for block in blocks:
        if 'Resource: "*"' in block:
            assert 'AWS only accepts "*" here' in block, block.splitlines()[0]


# --- the code's calls and the rights -------------------------------------------------------------

# The boto3 calls of the kinds' gateways (a method, or a paginator of that name) and the IAM
# action each needs.
CALLS = {
    "list_subscriptions": "sns:ListSubscriptions",
    "get_subscription_attributes": "sns:GetSubscriptionAttributes",
    "publish": "sns:Publish",
    "list_event_buses": "events:ListEventBuses",
    "list_rules": "events:ListRules",
    "list_targets_by_rule": "events:ListTargetsByRule",
    "list_functions": "lambda:ListFunctions",
    "list_function_event_invoke_configs": "lambda:ListFunctionEventInvokeConfigs",
    "invoke": "lambda:InvokeFunction",
}
GATEWAYS = ("bot/sns_gateway.py", "bot/events_gateway.py", "bot/lambda_gateway.py")


def gateway_actions() -> set[str]:
    """The actions the kinds' gateways call for (``client.list_rules(...)`` or
    ``client.get_paginator("list_rules")``)."""
    found = set()
    for module in GATEWAYS:
        path = ROOT / module
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)
            if name in CALLS:
                found.add(CALLS[name])
    return found


def test_the_kinds_rights_are_exactly_the_calls_their_gateways_make(
    kinds_template: Template,
) -> None:
    # Given the calls the SNS, EventBridge and Lambda gateways make to discover and deliver
    used = gateway_actions()
    assert {"sns:ListSubscriptions", "events:ListTargetsByRule", "sns:Publish"} <= used
    # Then the worker (which discovers and delivers) may make each of them, and nothing more:
    # no right is kept that no code uses (a function's DeadLetterConfig comes with
    # ListFunctions, so there is no GetFunctionConfiguration)
    _, worker = role_of(kinds_template, "handlers/worker.handler")
    assert kind_actions(worker) == used
    assert "lambda:GetFunctionConfiguration" not in {
        a for s in statements(worker) for a in as_list(s["Action"])
    }


def test_the_slack_endpoint_s_code_neither_discovers_nor_delivers_the_kinds() -> None:
    # Given every module the endpoint's handler can reach (its only invoke is of the worker)
    discovering = {
        *(set(CALLS) - {"invoke"}),
        "feeder_directory",
        "delivery_targets",
        "subscription_feeders",
        "target_feeders",
        "function_feeders",
        "invoke_event",
    }
    found = {
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path, nodes in code_of("handlers/slack.handler").items()
        for node in nodes
        for name, line in calls(ast.Module(body=[node], type_ignores=[]), discovering)
    }
    # Then none of it discovers a feeder or delivers to one: its role needs none of the rights
    assert found == set()


# --- the real gateways under the packaged role ---------------------------------------------------

MOTO_ACCOUNT = "123456789012"


def role_allows(role: dict[str, Any], action: str, arn: str | None) -> bool:
    """IAM's answer for one request: an Allow statement with the action and a Resource that
    matches ``arn`` ("*" for an action without a resource type, whose request names none)."""
    for statement in statements(role):
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                return True
            if arn is None:
                continue
            pattern = sub(resource)
            for pseudo, value in {**PSEUDO, "${AWS::AccountId}": MOTO_ACCOUNT}.items():
                pattern = pattern.replace(pseudo, value)
            if iam_glob_matches(pattern, arn):
                return True
    return False


def request_of(request: ProxyRequest) -> tuple[str, str | None]:
    """The IAM action and resource ARN of a request to SNS, EventBridge or Lambda, from what it
    names (the query's fields, the JSON body, the REST path), as AWS authorizes it."""
    here = f"arn:aws:{{}}:us-east-1:{MOTO_ACCOUNT}:"
    if request.params:  # SNS, query protocol
        arn = request.params.get("SubscriptionArn") or request.params.get("TopicArn")
        return f"sns:{request.action}", arn
    if request.action in {"ListEventBuses", "ListRules", "ListTargetsByRule"}:
        body = json.loads(request.body or b"{}")
        bus = body.get("EventBusName", "default")
        rule = body.get("Rule")
        if rule is None:
            return f"events:{request.action}", None
        name = rule if bus == "default" else f"{bus}/{rule}"
        return f"events:{request.action}", here.format("events") + f"rule/{name}"
    path, _, query = request.path.partition("?")
    parts = [urllib.parse.unquote(part) for part in path.strip("/").split("/")]
    if parts[1:] == ["functions"]:
        return "lambda:ListFunctions", None
    function = parts[2] if len(parts) > 2 else ""
    if not function.startswith("arn:"):
        function = here.format("lambda") + f"function:{function}"
    qualifier = urllib.parse.parse_qs(query).get("Qualifier")
    if qualifier:
        function += f":{qualifier[0]}"
    if parts[-1] == "invocations":
        return "lambda:InvokeFunction", function
    if parts[-2:] == ["event-invoke-config", "list"]:
        return "lambda:ListFunctionEventInvokeConfigs", function
    return f"lambda:{request.method} {path}", function


def enforcing(upstream: str, role: dict[str, Any], denials: list[tuple[str, str | None]]) -> Any:
    """A FaultProxy in front of ``upstream`` that answers as IAM would for ``role``: AWS's
    access denied (in each protocol's shape) for what the role does not allow."""

    def inspect(request: ProxyRequest) -> Fault | None:
        action, arn = request_of(request)
        if role_allows(role, action, arn):
            return None
        denials.append((action, arn))
        return Fault.DENY

    return FaultProxy(upstream, lambda action, n: Fault.PASS, inspect=inspect)


def queue_arn(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def test_the_worker_role_reads_and_delivers_exactly_the_named_kinds_on_aws(
    kinds_template: Template, aws: LocalAws, sqs: Any
) -> None:
    # Given (on moto) a named topic and another, each with a subscription that dead-letters; a
    # named rule on the default bus and on orders-bus, and another rule, each with a target that
    # dead-letters; a named function and another, each with an on-failure queue
    _, worker = role_of(kinds_template, "handlers/worker.handler")
    sns, events, lam = boto3.client("sns"), boto3.client("events"), boto3.client("lambda")
    dlq, target = queue_arn(sqs, "orders-dlq"), queue_arn(sqs, "orders")
    policy = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})}
    subscriptions = {}
    for topic in ("orders-events", "audit-events"):
        topic_arn_ = sns.create_topic(Name=topic)["TopicArn"]
        subscriptions[topic] = sns.subscribe(
            TopicArn=topic_arn_,
            Protocol="sqs",
            Endpoint=target,
            Attributes=policy,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    events.create_event_bus(Name="orders-bus")
    for bus, rule in (
        ("default", "orders-rule"),
        ("orders-bus", "orders-rule"),
        ("default", "audit"),
    ):
        events.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["orders"]}')
        events.put_targets(
            Rule=rule,
            EventBusName=bus,
            Targets=[{"Id": "q", "Arn": target, "DeadLetterConfig": {"Arn": dlq}}],
        )
    for name in ("orders-handler", "audit-handler"):
        moto_function(name)
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": dlq}}
        )
    denied: list[tuple[str, str | None]] = []
    # When the worker's discovery, built as the worker builds it from the environment the stack
    # gives it (DLQ_KINDS and the scope, DLQ_SNS_TOPICS ...), reads them through a proxy that
    # answers as IAM would for the worker's role as packaged
    env = function(kinds_template, "handlers/worker.handler")["Environment"]["Variables"]
    settings = EngineSettings.from_env({k: v for k, v in env.items() if isinstance(v, str)})
    with enforcing(aws.endpoint, worker, denied) as keeper:
        directory = feeder_directory(
            settings,
            sns_client=boto3.client("sns", endpoint_url=keeper.endpoint),
            events_client=boto3.client("events", endpoint_url=keeper.endpoint),
            lambda_client=boto3.client("lambda", endpoint_url=keeper.endpoint),
        )
        scan = directory.feeders()
        discovery_denied = list(denied)
        # And it publishes to a named topic and to another
        sns_gateway = SnsGateway(boto3.client("sns", endpoint_url=keeper.endpoint))
        published = sns_gateway.publish(
            f"arn:aws:sns:us-east-1:{MOTO_ACCOUNT}:orders-events", "{}", {}, None, None
        )
        with pytest.raises(AwsError) as refused:
            sns_gateway.publish(
                f"arn:aws:sns:us-east-1:{MOTO_ACCOUNT}:audit-events", "{}", {}, None, None
            )
    # Then exactly the named ones are found: the named topic's subscription, the named rule on
    # both named buses, the named function's on-failure destination
    assert sorted((f.kind, f.name) for f in scan.feeders) == sorted(
        [
            (Kind.SNS, subscriptions["orders-events"]),
            (Kind.EVENTS, "default/orders-rule/q"),
            (Kind.EVENTS, "orders-bus/orders-rule/q"),
            (Kind.LAMBDA, "orders-handler"),
        ]
    )
    # And the scope the stack gives discovery and the rights it gives the role agree: nothing
    # outside the names is asked for, so nothing is refused and nothing is "not read"
    assert discovery_denied == []
    assert scan.unread == ()
    # And the publish to the named topic went, the other was refused with AWS's code
    assert published
    assert refused.value.code == "AuthorizationError"
    assert denied == [("sns:Publish", f"arn:aws:sns:us-east-1:{MOTO_ACCOUNT}:audit-events")]


def test_the_worker_role_invokes_a_named_function_by_any_qualifier_and_no_other(
    kinds_template: Template,
) -> None:
    # Given the local Lambda endpoint with a named function and another
    _, worker = role_of(kinds_template, "handlers/worker.handler")
    denied: list[tuple[str, str | None]] = []
    here = f"arn:aws:lambda:us-east-1:{MOTO_ACCOUNT}:function:"
    with LambdaServer() as server:
        for name in ("orders-handler", "audit-handler", "dlq-redrive-dev-daily"):
            server.register(name, lambda event, context: None)
        with enforcing(server.endpoint_url, worker, denied) as keeper:
            gateway = LambdaRedriveGateway(
                boto3.client("lambda", endpoint_url=keeper.endpoint, region_name="us-east-1")
            )
            # When the worker invokes the named function as an on-failure record names it
            # (a version, an alias) and as an async DLQ's feeder does (unqualified)
            for arn in ("orders-handler:$LATEST", "orders-handler:live", "orders-handler"):
                gateway.invoke_event(here + arn, b"{}")
            # And another application's function, and this stack's own daily job
            refusals = []
            for arn in ("audit-handler", "dlq-redrive-dev-daily"):
                with pytest.raises(AwsError) as refused:
                    gateway.invoke_event(here + arn, b"{}")
                refusals.append(refused.value.code)
        server.wait_idle()
    # Then the three went, the other two were refused as IAM would
    assert [i.function_name for i in server.invocations] == ["orders-handler"] * 3
    assert refusals == ["AccessDeniedException", "AccessDeniedException"]
    assert [arn for _, arn in denied] == [here + "audit-handler", here + "dlq-redrive-dev-daily"]


# --- refused at packaging ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["snsTopicPatterns=*"], 'snsTopicPatterns "*" would match every topic'),
        (["eventRulePatterns=**"], 'eventRulePatterns "**" would match every rule'),
        (
            ["lambdaFunctionPatterns=orders-handler,?*"],
            'lambdaFunctionPatterns "?*" would match every function',
        ),
        (["snsTopicPatterns=*-events"], 'snsTopicPatterns "*-events" starts with a wildcard'),
        (
            ["lambdaFunctionPatterns=arn:aws:lambda:us-east-1:111122223333:function:orders"],
            "is not a Lambda function name or pattern",
        ),
        (["lambdaFunctionPatterns=orders-handler:live"], "no version or alias"),
        (
            ["lambdaFunctionPatterns=dlq-redrive-*"],
            "matches one of this stack's own functions",
        ),
        (
            ["eventRulePatterns=orders-rule", "eventBusNames=orders-*"],
            'eventBusNames "orders-*" is not an event bus name',
        ),
        (["eventRulePatterns=orders/rule"], "is not an EventBridge rule name or pattern"),
    ],
)
def test_packaging_refuses_a_kind_setting_that_would_reach_beyond_what_it_names(
    tmp_path: Path, artifact: Path, params: list[str], message: str
) -> None:
    # Given a deployer who widens a kind's setting, or names something that is not a name
    printed = package_refused(tmp_path, *REQUIRED_PARAMS, *params)
    # Then packaging stops and says which setting and why
    assert message in printed


# --- the scanners ---------------------------------------------------------------------------------


def test_checkov_and_cfn_lint_find_nothing_with_every_kind_on(kinds_template_path: Path) -> None:
    # Given the template with every kind's statements
    report = test_scanners.run_checkov(kinds_template_path)
    # Then checkov fails no check, and skips none of its IAM checks
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert not skipped & test_scanners.IAM_CHECKS
    # And cfn-lint reports nothing
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            "--",
            str(kinds_template_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kinds_conditions_are_the_template_s_own(kinds_template: Template) -> None:
    # The rights follow stack parameters that osls fills from the same --param values the
    # functions' DLQ_KINDS comes from, so the two cannot disagree
    params = kinds_template["Parameters"]
    assert params["SnsTopicPatterns"]["Default"] == "orders-events,payments-*"
    assert params["EventRulePatterns"]["Default"] == "orders-rule,billing-*"
    assert params["LambdaFunctionPatterns"]["Default"] == "orders-handler,billing-*"
    worker = kinds_template["Resources"]["WorkerFunctionRole"]
    text = str(worker)
    for condition in ("SnsKindOn", "EventsKindOn", "LambdaKindOn"):
        assert f"'Fn::If': ['{condition}'" in text, condition
