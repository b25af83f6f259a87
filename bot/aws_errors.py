"""How an AWS error reads in a report, a CLI line or a Slack message: one phrasing for every
gateway (SQS, Lambda, SNS, EventBridge, DynamoDB), so none of them depends on another to describe
a failure; and the one rule for a delivery whose answer was lost (``ANSWER_MAY_BE_LOST``)."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    HTTPClientError,
    IncompleteReadError,
    SSLError,
)

from bot.errors import AwsError, SendAnswerLostError

# Errors raised after the request may have reached AWS: the connection closed or timed out while
# waiting for the answer (HTTPClientError covers ReadTimeoutError and ConnectionClosedError), or
# TLS failed mid-exchange. Any other BotoCoreError happens before a byte is sent: no connection
# (EndpointConnectionError, ConnectTimeoutError), invalid parameters, no credentials. A send, an
# asynchronous invoke or a publish that fails so may have been delivered all the same.
ANSWER_MAY_BE_LOST = (HTTPClientError, SSLError, IncompleteReadError)


def describe_client_error(exc: ClientError | BotoCoreError) -> tuple[str, str]:
    """(code, message) of an AWS error, phrased for a report."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "Error")), str(error.get("Message", "")) or str(exc)
    return type(exc).__name__, str(exc)


def aws_error(service: str, doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    """A call's failure, phrased for the user: unreachable, or refused with AWS's code (kept as
    ``AwsError.code``)."""
    code, message = describe_client_error(exc)
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return AwsError(f"cannot reach {service} while {doing}: {exc}", code=code)
    return AwsError(f"AWS refused {doing}: {code}: {message}", code=code)


def answer_lost(service: str, exc: BotoCoreError) -> SendAnswerLostError:
    """A delivery (one of ``ANSWER_MAY_BE_LOST``) that may or may not have reached ``service``."""
    code, message = describe_client_error(exc)
    return SendAnswerLostError(f"no answer from {service} ({code}: {message})", code=code)
