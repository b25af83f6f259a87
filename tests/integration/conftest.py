"""Fixtures of the integration tests beside tests/conftest.py's moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.lambda_server import LambdaServer


@pytest.fixture
def lambdas(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaServer]:
    """The local Lambda endpoint, which boto3's Lambda clients (and the CLI run in-process or in
    a subprocess given ``os.environ``) reach through ``AWS_ENDPOINT_URL_LAMBDA``: the functions
    a test registers, their DLQ settings, and every invoke they get."""
    with LambdaServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.endpoint_url)
        yield server
