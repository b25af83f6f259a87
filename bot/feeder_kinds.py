"""The kinds of what dead-letters into a DLQ (``Kind``), apart from ``bot.feeders``: the settings
(``DLQ_KINDS``, ``bot.config``) need only these names, and the Slack endpoint loads the settings at
its cold start but never the feeders' data types (tests/deploy/test_handler_imports.py)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What feeds a DLQ, in the order the KIND column lists them."""

    SQS = "sqs"
    SNS = "sns"
    EVENTS = "events"
    LAMBDA = "lambda"
