"""Fixtures for the Slack app's integration tests (see slack_harness)."""

from tests.integration.slack.slack_harness import harness, slack_env

__all__ = ["harness", "slack_env"]
