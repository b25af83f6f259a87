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
    # Per message of a peek; value JSON {"queue": "<dlq name>", "message_id": "<id>"}.
    PEEK_DISCARD = "dlq_redrive.peek_discard"
    PEEK_EDIT = "dlq_redrive.peek_edit"
    # Per error group of the daily report; value JSON {"queue", "error": "#<12 hex>", "date"?}:
    # the group's label digest (a label can be longer than a button value).
    REPORT_ERROR_REDRIVE = "dlq_redrive.report_error_redrive"
    REPORT_ERROR_DISCARD = "dlq_redrive.report_error_discard"
    # Per DLQ with messages expiring before the next report; value JSON {"queue", "until": ISO
    # 8601 with offset}: the sent-time bound that selects exactly those (bot.expiry).
    REPORT_EXPIRING_REDRIVE = "dlq_redrive.report_expiring_redrive"
    REPORT_EXPIRING_EXPORT = "dlq_redrive.report_expiring_export"
    # The Edit & resend modal's callback_id (a view, not a button; kept here so every id the
    # app answers to is in this one enum).
    EDIT_MODAL = "dlq_redrive.edit_modal"
    # The edit modal's body field (a plain_text_input; its errors are answered on its block).
    EDIT_BODY = "dlq_redrive.edit_body"
    # The request modal's callback_id (/dlq-redrive with no text, Home's Redrive…/Export…), and
    # its Count button / dispatch_action inputs (block and action ids of its inputs are the
    # REQUEST_FIELD_* constants of bot/slack/request_form.py).
    REQUEST_MODAL = "dlq_redrive.request_modal"
    REQUEST_COUNT = "dlq_redrive.request_count"
    # The App Home tab (issue 14). Refresh: no value. Peek / Redrive… / Export… per DLQ: value
    # JSON {"queue": "<dlq name>"}; Redrive… and Export… open the request modal (action preset).
    HOME_REFRESH = "dlq_redrive.home_refresh"
    HOME_PEEK = "dlq_redrive.home_peek"
    HOME_REDRIVE = "dlq_redrive.home_redrive"
    HOME_EXPORT = "dlq_redrive.home_export"
    # The Home peek modal's callback_id (opened loading on the ack path, filled by the worker).
    PEEK_MODAL = "dlq_redrive.peek_modal"


SLASH_COMMAND = "/dlq-redrive"
