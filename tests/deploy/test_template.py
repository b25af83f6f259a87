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
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.daily.events import parse_time
from bot.state_schema import table_definition
from tests.deploy.conftest import DEPLOYER_SECRETS
from tests.deploy.tooling import ROOT, run_osls_package

Template = dict[str, Any]

SUB_PREFIX = "arn:${AWS::Partition}"
DLQ_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:StartMessageMoveTask",
    "sqs:CancelMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:ListDeadLetterSourceQueues",
}
# Variables a deployed function must never be given directly (they live in SSM).
SECRET_VARIABLES = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


def resources(template: Template, kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function(template: Template, handler: str) -> dict[str, Any]:
    (found,) = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
    ]
    return found


def role_of(template: Template, handler: str) -> tuple[str, dict[str, Any]]:
    logical_id = function(template, handler)["Role"]["Fn::GetAtt"][0]
    return logical_id, template["Resources"][logical_id]


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


HANDLERS = ("handlers/slack.handler", "handlers/worker.handler", "handlers/daily.handler")


def test_the_template_passes_cfn_lint(template_path: Path) -> None:
    # Given the packaged template / When cfn-lint checks it (W3005, a redundant DependsOn the
    # framework itself writes, is the only rule ignored) / Then it reports nothing
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--ignore-checks",
            "W3005",
            "--",
            str(template_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_three_functions_run_python_312_with_fitting_timeouts(template: Template) -> None:
    slack, worker, daily = (function(template, handler) for handler in HANDLERS)
    for props in (slack, worker, daily):
        assert props["Runtime"] == "python3.12"
    # The endpoint must answer Slack within 3 s; slow work has the full Lambda budget.
    assert slack["Timeout"] <= 10
    assert worker["Timeout"] == 900
    assert daily["Timeout"] == 900


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
    (default,) = resources(template, "AWS::Scheduler::Schedule").values()
    (paris,) = resources(narrowed_template, "AWS::Scheduler::Schedule").values()
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
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
    payload = json.loads(schedule["Properties"]["Target"]["Input"])
    assert payload == {"time": "<aws.scheduler.scheduled-time>"}
    delivered = {"time": "2026-11-25T06:00:00Z"}  # Scheduler's substitution (ISO 8601, UTC)
    # Then the daily job reads its day from it, not from the wall clock
    assert parse_time(delivered["time"]).isoformat() == "2026-11-25T06:00:00+00:00"


def test_the_scheduler_role_may_only_invoke_the_daily_function(template: Template) -> None:
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
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
    roles = [role_of(template, handler)[0] for handler in HANDLERS]
    assert len(set(roles)) == 3
    assert "IamRoleLambdaExecution" not in template["Resources"]


def test_no_statement_grants_a_wildcard_action(template: Template) -> None:
    roles = resources(template, "AWS::IAM::Role").values()
    actions = [a for role in roles for s in statements(role) for a in as_list(s["Action"])]
    assert actions
    assert not [a for a in actions if "*" in a]
    assert all(s["Effect"] == "Allow" for role in roles for s in statements(role))


def test_resource_star_is_only_used_for_sqs_list_queues(template: Template) -> None:
    for role in resources(template, "AWS::IAM::Role").values():
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
    # And by default (no --param) DLQ rights stop at queues named like a DLQ in this account
    _, default_worker = role_of(template, "handlers/worker.handler")
    assert [sub(r) for r in granted(default_worker, "sqs:DeleteMessage")] == [f"{account}:*-dlq*"]


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
    # The endpoint hands work to the worker; the worker and the daily job continue themselves.
    assert [sub(r) for r in granted(slack, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-worker"
    ]
    assert [sub(r) for r in granted(worker, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-worker"
    ]
    assert [sub(r) for r in granted(daily, "lambda:InvokeFunction")] == [
        f"{lambda_arn}dlq-redrive-dev-daily"
    ]
    names = {
        f["Properties"]["FunctionName"]
        for f in resources(template, "AWS::Lambda::Function").values()
    }
    assert {"dlq-redrive-dev-worker", "dlq-redrive-dev-daily"} <= names


def test_dynamodb_access_is_limited_to_the_state_table(template: Template) -> None:
    for handler in ("handlers/worker.handler", "handlers/daily.handler"):
        _, role = role_of(template, handler)
        dynamo = [
            s
            for s in statements(role)
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        assert dynamo, handler
        for statement in dynamo:
            assert as_list(statement["Resource"]) == [{"Fn::GetAtt": ["StateTable", "Arn"]}]


def test_ssm_access_is_limited_to_the_two_slack_parameters(
    template: Template, narrowed_template: Template
) -> None:
    parameter_arn = f"{SUB_PREFIX}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/"
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        assert sorted(sub(r) for r in granted(role, "ssm:GetParameter")) == [
            f"{parameter_arn}dlq-redrive/dev/slack-bot-token",
            f"{parameter_arn}dlq-redrive/dev/slack-signing-secret",
        ]
        ssm_actions = {a for s in statements(role) for a in as_list(s["Action"]) if "ssm:" in a}
        assert ssm_actions == {"ssm:GetParameter"}
    # A parameter name with or without its leading "/" gives the same ARN shape.
    _, narrowed = role_of(narrowed_template, "handlers/slack.handler")
    assert sorted(sub(r) for r in granted(narrowed, "ssm:GetParameter")) == [
        f"{parameter_arn}team-bot-token",
        f"{parameter_arn}team/signing-secret",
    ]


def kms_statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The role's KMS statements, by the service they are allowed through."""
    found = {}
    for statement in statements(role):
        if any(a.startswith("kms:") for a in as_list(statement["Action"])):
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"]
            found[via.split(".")[0]] = statement
    return found


def test_kms_is_only_usable_through_ssm_and_through_sqs(
    template: Template, narrowed_template: Template
) -> None:
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        kms = kms_statements(role)
        # Every function decrypts its SecureStrings, only through SSM
        assert kms["ssm"]["Action"] == ["kms:Decrypt"]
        assert kms["ssm"]["Condition"] == {
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}
        }
        # The queue-handling functions read and write encrypted queues, only through SQS
        if handler == "handlers/slack.handler":
            assert set(kms) == {"ssm"}
            continue
        assert set(kms) == {"ssm", "sqs"}
        assert sorted(kms["sqs"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert kms["sqs"]["Condition"] == {
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}}
        }
        # By default any key of this account and region (still only through SQS)
        assert [sub(r) for r in as_list(kms["sqs"]["Resource"])] == [
            f"{SUB_PREFIX}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/*"
        ]
    # A stage naming its keys gets exactly those: an id here, an ARN in another account
    _, narrowed = role_of(narrowed_template, "handlers/worker.handler")
    keys = as_list(kms_statements(narrowed)["sqs"]["Resource"])
    assert keys == [
        {
            "Fn::Sub": f"{SUB_PREFIX}:kms:${{AWS::Region}}:${{AWS::AccountId}}"
            ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
        },
        "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
    ]


def test_functions_write_logs_only_to_their_own_log_group(template: Template) -> None:
    for handler, name in zip(HANDLERS, ("slack", "worker", "daily"), strict=True):
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
    # And functions are told where the secrets are (SSM names), never the secrets themselves
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        assert not SECRET_VARIABLES & env.keys()
        assert env["SLACK_BOT_TOKEN_PARAM"] == "/dlq-redrive/dev/slack-bot-token"
        assert env["SLACK_SIGNING_SECRET_PARAM"] == "/dlq-redrive/dev/slack-signing-secret"


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
    # Then each deployed function gets each of them from a stack parameter
    for handler in HANDLERS:
        env = function(template, handler)["Environment"]["Variables"]
        assert not expected - env.keys(), handler


@pytest.mark.parametrize("handler", HANDLERS)
def test_functions_run_the_artifact_make_package_builds(template: Template, handler: str) -> None:
    code = function(template, handler)["Code"]
    assert code["S3Key"].endswith("/dlq-redrive.zip")


def test_deploying_without_the_report_channel_fails_naming_it(
    tmp_path: Path, artifact: Path
) -> None:
    # Given a deployer who forgot --param reportChannel=...
    result = run_osls_package(tmp_path)
    # Then packaging stops (not every morning at 06:00) and says which setting is missing
    assert result.returncode != 0
    assert "REPORT_CHANNEL" in result.stdout + result.stderr
    assert not (tmp_path / "cloudformation-template-update-stack.json").exists()
