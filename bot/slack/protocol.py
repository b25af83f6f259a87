"""What the Slack endpoint hands the worker: the job kinds and the key of a delivery.

Shared by both sides and kept tiny, so the endpoint's cold start loads none of the worker's code.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum


class JobKind(StrEnum):
    COMMAND = "command"
    REPORT_BUTTON = "report_button"
    DECISION = "decision"
    CONTINUE = "continue"
    REPLY = "reply"


def delivery_key(signature: str) -> str:
    """A short key for one signed Slack request (each signature is unique to its body and time;
    a replay carries the same one)."""
    return hashlib.sha256(signature.encode()).hexdigest()[:32]
