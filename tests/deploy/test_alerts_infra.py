"""The alert checks between reports (issue 14), as deployed: their schedule, their two roles and
their settings, read from the template `npx osls package` builds (no AWS credentials, conftest).

The alerts function reads counts every few minutes and posts to Slack: its role may list queues,
read queue attributes, read and write its own items of the state table and read the bot token,
and nothing else (no message is received, sent or deleted by it); the schedule that starts it
assumes a role of its own that may invoke it and nothing else.
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.alerts import job as alert_job
from bot.alerts import store as alert_store
from bot.alerts.job import AlertJob, AlertParts, AlertPosts
from bot.alerts.store import AlertStore, FedDlqStore
from bot.alerts.watch import AlertWatch
from bot.config import MAX_ALERT_QUIET_MINUTES, AlertSettings, EngineSettings
from bot.daily import lease, snapshots
from bot.daily.lease import LeaseStore
from bot.daily.posting import ReportPoster
from bot.daily.run_state import RunState
from bot.errors import AwsError
from bot.state_table_api import key
from infra.local.lambda_server import LocalLambdaContext
from tests.deploy import tooling
from tests.deploy.conftest import REQUIRED_PARAMS
from tests.deploy.test_issue11_privilege_attacks import RoleTable
from tests.deploy.test_least_privilege import calls, code_of
from tests.deploy.test_scanners import IAM_CHECKS, run_cfn_lint, run_checkov
from tests.deploy.test_template import (
    SUB_PREFIX,
    Template,
    as_list,
    function,
    resources,
    role_named,
    role_of,
    schedule_of,
    statements,
    sub,
)
from tests.deploy.tooling import ROOT, package_refused
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.fake_sqs import FakeSqs
from tests.unit.fake_state_table import FakeStateTable

ALERTS = "handlers/alerts.handler"
ACCOUNT = "${AWS::Region}:${AWS::AccountId}"

# A stage with every alert setting given, and every other kind and auto-redrive on: none of these
# may widen the alert role.
ALERT_PARAMS = (
    *REQUIRED_PARAMS,
    "alertCheckMinutes=1",
    "alertThreshold=25",
    "alertGrowth=3",
    "alertQuietMinutes=15",
    "alertChannel=C0ALERTS",
    "autoRedrive=*",
    "snsTopicPatterns=orders-events",
    "eventRulePatterns=orders-rule",
    "lambdaFunctionPatterns=orders-handler",
)


@pytest.fixture(scope="module")
def alert_template_path(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tooling.osls_package(tmp_path_factory.mktemp("osls-alerts"), *ALERT_PARAMS)


@pytest.fixture(scope="module")
def alert_template(alert_template_path: Path) -> Template:
    return tooling.load_template(alert_template_path)


def env_of(template: Template) -> dict[str, Any]:
    variables: dict[str, Any] = function(template, ALERTS)["Environment"]["Variables"]
    return variables


def right(action: str, resource: Any, condition: Any = None) -> tuple[str, str]:
    """One allowed action on one resource under one condition, comparable as text."""
    return action, f"{json.dumps(resource, sort_keys=True)} {json.dumps(condition, sort_keys=True)}"


def rights(template: Template) -> set[tuple[str, str]]:
    """Every right of the alerts role, as deployed (its conditional statements decided)."""
    _, role = role_of(template, ALERTS)
    assert all(statement["Effect"] == "Allow" for statement in statements(role))
    return {
        right(action, resource, statement.get("Condition"))
        for statement in statements(role)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def test_the_alert_checks_run_on_their_own_schedule_with_their_scheduled_time(
    template: Template, alert_template: Template
) -> None:
    # Given the default stage's second schedule (the first is the daily report's)
    schedule = schedule_of(template, "AlertsLambdaFunction")["Properties"]
    # Then it starts the alerts function every 5 minutes (alertCheckMinutes' default), at once
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["State"] == "ENABLED"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # And hands it the time it was scheduled for, which Scheduler fills in (a duplicate delivery
    # of one check carries the same time)
    assert json.loads(schedule["Target"]["Input"]) == {"time": "<aws.scheduler.scheduled-time>"}
    # And assumes the alert scheduler role, not the daily report's
    assert schedule["Target"]["RoleArn"] == {"Fn::GetAtt": ["AlertSchedulerRole", "Arn"]}
    daily = schedule_of(template, "DailyLambdaFunction")["Properties"]
    assert daily["Target"]["RoleArn"] == {"Fn::GetAtt": ["DailySchedulerRole", "Arn"]}
    assert len(resources(template, "AWS::Scheduler::Schedule")) == 2
    # Given alertCheckMinutes=1: a rate expression's unit is singular for 1 (EventBridge's "Rate
    # expressions reference": "rate(1 minutes)" is refused)
    fast = schedule_of(alert_template, "AlertsLambdaFunction")["Properties"]
    assert fast["ScheduleExpression"] == "rate(1 minute)"


def test_the_alert_scheduler_role_may_only_invoke_the_alerts_function(template: Template) -> None:
    role = role_named(template, "AlertSchedulerRole")["Properties"]
    # Only EventBridge Scheduler, on this account's behalf, may assume it
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # And it may invoke the alerts function, unqualified, and nothing else
    (statement,) = statements(role_named(template, "AlertSchedulerRole"))
    assert as_list(statement["Action"]) == ["lambda:InvokeFunction"]
    assert [sub(r) for r in as_list(statement["Resource"])] == [
        f"{SUB_PREFIX}:lambda:{ACCOUNT}:function:dlq-redrive-dev-alerts"
    ]
    # While the daily report's scheduler role still reaches the daily function alone
    (daily,) = statements(role_named(template, "DailySchedulerRole"))
    assert [sub(r) for r in as_list(daily["Resource"])] == [
        f"{SUB_PREFIX}:lambda:{ACCOUNT}:function:dlq-redrive-dev-daily"
    ]


STATE_TABLE = {"Fn::GetAtt": ["StateTable", "Arn"]}
# The partition keys the alert checks' code uses, built from the code's own constants: the alert
# states and the fed DLQs (bot/alerts/store.py), and each check's lease and post records, the
# daily report's kinds of item under "alert#<scheduled time>" (bot/alerts/job.py).
OWN_ITEMS = {
    "ForAllValues:StringLike": {
        "dynamodb:LeadingKeys": [
            alert_store.ALERTS,
            alert_store.WATCH,
            f"{lease.PREFIX}{alert_job.LEASE_PREFIX}*",
            f"{snapshots.RUN_PREFIX}{alert_job.RUN_PREFIX}*",
        ]
    },
    "Null": {"dynamodb:LeadingKeys": "false"},
}
VIA_SSM = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}}


def expected_rights(bot_token_parameter: str) -> set[tuple[str, str]]:
    """Exactly what the alert checks need, as (action, resource + condition) pairs."""

    def arn(text: str) -> dict[str, str]:
        return {"Fn::Sub": f"{SUB_PREFIX}:{text}"}

    return {
        # Their own log group
        *(
            right(action, arn(f"logs:{ACCOUNT}:log-group:/aws/lambda/dlq-redrive-dev-alerts:*"))
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        ),
        # The bot token, decrypted only through SSM
        right("ssm:GetParameter", arn(f"ssm:{ACCOUNT}:parameter/{bot_token_parameter}")),
        right("kms:Decrypt", arn(f"kms:{ACCOUNT}:key/*"), VIA_SSM),
        # Counts: the queues (ListQueues takes no narrower resource) and their attributes
        right("sqs:ListQueues", "*"),
        right("sqs:GetQueueUrl", arn(f"sqs:{ACCOUNT}:*")),
        right("sqs:GetQueueAttributes", arn(f"sqs:{ACCOUNT}:*")),
        # Their own items of the state table
        *(
            right(action, STATE_TABLE, OWN_ITEMS)
            for action in (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:Query",
            )
        ),
    }


# What the alert checks never do: touch a message, or read any other DLQ kind's feeders.
MESSAGE_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:PurgeQueue",
}


@pytest.mark.parametrize("stage", ["default", "narrowed", "alerts, kinds and auto-redrive on"])
def test_the_alert_role_has_exactly_its_rights_and_never_a_message_one(
    stage: str, template: Template, narrowed_template: Template, alert_template: Template
) -> None:
    # Given a stage: the default one, one narrowed (auto-redrive on, KMS keys named), or one
    # with every alert setting, every other DLQ kind and auto-redrive of all DLQs on
    stack = {"default": template, "narrowed": narrowed_template}.get(stage, alert_template)
    token = "team-bot-token" if stage == "narrowed" else "dlq-redrive/dev/slack-bot-token"
    # Then the alerts role has exactly the rights the checks use, whatever else is on
    assert rights(stack) == expected_rights(token)
    # And in particular no message right, no other kind's, no other function, secret or bucket
    actions = {action for action, _ in rights(stack)}
    assert not actions & MESSAGE_ACTIONS
    assert not {a for a in actions if a.split(":")[0] in {"sns", "events", "lambda", "s3"}}
    assert not {a for a in actions if a.startswith("secretsmanager:")}


def test_alerts_turned_off_stop_the_checks_and_keep_everything_else(
    tmp_path: Path, artifact: Path, template: Template
) -> None:
    # Given a stage whose operators turned the alerts off, without removing the stack
    off = tooling.load_template(
        tooling.osls_package(tmp_path, *REQUIRED_PARAMS, "alertsEnabled=false")
    )
    # Then the alert schedule is created DISABLED: EventBridge Scheduler starts no check
    # (Scheduler's CreateSchedule: "State: Specifies whether the schedule is enabled or disabled")
    schedule = schedule_of(off, "AlertsLambdaFunction")["Properties"]
    assert schedule["State"] == "DISABLED"
    # And it is the same schedule otherwise, so turning alerts back on is a parameter away
    on = schedule_of(template, "AlertsLambdaFunction")["Properties"]
    assert {k: v for k, v in schedule.items() if k != "State"} == {
        k: v for k, v in on.items() if k != "State"
    }
    assert on["State"] == "ENABLED"
    # And nothing else changes: the daily report still runs, the alerts function keeps its role,
    # its rights and its settings (the alert states in the state table stay too)
    assert schedule_of(off, "DailyLambdaFunction")["Properties"]["State"] == "ENABLED"
    assert rights(off) == rights(template)
    assert env_of(off) == env_of(template)


def test_one_check_runs_at_a_time_is_not_retried_and_is_dropped_when_the_next_is_due(
    template: Template, alert_template: Template
) -> None:
    props = function(template, ALERTS)
    # One check at a time (a slow one holds the next back instead of racing it), within a minute
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Timeout"] <= 60
    assert props["Runtime"] == "python3.12"
    # Given its asynchronous invoke configuration (EventBridge Scheduler invokes it so)
    for stack, interval_s in ((template, 5 * 60), (alert_template, 60)):
        (config,) = [
            r["Properties"]
            for r in resources(stack, "AWS::Lambda::EventInvokeConfig").values()
            if r["Properties"]["FunctionName"] == {"Ref": "AlertsLambdaFunction"}
        ]
        # Then a failed check is not retried (the next one reads every count again) and an
        # event that waited a whole interval is dropped (the next check is due)
        assert config["MaximumRetryAttempts"] == 0
        assert config["MaximumEventAgeInSeconds"] == interval_s
        assert config["DestinationConfig"] == {}


def test_the_alert_settings_are_stack_parameters_the_check_reads(
    template: Template, alert_template: Template
) -> None:
    # Given the default stage: the settings bot/config.py reads, the channel left to the report's
    assert AlertSettings.from_env(env_of(template)) == AlertSettings(
        channel="C0REPORT", threshold=1, growth=10, quiet_minutes=60
    )
    assert env_of(template)["ALERT_CHANNEL"] == ""
    # Given every setting named: each reaches the check as given
    assert AlertSettings.from_env(env_of(alert_template)) == AlertSettings(
        channel="C0ALERTS", threshold=25, growth=3, quiet_minutes=15
    )
    # And no other function is told them
    for handler in ("handlers/slack.handler", "handlers/worker.handler", "handlers/daily.handler"):
        env = function(alert_template, handler)["Environment"]["Variables"]
        assert not [name for name in env if name.startswith("ALERT_")], handler


def test_cfn_lint_and_checkov_find_nothing_on_the_everything_on_stage(
    alert_template_path: Path,
) -> None:
    # Given the stage with a check every minute (the shortest event age Lambda takes, 60 s),
    # every kind and auto-redrive on (the default and narrowed stages: test_scanners.py)
    # Then cfn-lint reports nothing
    result = run_cfn_lint(alert_template_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # And checkov fails no check and skips none of its IAM checks
    report = run_checkov(alert_template_path)
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0
    assert not {c["check_id"] for c in report["results"]["skipped_checks"]} & IAM_CHECKS


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("alertCheckMinutes=0", "alertCheckMinutes must be a whole number from 1 to 60"),
        ("alertCheckMinutes=90", "alertCheckMinutes must be a whole number from 1 to 60"),
        ("alertThreshold=0", "alertThreshold must be a whole number from 1 to"),
        ("alertGrowth=ten", 'alertGrowth must be a whole number from 1 to 1000000000, not "ten"'),
        (
            f"alertQuietMinutes={MAX_ALERT_QUIET_MINUTES + 1}",
            f"alertQuietMinutes must be a whole number from 1 to {MAX_ALERT_QUIET_MINUTES}",
        ),
        ("alertChannel=#dlq-alerts", 'alertChannel "#dlq-alerts" is not a Slack channel id'),
        ("alertChannel=U0SOMEONE", 'alertChannel "U0SOMEONE" is not a Slack channel id'),
        ("alertsEnabled=no", 'alertsEnabled must be "true" or "false", not "no"'),
        ("alertsEnabled=0", 'alertsEnabled must be "true" or "false", not "0"'),
    ],
)
def test_packaging_refuses_an_alert_setting_the_check_would_refuse(
    tmp_path: Path, artifact: Path, param: str, message: str
) -> None:
    # Given a deployer who mistypes an alert setting
    printed = package_refused(tmp_path, *REQUIRED_PARAMS, param)
    # Then packaging stops and names it, rather than a check failing every few minutes after
    assert message in printed


# --- the role as DynamoDB enforces it, on the alert checks' real code ---------------------------

CHECK_TIME = datetime(2026, 3, 11, 3, 5, tzinfo=UTC)


def alert_job_as(table: RoleTable, sqs: FakeSqs, slack: FakeSlackGateway) -> AlertJob:
    """The alert job of ``bot.composition.build_alert_job``, its state table seen as ``table``'s
    role, on in-memory SQS and Slack."""
    settings = AlertSettings(channel="C0ALERTS")
    return AlertJob(
        AlertParts(
            watch=AlertWatch(sqs, EngineSettings.from_env({"TIMEZONE": "UTC"}), FedDlqStore(table)),
            store=AlertStore(table),
            poster=ReportPoster(
                slack,
                AlertPosts(RunState(table)),
                settings.channel,
                lambda: CHECK_TIME,
                event_type=alert_job.EVENT_TYPE,
            ),
            leases=LeaseStore(table),
            settings=settings,
            timezone=ZoneInfo("UTC"),
            clock=lambda: CHECK_TIME,
        )
    )


def test_a_check_run_as_its_role_is_refused_nothing_and_reaches_no_daily_run(
    template: Template,
) -> None:
    # Given the alert checks' real code on a state table that refuses, as DynamoDB does, what
    # the deployed alerts role does not allow, and a DLQ that filled since the last report
    table = RoleTable.of(template, ALERTS, FakeStateTable())
    sqs, slack = FakeSqs(), FakeSlackGateway()
    dlq = sqs.create("orders-dlq")
    sqs.create("orders", dead_letter_to=dlq)
    for n in range(3):
        sqs.put(dlq, json.dumps({"order": n}))
    # When the check scheduled at 03:05 runs
    context = LocalLambdaContext("dlq-redrive-dev-alerts", 60.0, "check-1")
    alert_job_as(table, sqs, slack).handle({"time": "2026-03-11T03:05:00Z"}, context)
    # Then it alerted in the channel, and nothing it did was refused: lease, states, post records
    posts = [body for method, body in slack.calls if method == "chat.postMessage"]
    assert [post["channel"] for post in posts] == ["C0ALERTS"]
    assert "orders-dlq" in json.dumps(posts[0]["blocks"])
    assert table.denied == []
    written = {pk for pk, _ in table.table.items}
    assert {alert_store.ALERTS, f"{lease.PREFIX}alert#2026-03-11T03:05:00+00:00"} <= written
    # And the daily report's lease and post records of a run, its snapshots and the requests are
    # out of its reach (the same kinds of item, without the checks' "alert#" keys)
    daily_run = "2026-03-11T06:00:00+00:00"
    for pk, sk in (
        (f"{lease.PREFIX}report#{daily_run}", "lease"),
        (f"{snapshots.RUN_PREFIX}{daily_run}", "POST#report.1"),
        (f"{snapshots.PREFIX}orders-dlq", "2026-03-10"),
        ("REQUEST#r1", "request"),
    ):
        with pytest.raises(AwsError, match="not authorized to perform"):
            table.get(key(pk, sk), doing="read another function's item")


def test_the_daily_role_records_the_fed_dlqs_and_cannot_touch_an_alert_state(
    template: Template,
) -> None:
    # Given the daily report's role on the state table
    table = RoleTable.of(template, "handlers/daily.handler", FakeStateTable())
    # When its feeder scan records the DLQs only feeders feed (bot.alerts.store.record_fed_dlqs)
    fed = {"billing-dlq": "https://sqs.us-east-1.amazonaws.com/111122223333/billing-dlq"}
    FedDlqStore(table).record(fed, now=CHECK_TIME)
    # Then it may, and the alert checks read that very item with their own role
    assert table.denied == []
    alerts = RoleTable.of(template, ALERTS, table.table)
    assert FedDlqStore(alerts).read() == fed
    # But the daily report cannot read or write an alert state
    with pytest.raises(AwsError, match="not authorized to perform"):
        table.query(alert_store.ALERTS, doing="read the alert states")


# The SQS calls that touch a message: boto3's, and the gateway's methods around them
# (bot/sqs_gateway.py, which defines them all: what counts is who calls them).
MESSAGE_CALLS = {
    "receive_message",
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
    "receive",
    "send_batch",
    "delete_batch",
    "change_visibility_batch",
}


def message_calls(handler: str) -> set[str]:
    """The message calls in the code ``handler`` can run (imports followed into the definitions
    it uses, tests/deploy/test_least_privilege.py code_of), the SQS gateway's own aside."""
    return {
        name
        for path, nodes in code_of(handler).items()
        if path.relative_to(ROOT).as_posix() != "bot/sqs_gateway.py"
        for node in nodes
        for name, _ in calls(ast.Module(body=[node], type_ignores=[]), MESSAGE_CALLS)
    }


def test_no_code_the_alerts_function_runs_touches_a_message() -> None:
    # Given the code the alerts function can run / Then none of it receives, sends, deletes or
    # hides a message: the role's lack of those rights never fails a check
    assert message_calls(ALERTS) == set()
    # While the same reading finds them in the daily function's (it samples, and may redrive)
    assert {"receive", "send_batch", "delete_batch"} <= message_calls("handlers/daily.handler")
