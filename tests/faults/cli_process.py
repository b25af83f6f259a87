"""The CLI started as its own process against the local AWS (and, for a fault test, through a
``FaultProxy``): what the signal and fault tests kill, interrupt or slow down from outside."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.local.moto_server import LocalAws

ROOT = Path(__file__).resolve().parents[2]


def start_cli(
    argv: Sequence[str], aws: LocalAws, *, text: bool = True, **endpoints: str
) -> subprocess.Popen[Any]:
    """Start ``argv`` (``sys.executable -m bot.cli ...``) in TIMEZONE=UTC, reaching ``aws`` and,
    per service, the endpoints given (``AWS_ENDPOINT_URL_SQS=proxy.endpoint``)."""
    env = {**os.environ, **aws.env, **endpoints, "TIMEZONE": "UTC", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        list(argv),
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
    )
