"""Posting the daily report so that each message goes out once per scheduled run.

A run that fails is retried by Lambda (the run's lease is released when the function raises),
and the retry runs the whole job again. So every message is a named *part* of the run
("report", "report.2", "final.3.1", ...) and its Slack ``ts`` is recorded in the state table as
soon as Slack accepts it. A part already posted is updated in place (``chat.update``) with what
this attempt rendered (an update Slack refuses fails the attempt, so Lambda's retry updates it
again); only the missing ones are posted. Updating rather than skipping keeps the
parts consistent with each other: a later attempt may order the DLQs differently (the
auto-redrive changed their depths), and every DLQ is still detailed exactly once.

A record can be lost (the state table refused the write, or cannot be read at all), so every
part also carries Slack message metadata naming the run and the part. An attempt that may follow
another one looks a part without a record up in the channel (``SlackApi.history``:
``conversations.history``, or ``conversations.replies`` for a thread) before posting it. Needs the
``channels:history`` (or ``groups:history``, for a private channel) scope; without it the lookup
fails, is logged, and the part is posted, since the report arriving matters more than a repeated
part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.daily.blocks import RenderedReport, SlackMessage, text_messages
from bot.daily.ports import PostRecords
from bot.errors import AwsError
from bot.printable import printable_logger
from bot.slack.web_api import SlackApi, SlackError

logger = printable_logger(__name__)

REPORT = "report"
# What a part an earlier attempt posted becomes when this attempt needs fewer parts.
SUPERSEDED = "This part of the report is no longer needed: the report above holds it now."
# The message metadata's event type of every part (its payload: the run and the part's name).
EVENT_TYPE = "dlq_redrive_report"
# chat.update errors a retry cannot cure: the message was deleted, or is not one this app may
# edit. Any other refusal fails the attempt, and Lambda's retry updates the part again.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# A lookup reads at most this many pages of this many messages ("We recommend no more than 200
# results at a time", conversations.history): a report channel holds a few messages a day.
LOOKUP_PAGE = 200
LOOKUP_PAGES = 10
# Lookup refusals no later attempt cures: the app may not read this channel's history (no
# channels:history scope; a channel it is not in, which chat:write.public still posts to; one
# it cannot see). ``find`` then answers "not posted" (the part is posted rather than lost); any
# other refusal (Slack busy, rate limited, unreachable) says nothing about the part, and
# ``find`` raises it.
NO_HISTORY = frozenset({"missing_scope", "not_in_channel", "channel_not_found"})


@dataclass
class _Parts:
    """What is known of one run's parts in the channel while one attempt posts them."""

    # The ts of each part posted so far, by name: from the records, lookups and this attempt.
    posted: dict[str, str]
    # Whether Slack may hold parts that ``posted`` misses (an earlier attempt may have lost a
    # record): then a part without one is looked up before it is posted.
    look_up: bool
    # The places already looked up (``None``: the channel; else a thread's ts). A message this
    # attempt just posted has no replies yet: its thread is known without a lookup.
    looked: set[str | None] = field(default_factory=set)


class ReportPoster:
    """Posts (or updates) the parts of one channel's daily report, recording each in ``runs``.

    ``run`` is the run's key: its scheduled time in ISO 8601. No attempt of a run starts before
    it, so a lookup reads the channel from that time on. ``event_type``: the metadata's, which
    a lookup looks for (the alert checks post with their own: ``bot.alerts.job``).
    """

    def __init__(
        self,
        slack: SlackApi,
        runs: PostRecords,
        channel: str,
        clock: Callable[[], datetime],
        *,
        event_type: str = EVENT_TYPE,
    ) -> None:
        self.slack = slack
        self.runs = runs
        self.channel = channel
        self.clock = clock
        self.event_type = event_type

    def publish(
        self,
        run: str,
        rendered: RenderedReport,
        *,
        first_attempt: bool = False,
        part: str = REPORT,
    ) -> str:
        """The report (top-level ``part``) and its thread replies, each posted once per
        ``run``; the report's ts.

        ``first_attempt``: no earlier attempt of this run can have posted anything (its claim
        found no trace of one), so nothing needs looking up in Slack.
        """
        parts = self._parts(run, first_attempt)
        ts = self._put(run, part, rendered.message, parts, thread_ts=None)
        self._put_all(run, part, rendered.thread, parts, thread_ts=ts)
        return ts

    def reply(
        self,
        run: str,
        part: str,
        thread_ts: str | None,
        messages: list[SlackMessage],
        *,
        first_attempt: bool = False,
    ) -> None:
        """Thread replies named ``part.1``, ``part.2``, ... each posted once per ``run``."""
        parts = self._parts(run, first_attempt)
        self._put_all(run, part, messages, parts, thread_ts=thread_ts)

    def find(self, run: str, part: str, *, thread_ts: str | None = None) -> str | None:
        """The ts of ``part`` of ``run`` (top-level, or a reply in the thread ``thread_ts``) if
        it was posted: from the records, else looked up in Slack (a record can be lost); None
        if it never was, or if the app may not read the history (``NO_HISTORY``). SlackError
        if Slack failed the lookup otherwise: a caller that took that for "never posted" would
        post the part a second time (the alert checks' one alert per quiet period)."""
        parts = self._parts(run, first_attempt=False)
        if part not in parts.posted:  # recorded: Slack need not be asked
            self._look_up(run, parts, thread_ts, strict=True)
        return parts.posted.get(part)

    def _parts(self, run: str, first_attempt: bool) -> _Parts:
        try:
            return _Parts(self.runs.posted(run), look_up=not first_attempt)
        except AwsError as exc:
            logger.warning("posts of run %s not read, looking them up in Slack: %s", run, exc)
            return _Parts({}, look_up=True)

    def _put_all(
        self,
        run: str,
        prefix: str,
        messages: list[SlackMessage],
        parts: _Parts,
        *,
        thread_ts: str | None,
    ) -> None:
        for index, message in enumerate(messages, 1):
            self._put(run, f"{prefix}.{index}", message, parts, thread_ts=thread_ts)
        self._look_up(run, parts, thread_ts)  # parts beyond those needed now, posted earlier
        [superseded] = text_messages(SUPERSEDED, [])
        for part in sorted(parts.posted):
            number = part.removeprefix(prefix + ".")
            if number != part and number.isdigit() and int(number) > len(messages):
                self._put(run, part, superseded, parts, thread_ts=thread_ts)

    def _put(
        self,
        run: str,
        part: str,
        message: SlackMessage,
        parts: _Parts,
        *,
        thread_ts: str | None,
    ) -> str:
        if part not in parts.posted:
            self._look_up(run, parts, thread_ts)
        metadata = {"event_type": self.event_type, "event_payload": {"run": run, "part": part}}
        ts = parts.posted.get(part)
        if ts is not None:
            try:
                self.slack.update(
                    self.channel,
                    ts,
                    {"text": message.text, "blocks": message.blocks, "metadata": metadata},
                )
            except SlackError as exc:
                if exc.code not in GONE:
                    raise
                # Deleted by someone since, or not ours to edit: a retry would fail the same.
                logger.warning("part %s of run %s not updated: %s", part, run, exc)
            return ts
        where: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        ts = self.slack.post(
            self.channel,
            {
                "text": message.text,
                "blocks": message.blocks,
                "unfurl_links": False,
                "unfurl_media": False,
                "metadata": metadata,
                **where,
            },
        )
        parts.posted[part] = ts
        if thread_ts is None:
            parts.looked.add(ts)
        self._record(run, part, ts)
        return ts

    def _record(self, run: str, part: str, ts: str) -> None:
        try:
            self.runs.record_post(run, part, ts, now=self.clock())
        except AwsError as exc:
            # Carry on: stopping now would make Lambda retry, and the retry would have to find
            # the part in Slack (by its metadata) instead of in the state table.
            logger.warning("post %s of run %s not recorded: %s", part, run, exc)

    def _look_up(
        self, run: str, parts: _Parts, thread_ts: str | None, *, strict: bool = False
    ) -> None:
        """Add to ``parts`` the parts of ``run`` Slack holds in the channel (``thread_ts``
        None) or in that thread, once, if earlier attempts may have posted some unrecorded.
        ``strict``: a refusal other than ``NO_HISTORY`` is raised, not taken for "none"."""
        if not parts.look_up or thread_ts in parts.looked:
            return
        try:
            found = self._find(run, thread_ts)
        except SlackError as exc:  # e.g. missing_scope: post rather than lose the report
            if strict and exc.code not in NO_HISTORY:
                raise
            parts.looked.add(thread_ts)
            logger.warning("parts of run %s not looked up in Slack: %s", run, exc)
            return
        parts.looked.add(thread_ts)
        for part, ts in found.items():
            if part not in parts.posted:
                parts.posted[part] = ts
                self._record(run, part, ts)

    def _find(self, run: str, thread_ts: str | None) -> dict[str, str]:
        """The parts of ``run`` found in Slack, by the metadata they were posted with."""
        try:
            oldest = f"{datetime.fromisoformat(run).timestamp():.6f}"
        except ValueError:
            oldest = "0"
        found: dict[str, str] = {}
        cursor: str | None = None
        for _page in range(LOOKUP_PAGES):
            page = self.slack.history(
                self.channel, oldest=oldest, thread_ts=thread_ts, cursor=cursor, limit=LOOKUP_PAGE
            )
            for message in page.messages:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == self.event_type and payload.get("run") == run:
                    found.setdefault(str(payload.get("part")), str(message["ts"]))
            cursor = page.next_cursor
            if not cursor:
                break
        return found
