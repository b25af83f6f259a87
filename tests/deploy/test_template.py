"""The CloudFormation template `npx osls package` builds from serverless.yml, checked offline.

Given serverless.yml packaged with no AWS credentials (conftest), these tests read the template the
way CloudFormation would get it and check what a reviewer of the deployment would: it lints, the
schedule, each function's role grants only what that function needs, the state table is the one
bot/state_table.json defines, and no secret is in it.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.daily.events import parse_time
from bot.state_schema import table_definition
from tests.deploy.conftest import DEPLOYER_SECRETS, REQUIRED_PARAMS
from tests.deploy.tooling import ROOT, run_osls_package

Template = dict[str, Any]

SUB_PREFIX = "arn:${AWS::Partition}"
DLQ_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:ListDeadLetterSourceQueues",
}
# Variables a deployed function must never be given directly (they live in SSM or Secrets
# Manager; JOB_SIGNING_KEY is the plain key of local runs and tests).
SECRET_VARIABLES = {
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "JOB_SIGNING_KEY",
    "JOB_SIGNING_KEY_PREVIOUS",
}
# Settings only some functions get: where the secrets they alone read are.
ONLY_FOR = {
    "SLACK_SIGNING_SECRET_PARAM": {"handlers/slack.handler"},
    "JOB_SIGNING_KEY_SECRET": {
        "handlers/slack.handler",
        "handlers/worker.handler",
        "handlers/failed.handler",
    },
    # The alert checks' settings (bot/config.py AlertSettings): only the alerts function reads them.
    **{
        name: {"handlers/alerts.handler"}
        for name in ("ALERT_CHANNEL", "ALERT_THRESHOLD", "ALERT_GROWTH", "ALERT_QUIET_MINUTES")
    },
}


def resources(template: Template, kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function(template: Template, handler: str) -> dict[str, Any]:
    (found,) = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
    ]
    return found


def schedule_of(template: Template, function_logical_id: str) -> dict[str, Any]:
    """The one EventBridge Scheduler schedule that starts the function (the stack has two: the
    daily report's and the alert checks')."""
    (found,) = [
        schedule
        for schedule in resources(template, "AWS::Scheduler::Schedule").values()
        if schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_logical_id, "Arn"]}
    ]
    return found


def condition_holds(template: Template, name: str) -> bool:
    """Evaluate one of the template's Conditions with its parameters' defaults (what osls deploys:
    it passes no parameter values), for the intrinsic functions the template uses."""

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return template["Parameters"][node["Ref"]]["Default"]
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        if isinstance(node, dict) and "Condition" in node:
            return condition_holds(template, node["Condition"])
        assert isinstance(node, str), f"cannot evaluate {node!r}"
        return node

    return bool(value(template["Conditions"][name]))


def resolved(template: Template, node: Any) -> Any:
    """``node`` as CloudFormation deploys it: each Fn::If decided, AWS::NoValue dropped."""
    if isinstance(node, list):
        items = [resolved(template, item) for item in node]
        return [item for item in items if item != {"Ref": "AWS::NoValue"}]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, if_true, if_false = node["Fn::If"]
            return resolved(template, if_true if condition_holds(template, name) else if_false)
        items = {key: resolved(template, item) for key, item in node.items()}
        # A property whose value is AWS::NoValue is removed (as in a list)
        return {key: item for key, item in items.items() if item != {"Ref": "AWS::NoValue"}}
    return node


def role_of(template: Template, handler: str) -> tuple[str, dict[str, Any]]:
    """The function's role, as deployed (its conditional statements decided)."""
    logical_id = function(template, handler)["Role"]["Fn::GetAtt"][0]
    return logical_id, role_named(template, logical_id)


# The resources that grant a role rights from outside its own Policies.
POLICY_RESOURCES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")


def role_named(template: Template, logical_id: str) -> dict[str, Any]:
    """The role ``logical_id`` as deployed (its conditional statements decided), once checked
    that every right it has is in its own ``Policies``, which ``statements`` reads: no managed
    policy ARN, no policy resource naming it. Otherwise a right added that way (an AWS managed
    policy, an AWS::IAM::Policy with ``Roles: [!Ref ...]``) would pass every least-privilege
    test of the role."""
    role = resolved(template, template["Resources"][logical_id])
    assert not role["Properties"].get("ManagedPolicyArns"), f"{logical_id}: managed policies"
    policies = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] in POLICY_RESOURCES
    }
    for name, resource in policies.items():
        props = resolved(template, resource["Properties"])
        named = [*as_list(props.get("Roles", [])), props.get("RoleName")]
        assert {"Ref": logical_id} not in named and logical_id not in named, (
            f"{name} grants {logical_id} rights outside its Policies"
        )
    return role


def roles(template: Template) -> list[dict[str, Any]]:
    """Every role of the stack, as deployed."""
    return [resolved(template, r) for r in resources(template, "AWS::IAM::Role").values()]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def sub(value: Any) -> str:
    """The text of an ``Fn::Sub`` resource (the way every narrowed ARN here is written)."""
    assert isinstance(value, dict) and "Fn::Sub" in value, f"not an Fn::Sub ARN: {value!r}"
    text = value["Fn::Sub"]
    assert isinstance(text, str)
    return text


def granted(role: dict[str, Any], action: str) -> list[Any]:
    """Every resource the role may perform ``action`` on."""
    return [
        resource
        for statement in statements(role)
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


HANDLERS = (
    "handlers/slack.handler",
    "handlers/worker.handler",
    "handlers/daily.handler",
    "handlers/failed.handler",
    "handlers/alerts.handler",
)
NAMES = ("slack", "worker", "daily", "failed", "alerts")


def test_the_functions_run_python_312_with_fitting_timeouts(template: Template) -> None:
    slack, worker, daily, failed, alerts = (function(template, handler) for handler in HANDLERS)
    for props in (slack, worker, daily, failed, alerts):
        assert props["Runtime"] == "python3.12"
    # The endpoint must answer Slack within 3 s; slow work has the full Lambda budget.
    assert slack["Timeout"] <= 10
    assert worker["Timeout"] == 900
    assert daily["Timeout"] == 900
    # Marking a run failed is a few table writes and one Slack update; an alert check, one read
    # of the counts and a few posts (and it runs every few minutes).
    assert failed["Timeout"] <= 60
    assert alerts["Timeout"] <= 60


def test_slack_events_are_served_on_post_slack_events(template: Template) -> None:
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    assert [r["Properties"]["RouteKey"] for r in routes.values()] == ["POST /slack/events"]
    (integration,) = resources(template, "AWS::ApiGatewayV2::Integration").values()
    target = json.dumps(integration["Properties"]["IntegrationUri"])
    assert "SlackLambdaFunction" in target


def test_the_daily_report_is_scheduled_at_six_in_the_configured_time_zone(
    template: Template, narrowed_template: Template
) -> None:
    # Given the default stage and one deployed with --param timezone=Europe/Paris
    default = schedule_of(template, "DailyLambdaFunction")
    paris = schedule_of(narrowed_template, "DailyLambdaFunction")
    # Then both run the daily function at 06:00, each in its own zone
    assert default["Properties"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert default["Properties"]["ScheduleExpressionTimezone"] == "UTC"
    assert paris["Properties"]["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert default["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["DailyLambdaFunction", "Arn"]}
    # And the functions see the same zone as the schedule
    assert (
        function(narrowed_template, "handlers/daily.handler")["Environment"]["Variables"][
            "TIMEZONE"
        ]
        == "Europe/Paris"
    )


def test_the_schedule_hands_the_daily_job_its_scheduled_time(template: Template) -> None:
    # Given the schedule's target input, as EventBridge Scheduler fills it in at 06:00
    schedule = schedule_of(template, "DailyLambdaFunction")
    payload = json.loads(schedule["Properties"]["Target"]["Input"])
    assert payload == {"time": "<aws.scheduler.scheduled-time>"}
    delivered = {"time": "2026-11-25T06:00:00Z"}  # Scheduler's substitution (ISO 8601, UTC)
    # Then the daily job reads its day from it, not from the wall clock
    assert parse_time(delivered["time"]).isoformat() == "2026-11-25T06:00:00+00:00"


def test_the_scheduler_role_may_only_invoke_the_daily_function(template: Template) -> None:
    schedule = schedule_of(template, "DailyLambdaFunction")
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]
    principals = [
        s["Principal"]["Service"]
        for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    ]
    assert principals == ["scheduler.amazonaws.com"]
    assert [a for s in statements(role) for a in as_list(s["Action"])] == ["lambda:InvokeFunction"]
    assert [sub(r) for r in granted(role, "lambda:InvokeFunction")] == [
        f"{SUB_PREFIX}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:dlq-redrive-dev-daily"
    ]


def test_each_function_has_its_own_role(template: Template) -> None:
    role_ids = [role_of(template, handler)[0] for handler in HANDLERS]
    assert len(set(role_ids)) == len(HANDLERS)
    assert "IamRoleLambdaExecution" not in template["Resources"]


def test_no_statement_grants_a_wildcard_action(template: Template) -> None:
    every = [s for role in roles(template) for s in statements(role)]
    actions = [a for s in every for a in as_list(s["Action"])]
    assert actions
    assert not [a for a in actions if "*" in a]
    assert all(s["Effect"] == "Allow" for s in every)


def test_resource_star_is_only_used_for_sqs_list_queues(template: Template) -> None:
    for role in roles(template):
        for statement in statements(role):
            if "*" in as_list(statement["Resource"]):
                assert as_list(statement["Action"]) == ["sqs:ListQueues"]


def test_sqs_access_is_limited_to_the_watched_dlqs_and_their_sources(
    template: Template, narrowed_template: Template
) -> None:
    # Given a stage deployed with explicit DLQ and source queue names
    _, worker = role_of(narrowed_template, "handlers/worker.handler")
    account = f"{SUB_PREFIX}:sqs:${{AWS::Region}}:${{AWS::AccountId}}"
    # Then receiving and deleting is only allowed on those DLQs
    for action in DLQ_ACTIONS:
        assert sorted(sub(r) for r in granted(worker, action)) == [
            f"{account}:orders-dlq",
            f"{account}:payments-dlq.fifo",
        ], action
    # And sending only to those sources
    assert sorted(sub(r) for r in granted(worker, "sqs:SendMessage")) == [
        f"{account}:orders",
        f"{account}:payments.fifo",
    ]
    # And by default (no dlqNamePatterns, DLQ_QUEUES "*") DLQ rights stop at queues whose name
    # ends like a DLQ's (test_least_privilege.py checks those patterns against queue names)
    _, default_worker = role_of(template, "handlers/worker.handler")
    assert {sub(r) for r in granted(default_worker, "sqs:DeleteMessage")} == {
        f"{account}:*-dlq",
        f"{account}:*-dlq.fifo",
        f"{account}:*_dlq",
        f"{account}:*_dlq.fifo",
        f"{account}:*-DLQ",
        f"{account}:*-DLQ.fifo",
        f"{account}:*_DLQ",
        f"{account}:*_DLQ.fifo",
    }


def test_the_slack_endpoint_cannot_touch_any_queue_or_table(template: Template) -> None:
    # It only verifies, acks and hands work to the worker.
    _, slack = role_of(template, "handlers/slack.handler")
    actions = [a for s in statements(slack) for a in as_list(s["Action"])]
    assert not [a for a in actions if a.startswith(("sqs:", "dynamodb:"))]


def test_functions_may_invoke_only_this_stack_s_functions(template: Template) -> None:
    lambda_arn = f"{SUB_PREFIX}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:"
    _, slack = role_of(template, "handlers/slack.handler")
    _, worker = role_of(template, "handlers/worker.handler")
    _, daily = role_of(template, "handlers/daily.handler")
    _, failed = role_of(template, "handlers/failed.handler")
    # The endpoint hands work to the worker; the worker and the daily job continue themselves,
    # and Lambda hands their failures to `failed` with their role (the on-failure destination).
    assert [sub(r) for r in granted(slack, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-worker"
    ]
    assert [sub(r) for r in granted(worker, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-worker",
        f"{lambda_arn}dlq-redrive-dev-failed",
    ]
    assert [sub(r) for r in granted(daily, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-daily",
        f"{lambda_arn}dlq-redrive-dev-failed",
    ]
    assert granted(failed, "lambda:InvokeFunction") == []
    # The alert checks are started by their schedule alone and start nothing
    _, alerts = role_of(template, "handlers/alerts.handler")
    assert granted(alerts, "lambda:InvokeFunction") == []
    names = {
        f["Properties"]["FunctionName"]
        for f in resources(template, "AWS::Lambda::Function").values()
    }
    assert names == {f"dlq-redrive-dev-{name}" for name in NAMES}


def test_dynamodb_access_is_limited_to_the_state_table(template: Template) -> None:
    for handler in ("handlers/worker.handler", "handlers/daily.handler", "handlers/failed.handler"):
        _, role = role_of(template, handler)
        dynamo = [
            s
            for s in statements(role)
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        assert dynamo, handler
        for statement in dynamo:
            assert as_list(statement["Resource"]) == [{"Fn::GetAtt": ["StateTable", "Arn"]}]


def test_only_the_endpoint_reads_the_signing_secret_and_every_function_the_bot_token(
    template: Template, narrowed_template: Template
) -> None:
    parameter_arn = f"{SUB_PREFIX}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/"
    token = f"{parameter_arn}dlq-redrive/dev/slack-bot-token"
    secret = f"{parameter_arn}dlq-redrive/dev/slack-signing-secret"
    # The endpoint verifies Slack's requests: it alone reads the signing secret
    _, slack = role_of(template, "handlers/slack.handler")
    assert sorted(sub(r) for r in granted(slack, "ssm:GetParameter")) == [token, secret]
    # The worker, the daily report and `failed` only post to Slack: the bot token alone
    for handler in HANDLERS[1:]:
        _, role = role_of(template, handler)
        assert [sub(r) for r in granted(role, "ssm:GetParameter")] == [token], handler
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        ssm_actions = {a for s in statements(role) for a in as_list(s["Action"]) if "ssm:" in a}
        assert ssm_actions == {"ssm:GetParameter"}
    # A parameter name with or without its leading "/" gives the same ARN shape.
    _, narrowed = role_of(narrowed_template, "handlers/slack.handler")
    assert sorted(sub(r) for r in granted(narrowed, "ssm:GetParameter")) == [
        f"{parameter_arn}team-bot-token",
        f"{parameter_arn}team/signing-secret",
    ]


def kms_statements(role: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The role's KMS statements, by the service they are allowed through and their action."""
    found = {}
    for statement in statements(role):
        for action in as_list(statement["Action"]):
            if action.startswith("kms:"):
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"]
                found[via.split(".")[0], action] = statement
    return found


VIA_SQS = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}}}


def test_kms_is_only_usable_through_ssm_and_through_sqs(
    template: Template, narrowed_template: Template
) -> None:
    any_key = [f"{SUB_PREFIX}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/*"]
    expected = {
        # SecureStrings only: no queue
        "handlers/slack.handler": {("ssm", "kms:Decrypt")},
        "handlers/failed.handler": {("ssm", "kms:Decrypt")},
        # Queue attributes and counts need no key, even of an encrypted queue
        "handlers/alerts.handler": {("ssm", "kms:Decrypt")},
        # Receives from encrypted DLQs and sends to encrypted sources
        "handlers/worker.handler": {
            ("ssm", "kms:Decrypt"),
            ("sqs", "kms:Decrypt"),
            ("sqs", "kms:GenerateDataKey"),
        },
        # By default the daily job only reports: it receives, never sends
        "handlers/daily.handler": {("ssm", "kms:Decrypt"), ("sqs", "kms:Decrypt")},
    }
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        kms = kms_statements(role)
        assert set(kms) == expected[handler], handler
        # Every function decrypts its SecureStrings, only through SSM
        assert kms["ssm", "kms:Decrypt"]["Condition"] == {
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}
        }
        # Queue keys only through SQS; by default any key of this account and region
        for (via, _), statement in kms.items():
            if via == "sqs":
                assert statement["Condition"] == VIA_SQS
                assert [sub(r) for r in as_list(statement["Resource"])] == any_key
    # A stage naming its keys gets exactly those: an id here, an ARN in another account
    _, narrowed = role_of(narrowed_template, "handlers/worker.handler")
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert as_list(kms_statements(narrowed)["sqs", action]["Resource"]) == [
            {
                "Fn::Sub": f"{SUB_PREFIX}:kms:${{AWS::Region}}:${{AWS::AccountId}}"
                ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
            },
            "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
        ]


def test_functions_write_logs_only_to_their_own_log_group(template: Template) -> None:
    for handler, name in zip(HANDLERS, NAMES, strict=True):
        _, role = role_of(template, handler)
        assert [sub(r) for r in granted(role, "logs:PutLogEvents")] == [
            f"{SUB_PREFIX}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:"
            f"/aws/lambda/dlq-redrive-dev-{name}:*"
        ]


def test_the_state_table_is_the_one_bot_state_table_json_defines(template: Template) -> None:
    # Given the one definition the local set-up also uses
    definition = table_definition()
    # When the stack creates the table
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    # Then keys, billing and TTL are that definition's, and it can be restored to any point
    assert props["KeySchema"] == definition["KeySchema"]
    assert props["AttributeDefinitions"] == definition["AttributeDefinitions"]
    assert props["BillingMode"] == definition["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": definition["TimeToLiveAttribute"],
        "Enabled": True,
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # And deleting the stack never deletes pending approvals with it
    assert table["DeletionPolicy"] == "Retain"
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        assert env["STATE_TABLE"] == props["TableName"] == "dlq-redrive-dev-state"


def test_no_secret_value_reaches_the_template(template_path: Path, template: Template) -> None:
    # Given a deployer whose shell still exports the Slack secrets (conftest)
    text = template_path.read_text(encoding="utf-8")
    # Then neither value, nor anything shaped like a Slack token, is in the template
    for secret in DEPLOYER_SECRETS.values():
        assert secret not in text
    assert not re.search(r"xox[abposr]-", text)
    # And functions are told where the secrets are (SSM and Secrets Manager names), never the
    # secrets themselves, and only the endpoint where the signing secret is
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        assert not SECRET_VARIABLES & env.keys()
        assert env["SLACK_BOT_TOKEN_PARAM"] == "/dlq-redrive/dev/slack-bot-token"
    slack_env = function(template, "handlers/slack.handler")["Environment"]["Variables"]
    assert slack_env["SLACK_SIGNING_SECRET_PARAM"] == "/dlq-redrive/dev/slack-signing-secret"


def configuration_variables() -> set[str]:
    """Every variable bot/config.py reads: string constants passed next to ``env``."""
    tree = ast.parse((ROOT / "bot" / "config.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        reads_env = (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        ) or any(isinstance(arg, ast.Name) and arg.id == "env" for arg in node.args)
        if reads_env:
            names |= {
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and re.fullmatch(r"[A-Z][A-Z0-9_]+", arg.value)
            }
    return names


def test_every_setting_bot_config_reads_is_set_by_the_stack(template: Template) -> None:
    # Given every variable bot/config.py reads (so a new setting cannot be forgotten here)
    expected = configuration_variables() - SECRET_VARIABLES
    assert {"DLQ_QUEUES", "TIMEZONE", "REPORT_CHANNEL", "SLACK_BOT_TOKEN_PARAM"} <= expected
    assert {"SLACK_TEAM_ID", "SLACK_ENTERPRISE_ID", "VIEWERS", "JOB_SIGNING_KEY_SECRET"} <= expected
    # Then each deployed function gets each of them, except where a secret is, which only the
    # functions that read that secret are told
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        wanted = {name for name in expected if handler in ONLY_FOR.get(name, {handler})}
        assert not wanted - env.keys(), handler
        assert not (expected - wanted) & env.keys(), handler


@pytest.mark.parametrize("handler", HANDLERS)
def test_functions_run_the_artifact_make_package_builds(template: Template, handler: str) -> None:
    code = function(template, handler)["Code"]
    assert code["S3Key"].endswith("/dlq-redrive.zip")


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("reportChannel", "REPORT_CHANNEL"),
        ("slackTeamId", "SLACK_TEAM_ID"),
        ("sourceNamePatterns", "sourceNamePatterns is not set"),
    ],
)
def test_deploying_without_a_required_setting_fails_naming_it(
    tmp_path: Path, artifact: Path, missing: str, named: str
) -> None:
    # Given a deployer who forgot one of the parameters that have no default
    params = [p for p in REQUIRED_PARAMS if not p.startswith(f"{missing}=")]
    assert len(params) == len(REQUIRED_PARAMS) - 1
    result = run_osls_package(tmp_path, *params)
    # Then packaging stops (not at 06:00 or on the first click) and says which one is missing
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert not (tmp_path / "cloudformation-template-update-stack.json").exists()
