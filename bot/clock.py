"""The wall clock the composition root and the ``assemble_*`` wirings give their parts by
default (tests give a fixed one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
