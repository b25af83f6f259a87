"""How an AWS error reads in a report, a CLI line or a Slack message: one phrasing for every
gateway (SQS, Lambda, DynamoDB), so none of them depends on another to describe a failure."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError


def describe_client_error(exc: ClientError | BotoCoreError) -> tuple[str, str]:
    """(code, message) of an AWS error, phrased for a report."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "Error")), str(error.get("Message", "")) or str(exc)
    return type(exc).__name__, str(exc)
