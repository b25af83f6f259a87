"""Only the Slack endpoint reads the signing secret (issue 11, least privilege).

The worker and the daily report post with the bot token; they never verify Slack's requests, so
they must build without the signing secret and never read its SSM parameter (their roles have no
right to it as deployed). The endpoint alone needs it, and says so when it is missing.
"""

from __future__ import annotations

import boto3
import pytest

from bot.composition import build_daily_job, build_endpoint, build_worker
from bot.daily.job import DailyJob
from bot.errors import ConfigError
from infra.local.moto_server import LocalAws

TOKEN_PARAM = "/dlq-redrive/test/slack-bot-token"
# Never stored: reading it would raise ("cannot read SSM parameter ..."), so a build that
# succeeds with this name configured is a build that did not read it.
MISSING_SECRET_PARAM = "/dlq-redrive/test/slack-signing-secret-never-stored"


@pytest.fixture
def env_without_secret(aws: LocalAws) -> dict[str, str]:
    boto3.client("ssm").put_parameter(Name=TOKEN_PARAM, Value="xoxb-from-ssm", Type="SecureString")
    return {
        **aws.env,
        "TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN_PARAM": TOKEN_PARAM,
        "STATE_TABLE": "dlq-redrive-state",
        "WORKER_FUNCTION_NAME": "worker",
        "JOB_SIGNING_KEY": "k" * 32,
        "SLACK_TEAM_ID": "T_LOCAL",
        "REPORT_CHANNEL": "C_REPORT",
    }


def test_the_worker_builds_without_the_signing_secret(env_without_secret: dict[str, str]) -> None:
    # Given no signing secret in the environment at all
    # When the worker is built, Then it builds and posts with the token from SSM
    worker = build_worker(env_without_secret)
    assert worker.slack.client.token == "xoxb-from-ssm"


def test_the_worker_never_reads_the_signing_secret_parameter(
    env_without_secret: dict[str, str],
) -> None:
    # Given the signing secret's parameter named (as an old stack might) but unreadable
    env = {**env_without_secret, "SLACK_SIGNING_SECRET_PARAM": MISSING_SECRET_PARAM}
    # When the worker is built, Then it builds: it never asked SSM for the signing secret
    assert build_worker(env).slack.client.token == "xoxb-from-ssm"


def test_the_daily_report_builds_without_the_signing_secret_and_never_reads_it(
    env_without_secret: dict[str, str],
) -> None:
    # Before: "set SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_PARAM"; reading the unstored
    # parameter would raise "cannot read SSM parameter".
    env = {**env_without_secret, "SLACK_SIGNING_SECRET_PARAM": MISSING_SECRET_PARAM}
    for built in (env_without_secret, env):
        assert isinstance(build_daily_job(built), DailyJob)


def test_the_endpoint_cannot_be_built_without_the_signing_secret(
    env_without_secret: dict[str, str],
) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        build_endpoint(env_without_secret)


def test_the_endpoint_reads_the_signing_secret_from_ssm(env_without_secret: dict[str, str]) -> None:
    # Given the signing secret only as an unreadable parameter
    env = {**env_without_secret, "SLACK_SIGNING_SECRET_PARAM": MISSING_SECRET_PARAM}
    # When the endpoint is built, Then it tried to read it and says which parameter failed
    with pytest.raises(ConfigError, match="cannot read SSM parameter"):
        build_endpoint(env)
