"""The exit statuses of ``dlq-redrive`` (see bot/cli.py for when each is given): shared by every
command, including those defined beside the parts they serve (bot/slack/state_command.py)."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
