"""Start moto's server on 127.0.0.1 (an ephemeral port) for the demo and the tests."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

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
