"""Render a ``DailyReport`` as a Slack message: Block Kit blocks, a plain-text fallback, and
thread replies for what does not fit. Pure functions; no I/O.

Slack refuses a message with more than 50 blocks or a section text over 3,000 characters. The main
message shows the DLQs that need attention first (unreadable, then deepest), at most
``MAX_DLQS_IN_MESSAGE`` of them; the others are named in one summary line and detailed in thread
replies, each reply again within the limits. Quiet DLQs (empty, nothing happened) are listed by
name only.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.daily.figures import SampleFigures
from bot.daily.kind_lines import (
    MAX_SOURCES_TEXT,
    feeders_line,
    for_human_line,
    kind_mark,
    no_canary_line,
    unread_lines,
    within,
)
from bot.daily.report import AutoRedrive, CanaryResult, Count, DailyReport, DlqStatus
from bot.expiry import Expiring, expiring, local_time, until_value
from bot.run_control import (
    BEHIND_THEIR_GROUP,
    CANNOT_SEE_PAST,
    MAY_HAVE_BEEN_DELIVERED,
    STOPPED_BEFORE_THEM,
)
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import (
    MAX_MESSAGE_TEXT,
    block_text_length,
    code,
    cut,
    duration,
    duration_at_least,
    escape,
    number,
    short_day,
    sparkline,
)

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
MAX_DLQS_IN_MESSAGE = 20  # 2 blocks each, plus 6 for header, summary, context and overflow
DLQS_PER_THREAD_REPLY = 24
MAX_OVERFLOW_NAMES = 1000  # the names of the DLQs detailed in the thread, in the report itself
BLOCK_KIT_BUILDER_URL = "https://app.slack.com/block-kit-builder#"

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One message to post: blocks and the plain-text fallback every message must carry."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class RenderedReport:
    """The report message and the thread replies that complete it (maybe none)."""

    message: SlackMessage
    thread: list[SlackMessage]


# --- small formatting helpers -------------------------------------------------------------------


# escape, code, cut and number are the ones every Slack surface uses (bot.slack.mrkdwn).


# How a figure that is not an exact count is marked (the summary explains both marks).
APPROXIMATE = "≈ "  # read from SQS's counters, which AWS documents as approximate
AT_LEAST = "≥ "  # a lower bound: that many were found in a sample of part of the DLQ


def counts_text(parts: list[tuple[str, Count]]) -> str:
    """Counts joined with ``·``, each template's ``{n}`` filled in; a bound is marked ``≥`` and
    says what it was found in (see ``figures_text``)."""
    return figures_text([(t, c.value, c.exact, "" if c.exact else _basis(c)) for t, c in parts])


def figures_text(parts: list[tuple[str, int, bool, str]]) -> str:
    """Figures ``(template, value, exact, basis)`` joined with ``·``: a bound is marked ``≥``
    and followed by its basis, or the line ends with it once when every figure is a bound of
    one basis (never when an exact figure could be read as found in it)."""
    bases = {basis for _, _, exact, basis in parts if not exact}
    shared = len(bases) == 1 and not any(exact for _, _, exact, _ in parts)
    texts = []
    for template, value, exact, basis in parts:
        text = template.format(n=("" if exact else AT_LEAST) + number(value))
        if not exact and not shared:
            text += f" ({basis})"
        texts.append(text)
    line = " · ".join(texts)
    if shared:
        line += " — " + bases.pop()
    return line


def _basis(count: Count) -> str:
    if count.among:
        return f"counted among {count.among} messages"
    samples = "a sample" if count.samples == 1 else "samples"
    return f"in {samples} of {number(count.sampled)} of {APPROXIMATE}{number(count.of)}"


def total_basis(parts: Sequence[Count]) -> str:
    """What a sum of the DLQs' ``parts`` is made of. All bounds found in samples: the samples.
    Else each kind with its own figure (counted exactly, counted in part of a DLQ, found in
    samples) and in how many DLQs, so no figure reads as found in another's basis and no full
    count is called a sample."""
    sampled = [c for c in parts if not c.exact and not c.among]
    if len(sampled) == len(parts):
        return _basis(sum(sampled, Count(0)))
    if not sampled and len({(c.exact, c.among) for c in parts}) == 1:
        return _basis(parts[0])  # every part counted in the same part of its DLQ
    exact = [c for c in parts if c.exact]
    bits = [f"{number(sum(c.value for c in exact))} exact in {plural(len(exact), 'DLQ')}"]
    bits = bits if exact else []
    for among in sorted({c.among for c in parts if c.among and not c.exact}):
        counted = [c for c in parts if c.among == among and not c.exact]
        value = number(sum(c.value for c in counted))
        bits.append(f"{AT_LEAST}{value} {_basis(counted[0])} in {plural(len(counted), 'DLQ')}")
    if sampled:
        total = sum(sampled, Count(0))
        bits.append(
            f"{AT_LEAST}{number(total.value)} {_basis(total)} in {plural(len(sampled), 'DLQ')}"
        )
    return "; ".join(bits)


def signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else (f"{value:,}" if value < 0 else "±0")


def plural(count: int, word: str) -> str:
    return f"{number(count)} {word}{'' if count == 1 else 's'}"


def builder_url(blocks: list[Block]) -> str:
    """A Block Kit Builder link that shows ``blocks`` rendered."""
    return view_builder_url({"blocks": blocks})


def view_builder_url(view: dict[str, Any]) -> str:
    """A Block Kit Builder link that shows ``view`` rendered: a Home tab or a modal (its
    ``type``, ``title``, ... and ``blocks``), or a message's ``{"blocks": [...]}``."""
    return BLOCK_KIT_BUILDER_URL + urllib.parse.quote(
        json.dumps(view, separators=(",", ":"), ensure_ascii=False), safe=""
    )


def _section(text: str, block_id: str | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def _context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)}],
    }


# --- one DLQ ------------------------------------------------------------------------------------


def _unsettled_parts(redrive: AutoRedrive) -> list[str]:
    """What an auto-redrive sent without a confirmation, held back, did not get to, or could not
    see: never called failed."""
    parts = []
    if redrive.unconfirmed:
        parts.append(
            f"{number(redrive.unconfirmed)} {MAY_HAVE_BEEN_DELIVERED} (the answer to their "
            "delivery was lost; left in the DLQ)"
        )
    if redrive.held_back:
        parts.append(
            f"{number(redrive.held_back)} held back {BEHIND_THEIR_GROUP} (left in the DLQ)"
        )
    if redrive.not_attempted:
        parts.append(
            f"{number(redrive.not_attempted)} selected but not sent: {STOPPED_BEFORE_THEM} "
            "(left in the DLQ)"
        )
    return parts


def _left_parts(redrive: AutoRedrive) -> list[str]:
    """Everything an auto-redrive left in the DLQ, by reason (the report and the thread's final
    count say the same)."""
    parts = []
    if redrive.failed:
        # Why, by code: a message naming a target that does not feed the DLQ, one several
        # functions could have failed, an endpoint no redrive reaches (issue 13), AWS's refusals.
        codes = ", ".join(
            f"{escape(cut(code, 60))} ×{number(n)}" for code, n in redrive.failed_codes[:3]
        )
        parts.append(
            f"*{number(redrive.failed)} failed* (left in the DLQ{': ' if codes else ''}{codes})"
        )
    parts += _unsettled_parts(redrive)
    if redrive.needs_human:
        parts.append(f"{number(redrive.needs_human)} poison left for a human")
    if redrive.for_human:
        parts.append(
            f"{number(redrive.for_human_count)} not redriven, for a human (no retry delivers them)"
        )
    if redrive.no_source:
        parts.append(
            f"{number(redrive.no_source)} with no recorded source left for a human (the DLQ "
            "has several source queues: redrive them with --to QUEUE)"
        )
    if redrive.unreadable_time:
        parts.append(f"{number(redrive.unreadable_time)} without a readable time left")
    if redrive.outside:
        parts.append(f"{number(redrive.outside)} outside the selection left")
    return parts


def _result_text(redrive: AutoRedrive, moved: str, unseen: int | None) -> str:
    """``moved`` and everything the auto-redrive left, by reason. Held messages of FIFO groups
    hide their groups' later ones (SQS hands out none of them meanwhile): its counts are then
    of the messages it looked at, never the DLQ's totals, and it says how many it did not look
    at (``unseen``, from SQS's approximate counters) when known."""
    text = ", ".join([moved, *_left_parts(redrive)])
    if not redrive.blocked_groups:
        return text
    looked = "messages" if redrive.scanned is None else number(redrive.scanned)
    groups = plural(redrive.blocked_groups, "FIFO group")
    text = f"of the {looked} it looked at: {text}; {CANNOT_SEE_PAST} {groups}"
    if unseen is None:
        return text + (
            " (any later messages of those groups were not looked at and stay in the DLQ)"
        )
    return text + f": {APPROXIMATE}{number(unseen)} not looked at (left in the DLQ)"


def _selected(redrive: AutoRedrive, report: DailyReport) -> str:
    """The days (or instants) the auto-redrive took; where times come from is in the context."""
    selection = redrive.selection
    if selection is None or selection.window.start is None or selection.window.end is None:
        return report.day.isoformat()
    tz = ZoneInfo(report.timezone)
    start, end = selection.window.start.astimezone(tz), selection.window.end.astimezone(tz)
    if start.time() != time(0) or end.time() != time(0):
        return escape(selection.window.describe(tz))
    first, last = start.date(), end.date() - timedelta(days=1)
    return first.isoformat() if first >= last else f"{first.isoformat()} to {last.isoformat()}"


def _redrive_line(status: DlqStatus, redrive: AutoRedrive, report: DailyReport) -> str:
    before, scanned = status.depth_before, redrive.scanned
    unseen = None if before is None or scanned is None else max(0, before - scanned)
    done = _result_text(redrive, f"moved {number(redrive.moved)} back{_moved_to(redrive)}", unseen)
    if redrive.error:
        error = escape(cut(redrive.error, 300))
        if not redrive.moved and not _left_parts(redrive) and not redrive.blocked_groups:
            line = f"Auto-redrive failed: {error}"
        else:
            # What it did before the error is done: the line says it, as the summary counts it.
            line = f"Auto-redrive of {_selected(redrive, report)}: {done}; then it stopped: {error}"
    else:
        line = f"Auto-redrive of {_selected(redrive, report)}: {done}"
        if redrive.continuing:
            line += " — still running; the final count follows in the thread"
    extra = [for_human_line(redrive.for_human), no_canary_line(redrive.no_canary)]
    if redrive.canary is not None and not redrive.error:
        extra.append(canary_line(redrive.canary, status.depth))
    return "\n".join([line, *(text for text in extra if text)])


def _moved_to(redrive: AutoRedrive) -> str:
    """Where a DLQ with feeders had its messages moved: " (to lambda resize (async invoke)
    ×2)", "of which" when an earlier attempt's moves are counted but not their destinations."""
    if not redrive.moved_to:
        return ""
    known = sum(n for _, n in redrive.moved_to)
    places = "; ".join(f"{escape(words)} ×{number(n)}" for words, n in redrive.moved_to[:5])
    if len(redrive.moved_to) > 5:
        places += f"; {plural(len(redrive.moved_to) - 5, 'more destination')}"
    return f" ({'' if known == redrive.moved else 'of which '}to {places})"


def canary_line(canary: CanaryResult, depth: int | None) -> str:
    """What the auto-redrive's canary did (``bot.run_control.canary_words``), the top errors of
    what came back, and, when it stopped the run, how many messages it left in the DLQ (SQS's
    approximate depth after the run)."""
    line = ":baby_chick: " + escape(canary.words or "The auto-redrive began with a canary.")
    if canary.errors:
        came_back = ", ".join(f"{code(label)} ×{number(n)}" for label, n in canary.errors)
        line += f" Came back with: {came_back}."
    if canary.stopped and depth is not None:
        line += f" *{APPROXIMATE}{number(depth)}* left in the DLQ."
    return line


def dlq_text(status: DlqStatus, report: DailyReport, now: datetime) -> str:
    """The section text of one DLQ."""
    if status.error is not None:
        return (
            f":warning: *{escape(status.name)}* could not be read: {escape(cut(status.error, 500))}"
        )
    sources = f" → {within(status.sources, MAX_SOURCES_TEXT)}" if status.sources else ""
    lines = [f"*{escape(status.name)}*{kind_mark(status.kind)}{sources}"]
    fed = feeders_line(status.feeders)
    if fed is not None:
        lines.append(fed)
    about = "" if status.depth_exact else APPROXIMATE
    depth = f"Depth *{about}{number(status.depth or 0)}*"
    notes = []
    if status.depth_before is not None and status.depth_before != status.depth:
        before = "" if status.depth_before_exact else APPROXIMATE
        notes.append(f"{before}{number(status.depth_before)} before auto-redrive")
    if status.change is not None and status.previous_day is not None:
        # Against its own last snapshot: a DLQ not in the previous report has an older one.
        marked = "" if status.change_exact else APPROXIMATE
        notes.append(f"{marked}{signed(status.change)} since {short_day(status.previous_day)}")
    if notes:
        depth += f" ({'; '.join(notes)})"
    figures = status.figures
    if figures is not None:
        age = figures.oldest_age(now)
        if age is not None:
            # The sample's oldest: a DLQ sampled in part may hold older ones.
            said = duration(age) if figures.whole else AT_LEAST + duration_at_least(age)
            depth += f" · oldest {said}"
    if any(v is not None for v in status.trend):
        depth += f" · 7d {code(sparkline(status.trend))}"
    lines.append(depth)
    day = report.yesterday(status)
    if day is not None:
        # Yesterday's figures only (the auto-redrive's exact ones when it counted them all):
        # figures of every day have their own line below, never mixed in here.
        parts = [("{n} arrived", day.arrived)]
        if day.poison.value:
            parts.append((":skull: {n} poison (need a human)", day.poison))
        lines.append("Yesterday: " + counts_text(parts))
    if status.redrive is not None:
        lines.append(_redrive_line(status, status.redrive, report))
    all_days = report.all_days(status)
    if all_days is not None:
        poison, unreadable = all_days
        parts = []
        if poison.value:
            parts.append((":skull: {n} poison", poison))
        if unreadable.value:
            parts.append(("{n} without a readable time", unreadable))
        if parts:
            lines.append("All days: " + counts_text(parts))
    expiry = expiry_line(status, report)
    if expiry is not None:
        lines.append(expiry)
    if figures is not None and figures.error_groups:
        scope = (
            f"sample of {number(figures.sampled)} of {APPROXIMATE}{number(figures.population)}"
            if not figures.whole
            else f"{number(figures.sampled)} sampled before auto-redrive"
            if status.redrive is not None
            else plural(figures.sampled, "message")
        )
        lines.append(f"Top errors ({scope}):")
        for group in figures.error_groups:
            # The digest is what --error and the group's buttons select it by.
            digest = f" · {group.digest}" if group.digest else ""
            lines.append(f"• {code(group.label)} ×{number(group.count)}{digest}")
        if figures.other_errors:
            lines.append(f"• {number(figures.other_errors)} other")
    return "\n".join(lines)


def _button(text: str, action: ActionId, value: dict[str, str], style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action.value,
        "value": json.dumps(value, separators=(",", ":")),
    }
    if style:
        button["style"] = style
    return button


def dlq_blocks(status: DlqStatus, report: DailyReport, now: datetime, index: int) -> list[Block]:
    """The section of one DLQ, and its buttons when there is something to redrive or peek: the
    day's, those of what expires before the next report, and each top error group's (one
    actions block: at most 2 + 2 + 2 x TOP_ERROR_GROUPS of Block Kit's 25 elements)."""
    blocks = [_section(dlq_text(status, report, now), block_id=f"daily.dlq.{index}")]
    if status.error is None and status.depth:
        # The selection the report counted: the day, by the same time as its figures.
        value = {"queue": status.name, "date": report.day.isoformat()}
        if report.time_field:
            value["time_field"] = report.time_field
        elements = [
            _button(f"Redrive {report.day.isoformat()}…", ActionId.REPORT_REDRIVE, value),
            _button("Peek", ActionId.REPORT_PEEK, value),
        ]
        found = _expiring(status, report)
        if found is not None:
            # A plain sent-time selection: exactly what expires before the next report.
            until = {"queue": status.name, "until": until_value(found.until, _zone(report))}
            elements += [
                _button("Redrive the expiring…", ActionId.REPORT_EXPIRING_REDRIVE, until),
                _button("Export the expiring…", ActionId.REPORT_EXPIRING_EXPORT, until),
            ]
        if status.figures is not None:
            elements += _error_buttons(status.name, status.figures, status.redrive)
        blocks.append(
            {"type": "actions", "block_id": f"daily.actions.{index}", "elements": elements}
        )
    return blocks


def _error_buttons(queue: str, figures: SampleFigures, redrive: AutoRedrive | None) -> list[Block]:
    """Redrive / Discard buttons per top error group, selecting it by its digest (``--error``)
    in the whole DLQ. "these N" only when N is the DLQ's own count: the sample saw every message
    and no auto-redrive moved any since (else the approval card's count says how many)."""
    buttons = []
    exact = figures.whole and (redrive is None or not redrive.moved)
    for group in figures.error_groups:
        if not group.digest:
            continue
        value = {"queue": queue, "error": group.digest}
        these = f"these {number(group.count)}" if exact else "these"
        buttons += [
            _button(f"Redrive {these} ({group.digest})…", ActionId.REPORT_ERROR_REDRIVE, value),
            _button(f"Discard {these} ({group.digest})…", ActionId.REPORT_ERROR_DISCARD, value),
        ]
    return buttons


def _zone(report: DailyReport) -> ZoneInfo:
    return ZoneInfo(report.timezone)


def _expiring(status: DlqStatus, report: DailyReport) -> Expiring | None:
    """What the report's scan found expiring before the next report, when it found any."""
    if status.expiry is None or report.next_report is None:
        return None
    found = expiring(status.expiry)
    return found if found is not None and found.count else None


def expiry_line(status: DlqStatus, report: DailyReport) -> str | None:
    """The line flagging what expires before the next report (None: nothing found to flag).

    Exact when the scan saw every message; else at least that many, found in the sample, and
    the oldest found is only the oldest seen: an unseen message may expire sooner."""
    found = _expiring(status, report)
    if found is None or report.next_report is None:
        return None
    tz = _zone(report)
    following = report.next_report.astimezone(tz)
    when = f"{following.strftime('%a')} {short_day(following.date())} {following.strftime('%H:%M')}"
    count = number(found.count) if found.exact else AT_LEAST + number(found.count)
    line = f":hourglass: *{count}* expire before the next report ({when})"
    scan = status.expiry
    if scan is not None and not scan.whole:
        line += f" — found in a sample of {number(found.scanned)} of {APPROXIMATE}" + number(
            found.population
        )
    elif scan is not None and scan.undated:
        line += f" — {number(scan.undated)} without a sent time not judged"
    if found.oldest_sent is not None and found.oldest_expires is not None:
        line += (
            f": oldest {'' if found.exact else 'found '}sent {local_time(found.oldest_sent, tz)}"
            f", expires {local_time(found.oldest_expires, tz)}"
        )
        if scan is not None and not scan.whole:
            line += " (an unseen one may expire sooner)"
    redrive = status.redrive
    if redrive is not None and redrive.moved and _may_overlap(redrive, found):
        line += " (counted before the auto-redrive, which may have moved some)"
    return line


def _may_overlap(redrive: AutoRedrive, found: Expiring) -> bool:
    """Whether the auto-redrive's window reaches into what expires (sent before ``until``)."""
    selection = redrive.selection
    if selection is None or selection.time_field is not None:
        return True  # by a body field: any message may be in it
    start = selection.window.start
    return start is None or start < found.until


# --- the whole report ---------------------------------------------------------------------------


def _attention_order(status: DlqStatus) -> tuple[int, int, str]:
    return (0 if status.error else 1, -(status.depth or 0), status.name)


def summary_text(report: DailyReport) -> str:
    """The summary line(s), in mrkdwn."""
    about = "" if report.total_exact else APPROXIMATE
    total = f"*{about}{plural(report.total, 'message')}* in {plural(len(report.readable), 'DLQ')}"
    if report.total_change is not None and report.previous_day is not None:
        marked = "" if report.total_change_exact else APPROXIMATE
        total += f" ({marked}{signed(report.total_change)} since {short_day(report.previous_day)})"
    # Each DLQ's best figure (the one its section shows), added up and said what of.
    arrived, poison = report.arrived_parts(), report.poison_parts()
    facts = [_total("{n} arrived yesterday", arrived)]
    if report.auto_redrive_names:
        facts.append(("{n} auto-redriven", report.moved, True, ""))
    if sum(c.value for c in poison):
        facts.append(_total("{n} poison (need a human)", poison))
    if report.for_human:
        # Counted message by message by the auto-redrives that held them; one still running
        # (or stopped by an error) may find more.
        unfinished = any(
            d.redrive.continuing or d.redrive.error
            for d in report.dlqs
            if d.redrive is not None and d.redrive.for_human
        )
        facts.append(
            (
                "{n} not auto-redriven (need a human)",
                report.for_human,
                not unfinished,
                "so far: an auto-redrive that held some did not finish",
            )
        )
    lines = [total, figures_text(facts)]
    if any(v is not None for v in report.total_trend):
        lines.append(f"7-day total {code(sparkline(report.total_trend))}")
    if report.unreadable:
        names = ", ".join(escape(d.name) for d in report.unreadable)
        lines.append(
            f":warning: {plural(len(report.unreadable), 'DLQ')} could not be read: {names}"
        )
    lines.extend(f":warning: {escape(warning)}" for warning in report.warnings)
    lines.extend(unread_lines(report.unread))
    # The marks used above and in the DLQs' sections (poison counts are bounds exactly when a
    # sample was partial).
    legend = [APPROXIMATE + "SQS's approximate count"] if about else []
    bounds = [c for c in (*arrived, *poison) if not c.exact]
    if bounds:
        found = "in part of a DLQ" if any(c.among for c in bounds) else "in a sample"
        legend.append(AT_LEAST + f"at least that many (found {found})")
    if legend:
        lines.append(" · ".join(legend))
    return "\n".join(lines)


def _total(template: str, parts: Sequence[Count]) -> tuple[str, int, bool, str]:
    total = sum(parts, Count(0))
    return template, total.value, total.exact, "" if total.exact else total_basis(parts)


def fallback_text(report: DailyReport) -> str:
    """The plain-text version (notifications, screen readers, clients without blocks)."""
    text = f"DLQ report for {report.day.isoformat()}: "
    if report.all_clear:
        return text + f"all clear, {plural(len(report.dlqs), 'DLQ')} empty."
    summary = summary_text(report).replace("*", "").replace("`", "")
    lines = [text + summary.replace("\n", ". ")]
    for status in sorted(report.dlqs, key=_attention_order):
        if status.quiet:
            continue
        if status.error:
            lines.append(f"- {escape(status.name)}: could not be read")
            continue
        about = "" if status.depth_exact else APPROXIMATE
        line = f"- {escape(status.name)}: {about}{number(status.depth or 0)}"
        if status.change is not None:
            line += f" ({'' if status.change_exact else APPROXIMATE}{signed(status.change)})"
        if status.redrive is not None and status.redrive.moved:
            line += f", {number(status.redrive.moved)} auto-redriven"
        canary = status.redrive.canary if status.redrive is not None else None
        if canary is not None and canary.stopped:
            line += ", the canary stopped the auto-redrive: the consumer is still failing"
        found = _expiring(status, report)
        if found is not None:
            count = number(found.count) if found.exact else AT_LEAST + number(found.count)
            line += f", {count} expire before the next report"
        lines.append(line)
    return cut("\n".join(lines), MAX_FALLBACK_TEXT)


def _header(report: DailyReport) -> Block:
    # Which day it reports on, and when its figures were read (in the report's time zone).
    tz = ZoneInfo(report.timezone)
    made = report.generated_at.astimezone(tz)
    title = (
        f"DLQ report for {report.day.strftime('%a')} {short_day(report.day)} {report.day.year}"
        f" · as of {made.strftime('%a')} {short_day(made.date())} {made.strftime('%H:%M')}"
    )
    if report.updated_at is not None:
        # A continuation re-read the depths and final counts later: say when.
        final = report.updated_at.astimezone(tz)
        day = "" if final.date() == made.date() else f"{final.strftime('%a')} "
        day += "" if not day else f"{short_day(final.date())} "
        title += f", final figures as of {day}{final.strftime('%H:%M')}"
    title += f" ({report.timezone})"
    return {"type": "header", "text": {"type": "plain_text", "text": cut(title, MAX_HEADER_TEXT)}}


def render_report(report: DailyReport) -> RenderedReport:
    """The report message (≤ 50 blocks) and the thread replies with the DLQs that did not fit."""
    now = report.generated_at
    if report.all_clear:
        text = (
            f":white_check_mark: All clear: {plural(len(report.dlqs), 'DLQ')} empty, "
            f"nothing arrived on {report.day.isoformat()} ({report.timezone})."
        )
        return RenderedReport(
            SlackMessage(fallback_text(report), [_header(report), _section(text)]), []
        )
    noisy = sorted((d for d in report.dlqs if not d.quiet), key=_attention_order)
    quiet = [d for d in report.dlqs if d.quiet]
    context = f"Yesterday = {report.day.isoformat()} in {report.timezone}"
    if report.time_field:
        context += f", by the body field {code(report.time_field)}"
    if quiet:
        context += " · quiet: " + ", ".join(escape(d.name) + kind_mark(d.kind) for d in quiet)
    head: list[Block] = [
        _header(report),
        _section(summary_text(report), block_id="daily.summary"),
        _context(context),
        {"type": "divider"},
    ]
    sections = [dlq_blocks(status, report, now, index) for index, status in enumerate(noisy)]
    # The DLQs that need attention most come first, as many as fit; the rest go to the thread.
    blocks = head
    shown = 0
    while shown < min(len(noisy), MAX_DLQS_IN_MESSAGE):
        candidate = [*blocks, *sections[shown]]
        if not fits([*candidate, *_overflow(noisy[shown + 1 :])]):
            break
        blocks, shown = candidate, shown + 1
    blocks = [*blocks, *_overflow(noisy[shown:])]
    thread = [
        SlackMessage(
            cut(
                f"DLQ report for {report.day.isoformat()}, continued: "
                + ", ".join(escape(d.name) for d in noisy[start:end]),
                MAX_FALLBACK_TEXT,
            ),
            [block for group in sections[start:end] for block in group],
        )
        for start, end in _pack(sections[shown:], offset=shown, most=DLQS_PER_THREAD_REPLY)
    ]
    return RenderedReport(SlackMessage(fallback_text(report), blocks), thread)


def fits(blocks: list[Block]) -> bool:
    """Whether one message of ``blocks`` is within Slack's block count and our size cap."""
    return len(blocks) <= MAX_BLOCKS and block_text_length(blocks) <= MAX_MESSAGE_TEXT


def _pack(groups: list[list[Block]], *, offset: int, most: int) -> list[tuple[int, int]]:
    """Consecutive runs of ``groups`` that each fit one message: ``(start, end)`` indexes
    (shifted by ``offset``). A group is never split; one group alone always fits (a section is
    at most 3,000 characters)."""
    runs: list[tuple[int, int]] = []
    start = 0
    while start < len(groups):
        end = start + 1
        while (
            end < len(groups)
            and end - start < most
            and fits([block for group in groups[start : end + 1] for block in group])
        ):
            end += 1
        runs.append((offset + start, offset + end))
        start = end
    return runs


def _overflow(rest: list[DlqStatus]) -> list[Block]:
    """The line naming the DLQs whose details are in the thread (none when all are shown)."""
    if not rest:
        return []
    names = ", ".join(f"{escape(d.name)} ({number(d.depth or 0)})" for d in rest)
    return [
        _section(
            f"…and {plural(len(rest), 'more DLQ')} (details in the thread): "
            + cut(names, MAX_OVERFLOW_NAMES)
        )
    ]


def render_continuation(
    day: date,
    results: dict[str, AutoRedrive],
    invocations: int,
    *,
    final: bool,
    depths: Mapping[str, int | None] | None = None,
    note: str | None = None,
) -> list[SlackMessage]:
    """The thread replies with the result of an auto-redrive that needed more invocations: every
    DLQ's count by category and, when known, its depth now, then ``note`` (plain text). Long
    results take several sections and messages, each within the limits (never cut)."""
    head = (
        f"Auto-redrive of {day.isoformat()} finished after {plural(invocations, 'invocation')}:"
        if final
        else f"Auto-redrive of {day.isoformat()} stopped after "
        f"{plural(invocations, 'invocation')} without finishing:"
    )
    lines = []
    for name, result in sorted(results.items()):
        if result.error:
            lines.append(f"• *{escape(name)}*: failed: {escape(cut(result.error, 300))}")
            continue
        depth = (depths or {}).get(name)
        scanned = result.scanned
        # Of the DLQ now, what it did not look at: all but what it looked at and left.
        unseen = (
            None if depth is None or scanned is None else max(0, depth - scanned + result.moved)
        )
        line = f"• *{escape(name)}*: " + _result_text(
            result, f"{number(result.moved)} moved back{_moved_to(result)}", unseen
        )
        if result.continuing:
            line += ", not finished"
        if depth is not None:
            # Read from SQS's counters, which AWS documents as approximate (as in the report).
            line += f"; depth now *{APPROXIMATE}{number(depth)}*"
        lines.append(line)
    if note:
        lines.append(escape(cut(note, 500)))
    return text_messages(head, lines)


def text_messages(head: str, lines: list[str]) -> list[SlackMessage]:
    """``head`` and ``lines`` as sections of whole lines, in as few messages as the limits allow;
    each message's fallback is its text without the bold marks."""
    texts: list[str] = []
    for line in [head, *lines]:
        if texts and len(texts[-1]) + 1 + len(line) <= MAX_SECTION_TEXT:
            texts[-1] += "\n" + line
        else:
            texts.append(cut(line, MAX_SECTION_TEXT))
    groups = [[_section(text)] for text in texts]
    return [
        SlackMessage(
            cut("\n".join(texts[start:end]).replace("*", ""), MAX_FALLBACK_TEXT),
            [block for group in groups[start:end] for block in group],
        )
        for start, end in _pack(groups, offset=0, most=MAX_BLOCKS)
    ]


def blocks_as_text(blocks: list[Block]) -> str:
    """A readable rendering of blocks for a terminal (the demo)."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * len(title)]
        elif kind == "section":
            out.append(block["text"]["text"])
        elif kind == "context":
            out.append("  " + "  ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "divider":
            out.append("-" * 60)
        elif kind == "actions":
            out.append("  " + " ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
        out.append("")
    return "\n".join(out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
