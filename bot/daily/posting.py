"""Posting the daily report so that each message goes out once per scheduled run.

A run that fails is retried by Lambda (the idempotency record is released when the function
raises), and the retry runs the whole job again. So every message is a named *part* of the run
("report", "report.2", "final.3.1", ...) and its Slack ``ts`` is recorded in the state table as
soon as Slack accepts it. A part already posted is updated in place (``chat.update``) with what
this attempt rendered; only the missing ones are posted. Updating rather than skipping keeps the
parts consistent with each other: a later attempt may order the DLQs differently (the
auto-redrive changed their depths), and every DLQ is still detailed exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.daily.blocks import RenderedReport, SlackMessage, text_messages
from bot.daily.snapshots import RunState
from bot.errors import AwsError
from bot.printable import printable_logger

logger = printable_logger(__name__)

REPORT = "report"
# What a part an earlier attempt posted becomes when this attempt needs fewer parts.
SUPERSEDED = "This part of the report is no longer needed: the report above holds it now."


class ReportPoster:
    """Posts (or updates) the parts of one channel's daily report, recording each in ``runs``."""

    def __init__(
        self, slack: Any, runs: RunState, channel: str, clock: Callable[[], datetime]
    ) -> None:
        self.slack = slack
        self.runs = runs
        self.channel = channel
        self.clock = clock

    def publish(self, run: str, rendered: RenderedReport) -> str:
        """The report and its thread replies, each posted once per ``run``; the report's ts."""
        posted = self.runs.posted(run)
        ts = self._put(run, REPORT, rendered.message, posted, thread_ts=None)
        self._put_all(run, REPORT, rendered.thread, posted, thread_ts=ts)
        return ts

    def reply(
        self, run: str, part: str, thread_ts: str | None, messages: list[SlackMessage]
    ) -> None:
        """Thread replies named ``part.1``, ``part.2``, ... each posted once per ``run``."""
        self._put_all(run, part, messages, self.runs.posted(run), thread_ts=thread_ts)

    def _put_all(
        self,
        run: str,
        prefix: str,
        messages: list[SlackMessage],
        posted: dict[str, str],
        *,
        thread_ts: str | None,
    ) -> None:
        for index, message in enumerate(messages, 1):
            self._put(run, f"{prefix}.{index}", message, posted, thread_ts=thread_ts)
        [superseded] = text_messages(SUPERSEDED, [])
        for part in sorted(posted):
            number = part.removeprefix(prefix + ".")
            if number != part and number.isdigit() and int(number) > len(messages):
                self._put(run, part, superseded, posted, thread_ts=thread_ts)

    def _put(
        self,
        run: str,
        part: str,
        message: SlackMessage,
        posted: dict[str, str],
        *,
        thread_ts: str | None,
    ) -> str:
        ts = posted.get(part)
        if ts is not None:
            try:
                self.slack.chat_update(
                    channel=self.channel, ts=ts, text=message.text, blocks=message.blocks
                )
            except SlackApiError as exc:
                # The part is in Slack already (maybe deleted by someone since): failing the run
                # for it would only make Lambda retry the whole job.
                logger.warning("part %s of run %s not updated: %s", part, run, exc)
            return ts
        where: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        response = self.slack.chat_postMessage(
            channel=self.channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
            **where,
        )
        ts = str(response["ts"])
        posted[part] = ts
        try:
            self.runs.record_post(run, part, ts, now=self.clock())
        except AwsError as exc:
            # Carry on: stopping now would make Lambda retry, and the retry post everything again.
            logger.warning(
                "post %s of run %s not recorded (a retry may repeat it): %s", part, run, exc
            )
        return ts
