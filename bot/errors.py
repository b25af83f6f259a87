"""Domain exceptions. Each carries a message written for the person at the terminal or in Slack.

They are turned into a CLI line (exit 2) or an ephemeral Slack message in exactly one place each.
"""

from __future__ import annotations


class DlqRedriveError(Exception):
    """Base class: the message is safe and helpful to show to a user as it is."""


class ConfigError(DlqRedriveError):
    """A configuration variable has a bad value."""


class UsageError(DlqRedriveError):
    """The request itself is wrong (bad date, conflicting options, ...); nothing was touched."""


class QueueNotFoundError(UsageError):
    """The named queue does not exist or is not watched."""


class NotADeadLetterQueueError(UsageError):
    """The named queue exists but is not the dead-letter queue of any queue."""


class DestinationError(UsageError):
    """The destination cannot be determined or is incompatible (FIFO vs standard)."""


class AwsError(DlqRedriveError):
    """An AWS call failed in a way the user must know about (access denied, throttled, ...).

    ``code`` is AWS's error code (``AccessDenied``), or the error's kind when AWS gave none: a
    report counts the messages an error kept in the DLQ under it.
    """

    def __init__(self, message: str, *, code: str = "AwsError") -> None:
        super().__init__(message)
        self.code = code


class SendAnswerLostError(AwsError):
    """A delivery got no answer after its request may have reached AWS (connection reset, read
    timeout): SQS may have stored the messages, Lambda queued the invocation, SNS taken the
    publish, so they are neither confirmed nor failed (``bot.aws_errors.answer_lost``)."""
