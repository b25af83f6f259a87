"""serverless-offline runs the functions from the deployment artifact (serverless.yml's
``package.artifact``), exactly like Lambda: it must be built first, once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy import tooling


@pytest.fixture(scope="session")
def artifact() -> Path:
    return tooling.build_artifact()
