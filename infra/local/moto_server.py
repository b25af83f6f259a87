"""Start moto's server on 127.0.0.1 (an ephemeral port) for the demo and the tests."""

from __future__ import annotations

import functools
import logging
import os
import threading
import urllib.request
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import boto3
from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never read a developer's real profile or credentials by accident.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


# "Serializable isolation ensures that the results of multiple concurrent operations are the same
# as if no operation begins until the previous one has finished" (DynamoDB Developer Guide,
# "Isolation levels for DynamoDB transactions": between a transaction and PutItem, UpdateItem,
# DeleteItem, GetItem, Query and Scan, and between transactions). moto's server runs requests on
# threads without that: a TransactWriteItems cancelled by a condition restores a copy of the whole
# table taken when it began, erasing what other requests wrote meanwhile (ten concurrent
# approvals: a won decision erased and won again). Each item operation here runs alone.
_DYNAMODB_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
)
_dynamodb_lock = threading.RLock()


def _isolate_dynamodb_operations() -> None:
    """Make each of moto's DynamoDB item operations run alone (once per process)."""
    for name in _DYNAMODB_OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        if getattr(operation, "_isolated", False):
            continue

        @functools.wraps(operation)
        def isolated(self: Any, *args: Any, _operation: Any = operation, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                return _operation(self, *args, **kwargs)

        isolated._isolated = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, isolated)


def client_for(service: str, env: Mapping[str, str]) -> Any:
    """A boto3 client configured from ``env`` alone (the caller's os.environ is not used), e.g.
    a ``LocalAws.env``; each call makes a new one (a thread needs its own)."""
    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


class LocalAws:
    """A running moto server; ``env`` points boto3 at it through AWS_ENDPOINT_URL alone."""

    def __init__(self, server: ThreadedMotoServer) -> None:
        self.server = server
        host, port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.env = {**DUMMY_AWS_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def reset(self) -> None:
        """Wipe every queue and table."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@contextmanager
def local_aws(environ: MutableMapping[str, str] | None = None) -> Iterator[LocalAws]:
    """Run moto's server for the duration; also export its variables into ``environ``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _isolate_dynamodb_operations()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    aws = LocalAws(server)
    saved: dict[str, str | None] = {}
    if environ is not None:
        for key, value in aws.env.items():
            saved[key] = environ.get(key)
            environ[key] = value
    try:
        yield aws
    finally:
        server.stop()
        if environ is not None:
            for key, old in saved.items():
                if old is None:
                    environ.pop(key, None)
                else:
                    environ[key] = old
