"""The daily auto-redrive's canary settings (DAILY_CANARY_*), read once by bot.config."""

from __future__ import annotations

import pytest

from bot.config import DailySettings
from bot.errors import ConfigError

BASE = {"REPORT_CHANNEL": "C1"}


def test_the_canary_is_on_by_default() -> None:
    settings = DailySettings.from_env(BASE)
    assert (settings.canary_size, settings.canary_wait_s, settings.canary_max_returned) == (
        10,
        120,
        0.1,
    )


def test_the_canary_settings_are_read_and_zero_disables_it() -> None:
    env = {
        **BASE,
        "DAILY_CANARY_SIZE": "0",
        "DAILY_CANARY_WAIT_S": "30",
        "DAILY_CANARY_MAX_RETURNED": "0.25",
    }
    settings = DailySettings.from_env(env)
    assert (settings.canary_size, settings.canary_wait_s, settings.canary_max_returned) == (
        0,
        30,
        0.25,
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DAILY_CANARY_SIZE", "-1", "DAILY_CANARY_SIZE must be at least 0"),
        ("DAILY_CANARY_SIZE", "ten", "DAILY_CANARY_SIZE 'ten' is not a whole number"),
        ("DAILY_CANARY_WAIT_S", "601", "DAILY_CANARY_WAIT_S must be at most 600"),
        ("DAILY_CANARY_MAX_RETURNED", "1", "from 0 to below 1"),
        ("DAILY_CANARY_MAX_RETURNED", "nan", "from 0 to below 1"),
        ("DAILY_CANARY_MAX_RETURNED", "lots", "is not a number"),
    ],
)
def test_a_bad_canary_setting_is_refused_by_name(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        DailySettings.from_env({**BASE, name: value})
