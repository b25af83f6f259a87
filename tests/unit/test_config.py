"""Configuration: read once, validated, with errors that name the variable and the bad value."""

from __future__ import annotations

import pytest

from bot.config import DailySettings, EngineSettings, SlackSettings
from bot.errors import ConfigError


def test_defaults_watch_every_dlq_in_utc_with_three_redrives() -> None:
    settings = EngineSettings.from_env({})
    assert settings.dlq_queues is None
    assert settings.timezone.key == "UTC"
    assert settings.max_redrives == 3


def test_dlq_queues_are_split_and_trimmed_and_star_means_discover() -> None:
    assert EngineSettings.from_env({"DLQ_QUEUES": " a-dlq, b-dlq ,"}).dlq_queues == (
        "a-dlq",
        "b-dlq",
    )
    assert EngineSettings.from_env({"DLQ_QUEUES": "*"}).dlq_queues is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TIMEZONE": "Asia/Seol"}, "TIMEZONE 'Asia/Seol' is not an IANA time zone"),
        ({"TIMEZONE": "../etc/passwd"}, "is not an IANA time zone"),
        ({"MAX_REDRIVES": "three"}, "MAX_REDRIVES 'three' is not a whole number"),
        ({"MAX_REDRIVES": "0"}, "MAX_REDRIVES must be at least 1"),
        ({"DLQ_QUEUES": "*,orders-dlq"}, "mixes '*'"),
    ],
)
def test_bad_engine_values_get_an_error_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("*", r"\*").replace("(", r"\(")):
        EngineSettings.from_env(env)


def test_slack_settings_need_a_token_from_env_or_ssm() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s"})
    # The signing secret is the endpoint's alone: the endpoint's builder requires it
    # (tests/integration/slack/test_slack_credentials.py), the settings do not.
    assert SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).signing_secret is None
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN_PARAM": "/dlq/token",
            "APPROVERS": "U1, S2",
            "ALLOW_SELF_APPROVAL": "TRUE",
        }
    )
    assert settings.approvers == ("U1", "S2")
    assert settings.allow_self_approval is True
    assert settings.approval_ttl_minutes == 60


def test_a_boolean_that_is_not_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="ALLOW_SELF_APPROVAL 'maybe' is not a boolean"):
        SlackSettings.from_env(
            {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y", "ALLOW_SELF_APPROVAL": "maybe"}
        )


def test_daily_settings_need_a_channel_and_read_auto_redrive() -> None:
    with pytest.raises(ConfigError, match="REPORT_CHANNEL"):
        DailySettings.from_env({})
    assert DailySettings.from_env({"REPORT_CHANNEL": "C1"}).auto_redrive == ()
    assert (
        DailySettings.from_env({"REPORT_CHANNEL": "C1", "AUTO_REDRIVE": "*"}).auto_redrive is None
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9", "REPORT_SAMPLE_SIZE must be at least 10, got 9"),
        ("1000000", "REPORT_SAMPLE_SIZE must be at most 10,000, got 1,000,000"),
    ],
)
def test_the_report_sample_is_capped(value: str, message: str) -> None:
    # The scan keeps a receipt handle per sampled message until it releases them all: the cap
    # bounds that memory (and the scan's time) for each of the DLQs read at once.
    with pytest.raises(ConfigError, match=message):
        DailySettings.from_env({"REPORT_CHANNEL": "C1", "REPORT_SAMPLE_SIZE": value})
    assert DailySettings.from_env({"REPORT_CHANNEL": "C1"}).sample_size == 1000
