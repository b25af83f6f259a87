"""Attacks on least privilege as deployed (issue 11, part 2), as an attacker or unlucky operator.

Queue settings: every combination below goes through infra/iam/arns.js exactly as osls calls it
when it packages serverless.yml (its ``dlqQueueArns`` / ``sourceQueueArns``, with the values osls
resolves for ``param:...``), a few of them through ``osls package`` itself; the IAM Resource
patterns it yields are evaluated with IAM's glob semantics against a table of queue names.
State table: each function's failure paths run on the in-memory state table behind a guard that
enforces the packaged role's actions and ``dynamodb:LeadingKeys`` as DynamoDB does. Scanners:
every checkov skip and cfn-lint ignore must be needed (without it, the finding comes back).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import DailySettings, EngineSettings
from bot.daily.builder import assemble_job
from bot.daily.failures import DailyFailures, record_daily_failure
from bot.daily.lease import FAILED, LeaseStore
from bot.daily.once import LeaseTiming
from bot.daily.posting import ReportPoster
from bot.daily.report_updates import ReportUpdates
from bot.daily.run_state import RunState
from bot.daily.snapshots import SnapshotStore
from bot.engine import RedriveEngine
from bot.errors import AwsError
from bot.redrive_ledger import StateTableRedriveLedger
from bot.slack.protocol import DecisionJob, JobSigner
from bot.state import StateStore
from bot.state_model import ApprovalRequest, RunRecord, RunStatus
from bot.state_schema import PARTITION_KEY
from bot.state_table_api import ConditionCheck, Item, Key, Put, Update, Write
from infra.local.lambda_server import LocalLambdaContext
from tests.deploy import test_scanners
from tests.deploy.test_least_privilege import code_calls, iam_glob_matches
from tests.deploy.test_template import (
    HANDLERS,
    Template,
    as_list,
    granted,
    resources,
    role_of,
    statements,
)
from tests.deploy.tooling import ROOT
from tests.unit.daily import test_daily_failures as daily_failures
from tests.unit.daily.fakes import CHANNEL, Stores
from tests.unit.fake_lambda import FakeLambda
from tests.unit.fake_slack import FakeSlackGateway
from tests.unit.fake_sqs import FakeSqs
from tests.unit.fake_state_table import FakeStateTable
from tests.unit.slack.worker_fakes import handle_failure_record, on_failure_record, started_run

# --- queue settings, as osls resolves them ----------------------------------------------------

# What osls resolves for each queue parameter left out (serverless.yml, params.default).
QUEUE_DEFAULTS = {"dlqQueues": "*", "dlqNamePatterns": "", "sourceNamePatterns": ""}
QUEUE_ARN_PREFIX = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"

# Run infra/iam/arns.js's two resolvers the way osls calls them (a `${file(...):name}` variable
# source is a function given `resolveVariable`); print the patterns or the error.
RESOLVE = """
const arns = require(process.argv[1]);
const params = JSON.parse(process.argv[2]);
const resolveVariable = async (variable) => params[variable.replace(/^param:/, '')];
const names = (arnList) => arnList.map((arn) => arn['Fn::Sub']);
Promise.all([arns.dlqQueueArns({ resolveVariable }), arns.sourceQueueArns({ resolveVariable })])
  .then(([dlqs, sources]) =>
    console.log(JSON.stringify({ dlqs: names(dlqs), sources: names(sources) })))
  .catch((error) => console.log(JSON.stringify({ error: error.message })));
"""


def run_node(script: str, module: str, arg: str) -> dict[str, Any]:
    """What ``script`` prints (JSON) when node runs it with ``module`` (a path below the
    repository) and ``arg`` as its arguments."""
    node = shutil.which("node")
    assert node, "node is not installed: install Node.js 20+ (see docs/deploy.md)"
    result = subprocess.run(
        [node, "-e", script, str(ROOT / module), arg],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def resolve_queue_params(params: dict[str, str]) -> dict[str, Any]:
    return run_node(RESOLVE, "infra/iam/arns.js", json.dumps({**QUEUE_DEFAULTS, **params}))


# Queue names an account may hold. DLQs (by their names) and working queues: a working queue
# named after its DLQ, the sources, and queues of other applications.
QUEUE_NAMES = [
    "orders-dlq",
    "orders-dlq.fifo",
    "orders_DLQ",
    "Orders-DLQ",
    "orders-Dlq",
    "payments-dlq.fifo",
    "orders-deadletter",
    "orders-dlq-processor",
    "orders-dlq-retry",
    "orders-dlq.fifo-consumer",
    "orders",
    "orders.fifo",
    "orders-1",
    "payments",
    "payments.fifo",
    "audit",
    "billing-events",
]


def reached(arns: Sequence[str]) -> set[str]:
    """The names of QUEUE_NAMES, queues of the stack's own account and region, whose ARN one of
    the Resource ``arns`` matches (IAM matches the whole ARN)."""
    return {
        name
        for name in QUEUE_NAMES
        if any(iam_glob_matches(arn, QUEUE_ARN_PREFIX + name) for arn in arns)
    }


DEFAULT_DLQS = {"orders-dlq", "orders-dlq.fifo", "orders_DLQ", "Orders-DLQ", "payments-dlq.fifo"}

# (parameters, the names DLQ rights reach, the names send rights reach)
ACCEPTED = [
    pytest.param(
        {"sourceNamePatterns": "orders,payments.fifo"},
        DEFAULT_DLQS,
        {"orders", "payments.fifo"},
        id="default-discovery",
    ),
    pytest.param(
        {"sourceNamePatterns": " orders , ,payments.fifo ", "dlqQueues": " , "},
        DEFAULT_DLQS,
        {"orders", "payments.fifo"},
        id="blanks-and-empty-entries",
    ),
    pytest.param(
        {"sourceNamePatterns": "orders", "dlqQueues": ""},
        DEFAULT_DLQS,
        {"orders"},
        id="empty-dlqQueues-discovers",
    ),
    pytest.param(
        {
            "sourceNamePatterns": "orders",
            # a local stand-in's URL (no IAM there) is taken by its name
            "dlqQueues": "Orders-DLQ,http://127.0.0.1:4566/000000000000/orders-dlq.fifo",
        },
        {"Orders-DLQ", "orders-dlq.fifo"},  # case-sensitive: not orders-dlq
        {"orders"},
        id="listed-mixed-case-and-local-url",
    ),
    pytest.param(
        {"sourceNamePatterns": "orders-?", "dlqNamePatterns": "*-dlq, *-deadletter"},
        {"orders-dlq", "orders-deadletter"},
        {"orders-1"},
        id="patterns-that-cannot-meet",
    ),
]


@pytest.mark.parametrize(("params", "dlq_names", "source_names"), ACCEPTED)
def test_accepted_queue_settings_reach_only_what_they_name(
    params: dict[str, str], dlq_names: set[str], source_names: set[str]
) -> None:
    # Given queue settings packaging accepts
    answer = resolve_queue_params(params)
    assert "error" not in answer, answer
    # Then the DLQ rights reach exactly the DLQs (never a working queue such as
    # orders-dlq-processor, orders-dlq-retry or a source)
    assert reached(answer["dlqs"]) == dlq_names
    # And sending reaches exactly the named sources, none of them a DLQ
    assert reached(answer["sources"]) == source_names
    assert not reached(answer["dlqs"]) & reached(answer["sources"])


def test_a_dlq_listed_by_url_or_arn_is_that_queue_in_its_own_account_and_region() -> None:
    # Given DLQs listed by name, by the URL and by the ARN of another account's queues, named
    # like this account's working queues
    answer = resolve_queue_params(
        {
            "sourceNamePatterns": "orders",
            "dlqQueues": "orders-dlq,https://sqs.us-east-1.amazonaws.com/999999999999/payments,"
            "arn:aws:sqs:eu-west-1:999999999999:audit",
        }
    )
    # Then the DLQ rights reach those queues where they are, and not this account's payments or
    # audit (by name alone they did)
    assert reached(answer["dlqs"]) == {"orders-dlq"}
    assert answer["dlqs"][1:] == [
        "arn:${AWS::Partition}:sqs:us-east-1:999999999999:payments",
        "arn:${AWS::Partition}:sqs:eu-west-1:999999999999:audit",
    ]


AUTO_REDRIVE_DLQS = """
const arns = require(process.argv[1]);
const params = JSON.parse(process.argv[2]);
const resolveVariable = async (variable) => params[variable.replace(/^param:/, '')];
arns.autoRedriveDlqArns({ resolveVariable })
  .then((list) => console.log(JSON.stringify({ dlqs: list.map((arn) => arn['Fn::Sub']) })))
  .catch((error) => console.log(JSON.stringify({ error: error.message })));
"""


def resolve_auto_redrive(params: dict[str, str]) -> dict[str, Any]:
    params = {**QUEUE_DEFAULTS, "sourceNamePatterns": "orders", **params}
    return run_node(AUTO_REDRIVE_DLQS, "infra/iam/arns.js", json.dumps(params))


@pytest.mark.parametrize(
    ("params", "deletes_from"),
    [
        ({"autoRedrive": "orders-dlq"}, {"orders-dlq"}),
        ({"autoRedrive": "orders-dlq, orders_DLQ"}, {"orders-dlq", "orders_DLQ"}),
        ({"autoRedrive": "*"}, DEFAULT_DLQS),
        ({"autoRedrive": "Orders-DLQ", "dlqQueues": "Orders-DLQ,orders-dlq"}, {"Orders-DLQ"}),
    ],
)
def test_the_daily_auto_redrive_deletes_only_from_the_dlqs_it_names(
    params: dict[str, str], deletes_from: set[str]
) -> None:
    # Given AUTO_REDRIVE naming some of the watched DLQs (bot/daily/report_run.py redrives
    # those alone), the daily role's delete right (under the AutoRedriveEnabled condition)
    answer = resolve_auto_redrive(params)
    # Then it reaches those DLQs only (it reached every DLQ before)
    assert reached(answer["dlqs"]) == deletes_from


@pytest.mark.parametrize(
    ("auto", "message"),
    [
        ("orders", 'autoRedrive "orders" names a queue no DLQ pattern covers'),
        ("orders-dlq-processor", "names a queue no DLQ pattern covers"),
        ("orders-dlq*", 'autoRedrive "orders-dlq*" lists something that is not a DLQ name'),
        ("orders-dlq,*", 'autoRedrive "*" lists something that is not a DLQ name'),
    ],
)
def test_an_auto_redrive_of_a_working_queue_stops_packaging(auto: str, message: str) -> None:
    assert message in resolve_auto_redrive({"autoRedrive": auto}).get("error", "")


# (parameters, what packaging says): each would have given a right beyond what was named.
REFUSED = [
    # DLQ_QUEUES is read by the functions as exact names; as IAM patterns these reached the
    # working queue orders-dlq-processor (or every queue)
    ({"dlqQueues": "*-dlq*"}, 'dlqQueues "*-dlq*" lists something that is not a queue name'),
    ({"dlqQueues": "orders-dlq*"}, 'dlqQueues "orders-dlq*" lists something'),
    ({"dlqQueues": "orders-dlq?"}, 'dlqQueues "orders-dlq?" lists something'),
    ({"dlqQueues": "arn:aws:sqs:eu-west-1:111122223333:orders*"}, 'dlqQueues "orders*"'),
    ({"dlqQueues": "orders-dlq,*"}, 'dlqQueues "*" lists something'),  # the functions refuse it
    ({"dlqQueues": "orders[-]dlq"}, 'dlqQueues "orders[-]dlq" lists something'),
    ({"dlqQueues": "orders dlq"}, 'dlqQueues "orders dlq" lists something'),
    # DLQ patterns that end in a wildcard match a working queue named after the DLQ
    ({"dlqNamePatterns": "*-dlq*"}, 'dlqNamePatterns "*-dlq*" ends in a wildcard'),
    ({"dlqNamePatterns": "orders*"}, 'dlqNamePatterns "orders*" ends in a wildcard'),
    ({"dlqNamePatterns": "*-dlq?"}, 'dlqNamePatterns "*-dlq?" ends in a wildcard'),
    ({"dlqNamePatterns": "*.fifo"}, 'dlqNamePatterns "*.fifo" would match every queue'),
    ({"dlqNamePatterns": "orders-[dlq]"}, "is not a queue name or pattern"),
    # A DLQ pattern that matches a source (a working queue)
    (
        {"dlqNamePatterns": "*s", "sourceNamePatterns": "payments"},
        'match some of the same queue names ("payments" with "*s")',
    ),
    (
        {"dlqNamePatterns": "orders-dlq,payments", "sourceNamePatterns": "orders,payments"},
        '("payments" with "payments")',
    ),
    # Sources: every queue, every queue of a kind, any application's, or a DLQ too
    ({"sourceNamePatterns": "orders,*"}, 'sourceNamePatterns "*" would match every queue'),
    ({"sourceNamePatterns": "*.fifo"}, 'sourceNamePatterns "*.fifo" would match every queue'),
    ({"sourceNamePatterns": "*s"}, 'sourceNamePatterns "*s" starts with a wildcard'),
    ({"sourceNamePatterns": "?rders"}, 'sourceNamePatterns "?rders" starts with a wildcard'),
    ({"sourceNamePatterns": "orders*"}, '("orders*" with "*-dlq")'),
    ({"sourceNamePatterns": "orders-*"}, '("orders-*" with "*-dlq")'),
    ({"sourceNamePatterns": "orders-dlq"}, '("orders-dlq" with "*-dlq")'),
    (
        {"sourceNamePatterns": "orders*", "dlqNamePatterns": "orders-dlq"},
        '("orders*" with "orders-dlq")',
    ),
    # Not queue names at all (IAM would take "[" literally; CloudFormation would substitute ${})
    ({"sourceNamePatterns": "o[r]ders"}, 'sourceNamePatterns "o[r]ders" is not a queue name'),
    ({"sourceNamePatterns": "orders dlq"}, 'sourceNamePatterns "orders dlq" is not a queue'),
    ({"sourceNamePatterns": "orders-${AWS::Region}"}, "is not a queue name or pattern"),
    ({"sourceNamePatterns": " , "}, "sourceNamePatterns is not set"),
]


@pytest.mark.parametrize(("params", "message"), REFUSED)
def test_queue_settings_that_reach_beyond_what_they_name_stop_packaging(
    params: dict[str, str], message: str
) -> None:
    answer = resolve_queue_params({"sourceNamePatterns": "orders,payments.fifo", **params})
    assert message in answer.get("error", ""), answer


# `osls package` itself stops on such a setting: tests/deploy/test_least_privilege.py
# (test_packaging_refuses_a_setting_that_would_reach_beyond_what_it_names).


# --- the Slack secrets' parameters, as osls resolves them -------------------------------------

SECRET_PARAMS = """
const arns = require(process.argv[1]);
const params = JSON.parse(process.argv[2]);
const resolveVariable = async (variable) => params[variable.replace(/^param:/, '')];
Promise.all([
  arns.botTokenParameterArns({ resolveVariable }),
  arns.signingSecretParameterArns({ resolveVariable }),
])
  .then(([token, secret]) =>
    console.log(JSON.stringify({ token: token[0]['Fn::Sub'], secret: secret[0]['Fn::Sub'] })))
  .catch((error) => console.log(JSON.stringify({ error: error.message })));
"""
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"
SECRET_DEFAULTS = {
    "slackBotTokenParam": "/dlq-redrive/prod/slack-bot-token",
    "slackSigningSecretParam": "/dlq-redrive/prod/slack-signing-secret",
}


def resolve_secret_params(params: dict[str, str]) -> dict[str, str]:
    return run_node(SECRET_PARAMS, "infra/iam/arns.js", json.dumps({**SECRET_DEFAULTS, **params}))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        # Every function reads the bot token: a wildcard there reads the signing secret too
        ({"slackBotTokenParam": "/dlq-redrive/prod/*"}, "is not an SSM parameter name"),
        ({"slackBotTokenParam": "*"}, "is not an SSM parameter name"),
        ({"slackBotTokenParam": "/dlq-redrive/prod/slack-*"}, "is not an SSM parameter name"),
        ({"slackSigningSecretParam": "/dlq-redrive/prod/slack-?igning-secret"}, "is not an SSM"),
        ({"slackBotTokenParam": "/a/${AWS::Region}"}, "is not an SSM parameter name"),
        ({"slackBotTokenParam": ""}, "is not an SSM parameter name"),
        # The same parameter for both: every function would read the signing secret
        (
            {"slackBotTokenParam": "dlq-redrive/prod/slack-signing-secret"},
            "are the same parameter",
        ),
    ],
)
def test_no_secret_parameter_setting_lets_others_read_the_signing_secret(
    params: dict[str, str], message: str
) -> None:
    assert message in resolve_secret_params(params).get("error", "")


def test_the_secret_parameters_are_exactly_the_named_ones() -> None:
    answer = resolve_secret_params({"slackBotTokenParam": "team/bot-token"})
    assert answer == {
        "token": f"{PARAMETER_ARN}team/bot-token",
        "secret": f"{PARAMETER_ARN}dlq-redrive/prod/slack-signing-secret",
    }
    # And the bot token's right, which every function has, does not reach the signing secret
    assert not iam_glob_matches(answer["token"], answer["secret"])


# --- the endpoint's reserved concurrency, as osls resolves it ---------------------------------

CONCURRENCY = """
const params = require(process.argv[1]);
const resolveVariable = async () => process.argv[2];
params.slackReservedConcurrency({ resolveVariable })
  .then((value) => console.log(JSON.stringify({ value })))
  .catch((error) => console.log(JSON.stringify({ error: error.message })));
"""


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", 1),
        (" 7 ", 7),
        ("1000", 1000),
        ("0", None),
        ("-1", None),
        ("1001", None),
        ("1.5", None),
        ("1e2", None),
        ("0x10", None),
        ("ten", None),
        ("", None),
    ],
)
def test_the_endpoint_concurrency_is_a_whole_number_from_1_to_1000(
    raw: str, value: int | None
) -> None:
    answer = run_node(CONCURRENCY, "infra/params.js", raw)
    if value is None:
        assert "slackReservedConcurrency must be a whole number from 1 to 1000" in answer["error"]
    else:
        assert answer == {"value": value}


# --- who may invoke the functions --------------------------------------------------------------


def test_nobody_outside_the_stack_may_invoke_the_worker_daily_or_failed_functions(
    template: Template, narrowed_template: Template
) -> None:
    for stack in (template, narrowed_template):
        # No function URL, and the only resource policy lets the HTTP API (this stack's) call
        # the Slack endpoint
        assert resources(stack, "AWS::Lambda::Url") == {}
        permissions = list(resources(stack, "AWS::Lambda::Permission").values())
        assert permissions, "the HTTP API needs its permission"
        for permission in permissions:
            props = permission["Properties"]
            assert props["FunctionName"] == {"Fn::GetAtt": ["SlackLambdaFunction", "Arn"]}
            assert props["Principal"] == "apigateway.amazonaws.com"
            assert "HttpApi" in json.dumps(props["SourceArn"])
        # Each role is assumed by its service alone (Lambda; the scheduler from this account)
        for logical_id, role in resources(stack, "AWS::IAM::Role").items():
            [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert trust["Action"] == "sts:AssumeRole", logical_id
            assert trust["Principal"] in (
                {"Service": "lambda.amazonaws.com"},
                {"Service": "scheduler.amazonaws.com"},
            ), logical_id


# --- secrets: a role may read one only if its code does -----------------------------------------


@pytest.mark.parametrize(
    ("reader", "action", "what"),
    [
        ("resolve_signing_secret", "ssm:GetParameter", "signing-secret"),
        ("resolve_bot_token", "ssm:GetParameter", "bot-token"),
        ("resolve_job_signer", "secretsmanager:GetSecretValue", "JobSigningKey"),
    ],
)
def test_a_role_may_read_a_secret_only_if_its_code_reads_it(
    template: Template, reader: str, action: str, what: str
) -> None:
    for handler in HANDLERS:
        _, role = role_of(template, handler)
        may = any(what in json.dumps(r) for r in granted(role, action))
        assert may is code_calls(handler, reader), (handler, reader)
    # The signing secret: the endpoint alone; the job key: the endpoint, worker and failed
    readers = {h for h in HANDLERS if code_calls(h, reader)}
    expected = {
        "resolve_signing_secret": {"handlers/slack.handler"},
        "resolve_job_signer": {
            "handlers/slack.handler",
            "handlers/worker.handler",
            "handlers/failed.handler",
        },
        "resolve_bot_token": set(HANDLERS),
    }
    assert readers == expected[reader]


# --- the state table, as DynamoDB enforces the role ---------------------------------------------


@dataclass
class RoleTable:
    """The in-memory state table as one role sees it: each call is refused, as DynamoDB refuses
    it (AccessDeniedException), unless the role allows its action on every key it names, with
    ``dynamodb:LeadingKeys`` (``ForAllValues:StringLike``: * and ?, case-sensitive) matching
    each partition key. A transaction needs each item's action (PutItem, UpdateItem,
    ConditionCheckItem: DynamoDB Developer Guide, "Using IAM with DynamoDB transactions")."""

    table: FakeStateTable
    actions: dict[str, list[str]]  # action -> LeadingKeys patterns
    denied: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, template: Template, handler: str, table: FakeStateTable) -> RoleTable:
        _, role = role_of(template, handler)
        actions: dict[str, list[str]] = {}
        for statement in statements(role):
            for action in as_list(statement["Action"]):
                if action.startswith("dynamodb:"):
                    condition = statement["Condition"]["ForAllValues:StringLike"]
                    actions.setdefault(action, []).extend(condition["dynamodb:LeadingKeys"])
        return cls(table, actions)

    def _check(self, action: str, keys: Sequence[Key | Item]) -> None:
        patterns = self.actions.get(action, [])
        for key in keys:
            pk = key[PARTITION_KEY]["S"]
            if not any(iam_glob_matches(p, pk) for p in patterns):
                self.denied.append((action, pk))
                raise AwsError(
                    f"not authorized to perform: {action} on {pk}", code="AccessDeniedException"
                )

    def get(self, key: Key, *, doing: str) -> Item | None:
        self._check("dynamodb:GetItem", [key])
        return self.table.get(key, doing=doing)

    def put(self, item: Item, *, doing: str, **kwargs: Any) -> None:
        self._check("dynamodb:PutItem", [item])
        self.table.put(item, doing=doing, **kwargs)

    def update(self, key: Key, expression: str, *, doing: str, **kwargs: Any) -> Item:
        self._check("dynamodb:UpdateItem", [key])
        return self.table.update(key, expression, doing=doing, **kwargs)

    def query(self, pk: str, *, doing: str, **kwargs: Any) -> list[Item]:
        self._check("dynamodb:Query", [{PARTITION_KEY: {"S": pk}}])
        return self.table.query(pk, doing=doing, **kwargs)

    def batch_get(self, keys: Sequence[Key], *, doing: str) -> list[Item]:
        self._check("dynamodb:BatchGetItem", keys)
        return self.table.batch_get(keys, doing=doing)

    def transact(self, writes: Sequence[Write], *, doing: str) -> None:
        for write in writes:
            if isinstance(write, Put):
                self._check("dynamodb:PutItem", [write.item])
            elif isinstance(write, Update):
                self._check("dynamodb:UpdateItem", [write.key])
            else:
                assert isinstance(write, ConditionCheck)
                self._check("dynamodb:ConditionCheckItem", [write.key])
        self.table.transact(writes, doing=doing)


def _daily_failures_as(stores: Stores, table: RoleTable) -> DailyFailures:
    """The daily side of `failed`, on ``stores``'s table and Slack, as ``table``'s role."""
    runs = RunState(table)
    snapshots = SnapshotStore(table)
    poster = ReportPoster(stores.slack, runs, CHANNEL, stores.clock)
    updates = ReportUpdates(
        poster=poster,
        runs=runs,
        snapshots=snapshots,
        daily=DailySettings.from_env({"REPORT_CHANNEL": CHANNEL}),
        clock=stores.clock,
    )
    return DailyFailures(
        leases=LeaseStore(table),
        snapshots=snapshots,
        poster=poster,
        updates=updates,
        timezone=daily_failures.ZoneInfo("UTC"),
        clock=stores.clock,
    )


def test_failed_marks_a_dead_continuation_within_its_role(template: Template) -> None:
    # Given a report whose continuation died on every attempt (written by the daily function)
    stores = Stores.make()
    work = daily_failures._continuation(daily_failures._posted_report_still_running(stores))
    stores.leases.claim(
        work.idempotency_key,
        daily_failures.REQUEST_ID,
        now_ms=daily_failures.NOW_MS - 60_000,
        lease_ms=45_000,
    )
    # When `failed` handles its record, as its role lets it touch the table
    table = RoleTable.of(template, "handlers/failed.handler", stores.table)
    outcome = record_daily_failure(
        daily_failures._record(work.to_event()), _daily_failures_as(stores, table)
    )
    # Then nothing it does is refused (it re-stored the day's snapshots before: SNAPSHOT#...,
    # which its role may not write, logged as "snapshots not saved")
    assert table.denied == []
    assert outcome["status"] == "failed" and outcome["update_error"] is None
    lease = stores.leases.read(work.idempotency_key, now_ms=daily_failures.NOW_MS)
    assert lease is not None and lease.state == FAILED


def test_failed_marks_a_dead_06_00_run_within_its_role(template: Template) -> None:
    # Given a 06:00 run that posted its report and died before handing over
    stores = Stores.make()
    daily_failures._posted_report_still_running(stores)
    table = RoleTable.of(template, "handlers/failed.handler", stores.table)
    # When `failed` handles its record
    record = daily_failures._record(
        daily_failures.SCHEDULE_EVENT, errorType="Sandbox.Timedout", errorMessage="timed out"
    )
    outcome = record_daily_failure(record, _daily_failures_as(stores, table))
    # Then the thread and the report say why, and nothing was refused
    assert outcome["posted"] == "thread" and outcome["update_error"] is None
    assert table.denied == []


KEY = b"attack-test-job-signing-key-32-bytes!!"
ISSUED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RUN_ID = "20261201-115900-abcdef"


def test_failed_marks_a_dead_worker_run_within_its_role(template: Template) -> None:
    # Given a run the worker started (as the worker's role lets it)
    fake = FakeStateTable()
    worker = StateStore(RoleTable.of(template, "handlers/worker.handler", fake))  # type: ignore[arg-type]
    started_run(worker, RUN_ID, ISSUED)
    # When `failed` gets the record of the worker's death
    table = RoleTable.of(template, "handlers/failed.handler", fake)
    state = StateStore(table)  # type: ignore[arg-type]
    slack = FakeSlackGateway()
    job = DecisionJob("approve", RUN_ID, "U_BOB", "C_OPS", "1.000001", "T_LOCAL", "https://r", "d")
    record = on_failure_record(JobSigner(KEY).seal(job, ISSUED), "timed out")
    result = handle_failure_record(
        record, key=KEY, state=state, slack=slack, at=ISSUED + timedelta(minutes=16)
    )
    # Then its run is failed, and nothing was refused
    assert result["marked"] is True
    run = state.get_run(RUN_ID)
    assert run is not None and run.status is RunStatus.FAILED
    assert table.denied == []


def test_the_worker_s_state_operations_stay_within_its_role(template: Template) -> None:
    # Given the worker's state store, as its role lets it touch the table
    table = RoleTable.of(template, "handlers/worker.handler", FakeStateTable())
    state = StateStore(table)  # type: ignore[arg-type]
    request = ApprovalRequest(
        request_id=RUN_ID,
        dlq="orders-dlq",
        selection={},
        selection_text="all messages",
        matched=10,
        requester="U_ALICE",
        channel="C_OPS",
        requested_at=ISSUED,
        approval_expires_at=ISSUED + timedelta(hours=1),
    )
    run = RunRecord(RUN_ID, "orders-dlq", "U_ALICE", "U_BOB", RunStatus.RUNNING, ISSUED, ISSUED)
    # When it does everything a request and its run go through: the replay guard, the card,
    # the decision with the run and audit event in one transaction, progress, continuation,
    # cancellation, the run list and a failure
    assert state.claim_delivery("T1-delivery", ISSUED)
    state.put_request(request)
    state.set_card(RUN_ID, "1.000001")
    assert state.get_request(RUN_ID) is not None
    assert state.approve_and_start(RUN_ID, run).won
    state.record_event(RUN_ID, "progress", "U_BOB", ISSUED, moved=3)
    assert [e["kind"] for e in state.events(RUN_ID)] == ["approved", "progress"]
    assert state.save_run(run, expected_invocation=run.invocation) is not None
    state.request_cancel(RUN_ID, "U_ALICE")
    assert state.cancel_requested(RUN_ID)
    assert [r.run_id for r in state.recent_runs()] == [RUN_ID]
    state.fail_run(RUN_ID, "boom", ISSUED)
    # Then DynamoDB, enforcing its role, refused none of it
    assert table.denied == []


def test_the_daily_job_s_runs_stay_within_its_role(template: Template) -> None:
    # Given the daily job on a state table that enforces the daily role, with its redrive ledger
    # (asked about messages that cannot carry the counter: here, one with 10 attributes)
    stores = Stores.make()
    table = RoleTable.of(template, "handlers/daily.handler", stores.table)
    runs, snapshots = RunState(table), SnapshotStore(table)
    sqs, lambdas = FakeSqs(), FakeLambda(functions={"dlq-redrive-daily"})
    dlq = sqs.create("orders-dlq")
    source = sqs.create("orders", dead_letter_to=dlq)
    for n in range(3):
        sqs.put(dlq, json.dumps({"at": "2026-03-10T10:00:00Z", "n": n}))
    ten = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
    sqs.put(dlq, json.dumps({"at": "2026-03-10T11:00:00Z"}), **ten)
    env = {"TIMEZONE": "UTC", "REPORT_CHANNEL": CHANNEL, "AUTO_REDRIVE": "*"}
    env |= {"AUTO_REDRIVE_TIME_FIELD": "at"}
    settings = EngineSettings.from_env(env)
    job = assemble_job(
        gateway=sqs,
        engine=RedriveEngine(
            sqs, max_redrives=3, timezone=settings.timezone, ledger=StateTableRedriveLedger(table)
        ),
        snapshots=snapshots,
        runs=runs,
        leases=LeaseStore(table),
        slack=stores.slack,
        invoker=lambdas,
        daily=DailySettings.from_env(env),
        engine_settings=settings,
        clock=stores.clock,
        lease_timing=LeaseTiming(renew_s=0.2, lease_s=1.5, poll_s=0.05),
    )
    # When the 06:00 run hands its auto-redrive over and the continuation finishes it
    schedule = {"time": "2026-03-11T06:00:00Z", "detail-type": "Scheduled Event"}
    job.handle(schedule, LocalLambdaContext("dlq-redrive-daily", 10, "r-1"))
    [continuation] = lambdas.payloads("dlq-redrive-daily")
    outcome = job.handle(continuation, LocalLambdaContext("dlq-redrive-daily", 600, "r-2"))
    # Then every message moved (the ledger counted the one without room for the counter) and
    # DynamoDB, enforcing the role, refused nothing
    assert outcome["status"] == "finished" and outcome["total_moved"] == 4
    assert sqs.visible(source) == 4
    assert table.denied == []
    assert {pk for pk, _ in stores.table.items} >= {
        "SNAPSHOT#orders-dlq",
        "DAILYRUN#2026-03-11T06:00:00+00:00",
        "REDRIVES#orders-dlq",
    }


def test_no_role_may_scan_or_reach_an_index(
    template: Template, narrowed_template: Template
) -> None:
    # Scan and a query on an index are not bound by the table's partition key: none may
    for stack in (template, narrowed_template):
        for handler in HANDLERS:
            _, role = role_of(stack, handler)
            for statement in statements(role):
                actions = as_list(statement["Action"])
                assert "dynamodb:Scan" not in actions, handler
                if any(a.startswith("dynamodb:") for a in actions):
                    assert statement["Resource"] == [{"Fn::GetAtt": ["StateTable", "Arn"]}]
    table = next(iter(resources(template, "AWS::DynamoDB::Table").values()))
    assert "GlobalSecondaryIndexes" not in table["Properties"]
    assert "LocalSecondaryIndexes" not in table["Properties"]


# --- the scanners' exceptions, each needed -------------------------------------------------------


def _without_checkov_skips(path: Path, out: Path) -> set[tuple[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    skipped = set()
    for logical_id, resource in data["Resources"].items():
        checkov = resource.get("Metadata", {}).pop("checkov", None)
        for skip in (checkov or {}).get("skip", []):
            skipped.add((skip["id"], logical_id))
    out.write_text(json.dumps(data), encoding="utf-8")
    return skipped


def test_every_checkov_skip_is_needed(template_path: Path, tmp_path: Path) -> None:
    # Given the default template without any of its checkov skips
    bare = tmp_path / "template.json"
    skipped = _without_checkov_skips(template_path, bare)
    assert skipped
    # When checkov scans it
    report = test_scanners.run_checkov(bare)
    failed = {
        (c["check_id"], c["resource"].rsplit(".", 1)[-1])
        for c in report["results"]["failed_checks"]
    }
    # Then each skip's finding comes back (a skip that hides nothing is removed), and nothing
    # else fails
    assert skipped - failed == set()
    assert failed == skipped


def test_every_cfn_lint_ignore_is_needed(template_path: Path, tmp_path: Path) -> None:
    # Given cfn-lint with no settings (run outside the repository, which holds .cfnlintrc.yaml)
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), "--format", "json", str(template_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = {m["Rule"]["Id"] for m in json.loads(result.stdout or "[]")}
    # Then every rule the project ignores is one it would otherwise report
    assert found == set(test_scanners.cfn_lint_ignored())


def test_the_worker_s_redrive_ledger_stays_within_its_role(template: Template) -> None:
    # Given the worker's engine as the composition root builds it, on a state table that
    # enforces the worker's role, and a DLQ message with 10 attributes (no room for the
    # counter: its redrives are counted in the ledger)
    from bot.catalog import Dlq
    from bot.composition import redrive_engine
    from bot.engine import RedriveRequest

    fake = FakeStateTable()
    table = RoleTable.of(template, "handlers/worker.handler", fake)
    sqs = FakeSqs()
    dlq_url, source = sqs.create("orders-dlq"), sqs.create("orders")
    crowded = sqs.put(dlq_url, json.dumps({"order": 1}))
    ten = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
    sqs.queues[dlq_url].messages[crowded].message_attributes = ten
    engine = redrive_engine(sqs, EngineSettings.from_env({"TIMEZONE": "UTC"}), table)  # type: ignore[arg-type]
    # When an approved redrive moves it (reading its count, then adding one)
    report = engine.run(
        Dlq(sqs.info(dlq_url), (sqs.info(source),)),
        RedriveRequest(confirm_empty_wait_s=0, workers=1),
    )
    # Then it moved, its redrive was counted, and DynamoDB, enforcing the role, refused nothing
    assert report.moved == 1 and report.error is None
    assert table.denied == []
    assert {pk for pk, _ in fake.items} == {"REDRIVES#orders-dlq"}
