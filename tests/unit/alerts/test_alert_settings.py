"""AlertSettings: the alert check's env (ALERT_CHANNEL, ALERT_THRESHOLD, ALERT_GROWTH,
ALERT_QUIET_MINUTES), read once with clear errors."""

from __future__ import annotations

import pytest

from bot.config import AlertSettings
from bot.errors import ConfigError


def test_defaults_alert_in_the_report_channel() -> None:
    settings = AlertSettings.from_env({"REPORT_CHANNEL": "C0REPORT"})

    assert settings == AlertSettings(channel="C0REPORT", threshold=1, growth=10, quiet_minutes=60)


def test_every_setting_is_read() -> None:
    env = {
        "REPORT_CHANNEL": "C0REPORT",
        "ALERT_CHANNEL": " C0ALERTS ",
        "ALERT_THRESHOLD": "25",
        "ALERT_GROWTH": "3",
        "ALERT_QUIET_MINUTES": "15",
    }

    assert AlertSettings.from_env(env) == AlertSettings(
        channel="C0ALERTS", threshold=25, growth=3, quiet_minutes=15
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "set ALERT_CHANNEL or REPORT_CHANNEL"),
        ({"ALERT_CHANNEL": "C1", "ALERT_THRESHOLD": "0"}, "ALERT_THRESHOLD must be at least 1"),
        ({"ALERT_CHANNEL": "C1", "ALERT_THRESHOLD": "ten"}, "ALERT_THRESHOLD 'ten' is not"),
        ({"ALERT_CHANNEL": "C1", "ALERT_GROWTH": "-1"}, "ALERT_GROWTH must be at least 1"),
        ({"ALERT_CHANNEL": "C1", "ALERT_QUIET_MINUTES": "0"}, "ALERT_QUIET_MINUTES must be at"),
        (
            {"ALERT_CHANNEL": "C1", "ALERT_QUIET_MINUTES": "20000"},
            "ALERT_QUIET_MINUTES must be at most 10,080",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        AlertSettings.from_env(env)
