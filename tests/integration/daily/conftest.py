"""Fixtures of the daily report's integration tests (defined in daily_support)."""

from tests.integration.daily.daily_support import daily, slack

__all__ = ["daily", "slack"]
