"""The layout rules of docs/architecture.md that code can check: the pure modules load without the
AWS SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The pure core: planning, selection, the engine's loop and the daily figures take plain data and
# gateways passed in, so none of them may load boto3 (or botocore) to get a type.
PURE_MODULES = [
    "bot.sqs_model",
    "bot.planner",
    "bot.selection",
    "bot.inspection",
    "bot.catalog",
    "bot.engine",
    "bot.redrive_model",
    "bot.held",
    "bot.pacing",
    "bot.daily.figures",
    "bot.daily.scan",
    # The stores of the state table take a StateTableApi: boto3 stays in bot/state_table.py.
    "bot.state_table_api",
    "bot.daily.snapshots",
    "bot.daily.lease",
    "bot.redrive_ledger",
    # The other gateways' interfaces: what the rules take, without the SDKs behind them.
    "bot.lambda_api",
    "bot.slack.web_api",
]

# Run in a fresh interpreter: an import finder that refuses the AWS SDK, then the module.
_PROBE = """
import importlib.abc, sys

class RefuseAwsSdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ImportError(f"{name} imported")
        return None

sys.meta_path.insert(0, RefuseAwsSdk())
import importlib
importlib.import_module(sys.argv[1])
"""


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_loads_without_boto3(module: str) -> None:
    # Given an interpreter in which importing boto3 or botocore fails
    # When the pure module is imported
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it loads: nothing it imports reaches for the AWS SDK
    assert done.returncode == 0, done.stderr
