"""The App Home tab as Block Kit (pure: ``HomeData`` in, a ``views.publish`` view out).

Slack takes at most 100 blocks in a Home tab and 3,000 characters in a section's text. The tab
shows, top down: a Refresh button with when the figures were read, what could not be read, the
pending approvals and the runs in progress (each at most a few, the rest counted), then the
watched DLQs deepest first, two blocks each (its figures, its Peek / Redrive… / Export…
buttons), as many as the blocks left allow; the others are summarised in one block with how
many and their total depth.

Every figure says what it is: SQS's ApproximateNumberOfMessages* are "about N" (AWS documents
them as approximate); the last daily scan's figures are "as of <time> scan", and bounds ("at
least", "at the latest") when that scan did not read every message. Every text we did not write
(queue names, error labels, selections, problem lines) goes through ``bot.slack.mrkdwn``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from bot.daily.kind_lines import kind_mark, within
from bot.expiry import latest_local_time, local_time
from bot.slack.blocks import action_words, context, section
from bot.slack.button_values import QUEUE_NAME
from bot.slack.home_model import (
    HomeData,
    HomeDlq,
    PendingApproval,
    RunInProgress,
    ScanFacts,
    TrendPoint,
)
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import (
    code,
    duration,
    duration_at_least,
    escape,
    number,
    short_day,
    sparkline,
)

MAX_HOME_BLOCKS = 100  # Slack: "Max of 100 blocks" in a Home tab view
APPROVALS_SHOWN = 5  # pending approvals shown one a block; the rest are counted
RUNS_SHOWN = 5  # runs in progress shown one a block; the rest are counted
TREND_POINTS = 7  # the trend's days, the last ones the data has
TOP_ERRORS_SHOWN = 3
NAME_CHARS = 120  # a queue name shown (SQS names are at most 80; a longer one is not ours)
LABEL_CHARS = 150  # an error group's label
SELECTION_CHARS = 300  # an approval's selection
LINE_CHARS = 500  # a problem or unread line
SUMMARY_NAMES_CHARS = 1_500  # names of the DLQs summarised in one block
BLOCKS_PER_DLQ = 2  # its section and its buttons
ABOUT = "about "  # SQS's ApproximateNumberOfMessages*: AWS documents them as approximate
# Said of a part that could not be read (``HomeData.not_read``), never "none": its problem line
# is in the tab's head, above it.
NOT_READ = "not read (the warning above says why)"

Block = dict[str, Any]

# Slack's ids (users U…/W…, channels C…/G…/D…): only such an id is put in a <@…> or <#…>
# mention; anything else is shown as text, never as live markup.
_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")


def home_view(data: HomeData, *, tz: ZoneInfo) -> dict[str, Any]:
    """The Home tab's view (``{"type": "home", "blocks": [...]}``) within Block Kit's limits: at
    most 100 blocks, 3,000 characters a section; DLQs beyond what fits are summarised in one
    block (how many, their total depth); buttons Peek (HOME_PEEK), Redrive… (HOME_REDRIVE),
    Export… (HOME_EXPORT) per DLQ with value ``{"queue": name}``, a Refresh button
    (HOME_REFRESH) at the top; the user's pending approvals (with a link to the card's channel)
    and the runs in progress. Time stamps in ``tz``."""
    head = _head(data, tz)
    approvals = _approvals(data.approvals, tz, unread="approvals" in data.not_read)
    runs = _runs(data.runs, tz, unread="runs" in data.not_read, window=data.runs_window)
    room = MAX_HOME_BLOCKS - len(head) - len(approvals) - len(runs)
    blocks = [*head, *approvals, *runs, *_dlqs(data, room, tz)]
    return {"type": "home", "blocks": blocks}


def home_error_view(problem: str) -> dict[str, Any]:
    """The Home tab when nothing could be read: what went wrong (plain text, escaped here) and
    the Refresh button to try again."""
    return {
        "type": "home",
        "blocks": [
            _title(),
            _refresh("Nothing could be read just now."),
            section(f":x: {escape(problem, limit=LINE_CHARS)}"),
        ],
    }


def _title() -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": "DLQ redrive"}}


def _refresh(text: str) -> Block:
    """A section with the Refresh button (no value: the click itself is the request)."""
    block = section(text)
    block["accessory"] = {
        "type": "button",
        "action_id": ActionId.HOME_REFRESH.value,
        "text": {"type": "plain_text", "text": "Refresh"},
    }
    return block


def _head(data: HomeData, tz: ZoneInfo) -> list[Block]:
    depth = sum(d.depth for d in data.dlqs)
    in_flight = sum(d.in_flight for d in data.dlqs)
    # Some not read: the count and total are of those read, and say so.
    read = (
        f" read, {number(data.dlqs_not_read)} could not be (see below)"
        if data.dlqs_not_read
        else ""
    )
    watched = (
        f"*{number(len(data.dlqs))}* watched DLQ(s){read}: *{ABOUT}{number(depth)}* "
        f"message(s), {ABOUT}{number(in_flight)} in flight"
        if data.dlqs
        else "The watched DLQs could not be read: the warning below says why."
        if "dlqs" in data.not_read
        else "No watched DLQ found."
    )
    blocks = [_title(), _refresh(f"{watched}\nRead {local_time(data.read_at, tz)}")]
    if data.problems:
        lines = [f":warning: {escape(line, limit=LINE_CHARS)}" for line in data.problems]
        blocks.append(section("\n".join(lines)))
    lines = [f":warning: {escape(line, limit=LINE_CHARS)}" for line in data.unread]
    if data.dlqs:
        # The feeder kinds come from the daily report's record, not a scan on every open.
        lines.append(
            f"Kinds as of the {local_time(data.kinds_as_of, tz)} daily report"
            if data.kinds_as_of is not None
            else "Kinds: not known until a daily report records them"
        )
    if lines:
        blocks.append(context("\n".join(lines)))
    return blocks


def _user(user: str) -> str:
    return f"<@{user}>" if _SLACK_ID.fullmatch(user) else code(user, limit=60)


def _channel(channel: str) -> str:
    return f"<#{channel}>" if _SLACK_ID.fullmatch(channel) else code(channel, limit=60)


def _listed(
    title: str, lines: Iterator[str], total: int, *, shown: int, unread: bool, among: str, more: str
) -> list[Block]:
    """A titled list of ``total`` items: the first ``shown`` of ``lines`` one a block, the rest
    counted (``…and N more<more>``); "none" (or not read) when there are none."""
    if not total:
        return [section(f"{title}: {NOT_READ if unread else 'none' + among}")]
    blocks = [section(f"{title} ({number(total)}{among})")]
    blocks += [section(line) for line in islice(lines, shown)]
    if total > shown:
        blocks.append(context(f"…and {number(total - shown)} more{more}"))
    return blocks


def _approvals(
    approvals: Sequence[PendingApproval], tz: ZoneInfo, *, unread: bool = False
) -> list[Block]:
    # The ones the viewer can act on first (theirs to decide, then their own), soonest to expire.
    ordered = sorted(approvals, key=lambda a: (not a.may_decide, not a.mine, a.expires_at))
    return _listed(
        "*Pending approvals*",
        (_approval(a, tz) for a in ordered),
        len(approvals),
        shown=APPROVALS_SHOWN,
        unread=unread,
        among="",
        more=" pending approval(s), each on its card",
    )


def _approval(approval: PendingApproval, tz: ZoneInfo) -> str:
    words = action_words(approval.action)
    # The request's count, as its card shows it: what was counted when it was made, not the
    # DLQ's depth now (the DLQ may have filled or drained since).
    count, when = (
        (f"{number(approval.matched)}", "(counted when the request was made)")
        if approval.count_complete
        else (
            f"up to {number(approval.matched)}",
            "(counted when the request was made; the count stopped early)",
        )
    )
    marks = (("*yours*", approval.mine), ("you may approve", approval.may_decide))
    shown = [mark for mark, on in marks if on]
    return (
        f"{words.emoji} *{words.title}* {code(approval.request_id, limit=60)}: {count} "
        f"message(s) from {code(approval.dlq, limit=NAME_CHARS)} {when}"
        + (f" · {' · '.join(shown)}" if shown else "")
        + f"\n{code(approval.selection_text, limit=SELECTION_CHARS)}"
        f" · requested by {_user(approval.requested_by)} {local_time(approval.requested_at, tz)}"
        f" · expires {local_time(approval.expires_at, tz)}"
        f" · card in {_channel(approval.channel)}"
    )


def _runs(
    runs: Sequence[RunInProgress],
    tz: ZoneInfo,
    *,
    unread: bool = False,
    window: int | None = None,
) -> list[Block]:
    # Looked for among the latest ``window`` runs only: said, as an older one may still go.
    among = "" if window is None else f" among the latest {number(window)} runs"
    return _listed(
        "*Runs in progress*",
        (_run(run, tz) for run in runs),
        len(runs),
        shown=RUNS_SHOWN,
        unread=unread,
        among=among,
        more=": `/dlq-redrive status` lists them",
    )


def _run(run: RunInProgress, tz: ZoneInfo) -> str:
    words = action_words(run.action)
    approved = f" · approved by {_user(run.approved_by)}" if run.approved_by else ""
    return (
        f":hourglass_flowing_sand: *{words.doing}* {code(run.dlq, limit=NAME_CHARS)}: "
        f"{words.done} *{number(run.moved)}* of at most {number(run.matched)}"
        f" · started {local_time(run.started_at, tz)}{approved}"
        f" · run {code(run.run_id, limit=60)}"
    )


def _dlqs(data: HomeData, room: int, tz: ZoneInfo) -> list[Block]:
    """The DLQs in ``room`` blocks: each with its buttons while they fit, then one summary."""
    dlqs = data.dlqs
    if not dlqs:
        return []
    fits = len(dlqs) * BLOCKS_PER_DLQ <= room
    shown = dlqs if fits else dlqs[: max(room - 1, 0) // BLOCKS_PER_DLQ]
    blocks: list[Block] = []
    for dlq in shown:
        blocks.append(section(_dlq_text(dlq, data.read_at, tz, "scans" in data.not_read)))
        blocks += _buttons(dlq.name)
    if not fits:
        blocks.append(_summary(dlqs[len(shown) :]))
    return blocks


def _summary(rest: Sequence[HomeDlq]) -> Block:
    depth = sum(d.depth for d in rest)
    names = within([d.name for d in rest], SUMMARY_NAMES_CHARS)
    # The names last: a cut to the section's 3,000 characters (escaping can make them longer)
    # takes only names, never the figures.
    return section(
        f"*…and {number(len(rest))} more DLQ(s)* not shown here (Slack shows at most "
        f"{MAX_HOME_BLOCKS} blocks), {ABOUT}{number(depth)} message(s) in all; "
        f"`/dlq-redrive list` lists them all: {names}"
    )


_DLQ_BUTTONS = (
    ("Peek", ActionId.HOME_PEEK),
    ("Redrive…", ActionId.HOME_REDRIVE),
    ("Export…", ActionId.HOME_EXPORT),
)


def _buttons(name: str) -> list[Block]:
    """Peek, Redrive… and Export… for ``name``; none for a name the endpoint would refuse to
    read back from a click (``bot.slack.button_values``)."""
    if not QUEUE_NAME.fullmatch(name):
        return [context("(no buttons: not an SQS queue name)")]
    value = json.dumps({"queue": name}, separators=(",", ":"))
    return [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": action.value,
                    "text": {"type": "plain_text", "text": label},
                    "value": value,
                }
                for label, action in _DLQ_BUTTONS
            ],
        }
    ]


def _dlq_text(dlq: HomeDlq, now: datetime, tz: ZoneInfo, scans_unread: bool) -> str:
    retention = (
        f" · keeps messages {duration(timedelta(seconds=dlq.retention_s))}"
        if dlq.retention_s is not None
        else ""
    )
    depth = f"Depth *{ABOUT}{number(dlq.depth)}* · in flight {ABOUT}{number(dlq.in_flight)}"
    lines = [f"*{code(dlq.name, limit=NAME_CHARS)}*{kind_mark(dlq.kind)}", depth + retention]
    if dlq.trend:
        lines.append(_trend(dlq.trend[-TREND_POINTS:]))
    lines += (
        [f"Last daily scan: {NOT_READ}"]
        if dlq.scan is None and scans_unread
        else _scan_lines(dlq.scan, now, tz)
    )
    return "\n".join(lines)


def _trend(points: Sequence[TrendPoint]) -> str:
    """The daily reports' depths: a sparkline and each day's number (estimates say "about").
    The sparkline has a place for every day from the first to the last, a day without a
    snapshot marked missing: side by side, the points would draw a shape that never was."""
    depth_on = {p.day: p.depth for p in points}
    span = (points[-1].day - points[0].day).days + 1
    spark = sparkline([depth_on.get(points[0].day + timedelta(days=n)) for n in range(span)])
    days = " · ".join(
        f"{short_day(p.day)} {'' if p.exact else ABOUT}{number(p.depth)}" for p in points
    )
    return f"{span}d {code(spark)} {days}"


def _scan_lines(scan: ScanFacts | None, now: datetime, tz: ZoneInfo) -> list[str]:
    """What the last daily scan found: exact when it read every message, else bounds."""
    if scan is None:
        return ["No daily scan recorded yet."]
    bound = "" if scan.complete else "at least "
    read = (
        f"read all {number(scan.messages)}"
        if scan.complete
        else f"read {number(scan.messages)}, not every message: figures are bounds"
    )
    facts = [f"{bound}{number(scan.messages)} message(s)"]
    if scan.oldest_sent is not None:
        # Its age at the scan, as the line says "as of" it (and the report said): by now it may
        # have been redriven, and an age at read time would claim it is still waiting.
        age = max(scan.scanned_at - scan.oldest_sent, timedelta(0))
        said = duration(age) if scan.complete else duration_at_least(age)
        facts.append(f"oldest {bound}{said} old")
    if scan.next_expiry is not None:
        when = (
            local_time(scan.next_expiry, tz)
            if scan.complete
            else f"at the latest {latest_local_time(scan.next_expiry, tz)}"
        )
        passed = " (passed since)" if scan.next_expiry <= now else ""
        facts.append(f"next expiry {when}{passed}")
    lines = [f"As of {local_time(scan.scanned_at, tz)} scan ({read}): " + " · ".join(facts)]
    if scan.top_errors:
        groups = [
            f"{code(group.label, limit=LABEL_CHARS)} {bound or '×'}{number(group.count)}"
            for group in scan.top_errors[:TOP_ERRORS_SHOWN]
        ]
        lines.append("Top errors: " + " · ".join(groups))
    return lines
