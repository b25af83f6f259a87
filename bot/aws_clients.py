"""How the gateways make their boto3 clients: one rule for retries and timeouts.

Two kinds of client, for every service:

- a **reading** client (``once=False``): adaptive retries on throttling, normal timeouts; for
  calls that may safely be made again (list, get, receive, delete);
- a **delivering** client (``once=True``): one attempt per call, no transport retries. botocore
  retries a call whose connection reset or timed out after the request left, but the service may
  have acted on it already: every retry of a send, an asynchronous invoke or a publish can deliver
  it again (issue 10 saw 18 copies of one SQS batch). So deliveries go through a client that never
  retries; the engine retries only what the service answered it did not take, and reports a
  delivery without an answer as unconfirmed (``bot.aws_errors.ANSWER_MAY_BE_LOST``).

``like``: a client injected for the other calls (tests); the new one then talks to the same
endpoint in the same region. Credentials come from the default session, as for every client here;
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` reach a local server with no special path.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# Clients are made on first use, which may be on several threads at once (the feeder kinds are
# read in parallel; the engine delivers up to 10 copies at once). boto3's default session is
# not thread-safe ("Session objects are not thread safe", boto3's guide to multithreading):
# clients are made from it one at a time. A client, once made, is thread-safe.
_MAKING = threading.Lock()


def aws_client(
    service: str, *, once: bool = False, like: Any = None, max_pool_connections: int = 10
) -> Any:
    """A boto3 client for ``service`` (typed by the caller, e.g. ``SNSClient``)."""
    retries: Any = (
        {"total_max_attempts": 1, "mode": "standard"}
        if once
        else {"max_attempts": 5, "mode": "adaptive"}
    )
    config = Config(
        max_pool_connections=max_pool_connections,
        retries=retries,
        connect_timeout=5,
        read_timeout=30,
    )
    with _MAKING:
        if like is None:
            return boto3.client(service, config=config)  # type: ignore[call-overload]
        return boto3.client(  # type: ignore[call-overload]
            service,
            config=config,
            endpoint_url=like.meta.endpoint_url,
            region_name=like.meta.region_name,
        )
