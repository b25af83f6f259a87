"""Shared fixtures: one moto server per test session on 127.0.0.1, wiped before each test.

boto3 reaches it through AWS_ENDPOINT_URL only (exported into os.environ for the session), exactly
as a user's CLI or Lambda would reach a real or local endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from bot.config import EngineSettings
from bot.sqs_gateway import SqsGateway
from infra.local.moto_server import LocalAws, local_aws

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalAws]:
    with local_aws(os.environ) as aws:
        yield aws


@pytest.fixture
def aws(moto_server: LocalAws) -> LocalAws:
    """A clean local AWS for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def sqs(aws: LocalAws) -> SQSClient:
    """A plain boto3 SQS client for setting up scenes and checking results."""
    return boto3.client("sqs")


@pytest.fixture
def s3(aws: LocalAws) -> S3Client:
    """A plain boto3 S3 client on the same moto server (archives: export, discard, import)."""
    return boto3.client("s3")


@pytest.fixture
def gateway(aws: LocalAws) -> SqsGateway:
    return SqsGateway()


@pytest.fixture
def engine_env(aws: LocalAws) -> dict[str, str]:
    """The environment a CLI run sees (tests add DLQ_QUEUES, TIMEZONE, ... as needed)."""
    return {**aws.env, "TIMEZONE": "UTC"}


@pytest.fixture
def settings() -> EngineSettings:
    return EngineSettings.from_env({})
