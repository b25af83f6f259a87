"""Every Slack action_id / callback_id the app uses, in one place (no literals elsewhere)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """Button action ids. The button ``value`` carries only an opaque id or a small JSON payload;
    the server decides everything from stored state."""

    APPROVE = "dlq_redrive.approve"
    REJECT = "dlq_redrive.reject"
    # Buttons on the daily report: start the approval flow / peek for one DLQ.
    # Their value is JSON: {"queue": "<dlq name>", "date": "YYYY-MM-DD"} (date optional).
    REPORT_REDRIVE = "dlq_redrive.report_redrive"
    REPORT_PEEK = "dlq_redrive.report_peek"


SLASH_COMMAND = "/dlq-redrive"
