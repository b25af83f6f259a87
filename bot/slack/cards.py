"""Updating an approval card: best effort, retried, never in the way of a run.

The decision and the run are in the state table before any card update (``bot.state``), so a
card that cannot be updated only shows an older state: the failure is logged and the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import DlqRedriveError
from bot.slack import blocks
from bot.slack.observability import count, logger
from bot.slack.web_api import SlackApi
from bot.state_model import ApprovalRequest

CARD_UPDATE_TRIES = 3
CARD_RETRY_DELAY_S = 0.5  # doubled after each failed try


class Cards:
    """The approval cards of one worker."""

    def __init__(
        self,
        slack: SlackApi,
        tz: ZoneInfo,
        *,
        tries: int = CARD_UPDATE_TRIES,
        delay_s: float = CARD_RETRY_DELAY_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.slack = slack
        self.tz = tz
        self.tries = tries
        self.delay_s = delay_s
        self.sleep = sleep

    def when(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")

    def update(self, request: ApprovalRequest, status_line: str, *extra: str) -> bool:
        """Show ``status_line`` (and ``extra`` lines) on the request's card; False when Slack
        refused every try (logged, counted, never raised)."""
        if not request.message_ts:
            return False
        message = blocks.card_update(request, self.tz, status_line, *extra)
        delay = self.delay_s
        for attempt in range(1, self.tries + 1):
            try:
                self.slack.update(request.channel, request.message_ts, message)
                return True
            except DlqRedriveError as exc:
                logger.warning(
                    "card update failed",
                    extra={
                        "correlation_id": request.request_id,
                        "attempt": attempt,
                        "error": str(exc),
                    },
                )
                if attempt < self.tries:
                    self.sleep(delay)
                    delay *= 2
        count("CardUpdatesFailed")
        return False
