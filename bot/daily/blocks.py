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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.daily.report import AutoRedrive, DailyReport, DlqStatus
from bot.slack.ids import ActionId
from bot.slack.mrkdwn import code, cut, escape, number

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
MAX_DLQS_IN_MESSAGE = 20  # 2 blocks each, plus 6 for header, summary, context and overflow
DLQS_PER_THREAD_REPLY = 24
BLOCK_KIT_BUILDER_URL = "https://app.slack.com/block-kit-builder#"
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_MISSING = "·"

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


def signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else (f"{value:,}" if value < 0 else "±0")


def plural(count: int, word: str) -> str:
    return f"{number(count)} {word}{'' if count == 1 else 's'}"


def duration(delta: timedelta) -> str:
    """A short human duration: ``2d 4h``, ``5h 3m``, ``12m``, ``<1m``."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else "<1m"


def sparkline(values: tuple[int | None, ...] | list[int | None]) -> str:
    """One character per value, scaled from 0 to the largest; ``·`` where a day is missing."""
    known = [v for v in values if v is not None]
    top = max(known, default=0)
    chars = []
    for value in values:
        if value is None:
            chars.append(SPARK_MISSING)
        elif top <= 0:
            chars.append(SPARK_LEVELS[0])
        else:
            chars.append(SPARK_LEVELS[round(value / top * (len(SPARK_LEVELS) - 1))])
    return "".join(chars)


def short_day(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def builder_url(blocks: list[Block]) -> str:
    """A Block Kit Builder link that shows ``blocks`` rendered."""
    return BLOCK_KIT_BUILDER_URL + urllib.parse.quote(
        json.dumps({"blocks": blocks}, separators=(",", ":"), ensure_ascii=False), safe=""
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
    """What an auto-redrive sent without a confirmation, or held back: never called failed."""
    parts = []
    if redrive.unconfirmed:
        parts.append(
            f"{number(redrive.unconfirmed)} may have been delivered (SQS's answer was lost; "
            "left in the DLQ)"
        )
    if redrive.held_back:
        parts.append(f"{number(redrive.held_back)} held back behind their FIFO group")
    return parts


def _redrive_line(redrive: AutoRedrive, day: date) -> str:
    if redrive.error:
        return f"Auto-redrive failed: {escape(cut(redrive.error, 300))}"
    parts = [f"moved {number(redrive.moved)} back"]
    if redrive.failed:
        parts.append(f"*{number(redrive.failed)} failed* (left in the DLQ)")
    parts += _unsettled_parts(redrive)
    if redrive.needs_human:
        parts.append(f"{number(redrive.needs_human)} poison left for a human")
    if redrive.no_source:
        parts.append(
            f"{number(redrive.no_source)} with no recorded source left for a human (the DLQ "
            "has several source queues: redrive them with --to QUEUE)"
        )
    if redrive.unreadable_time:
        parts.append(f"{number(redrive.unreadable_time)} without a readable time left")
    line = f"Auto-redrive of {day.isoformat()}: " + ", ".join(parts)
    if redrive.continuing:
        line += " — still running; the final count follows in the thread"
    return line


def dlq_text(status: DlqStatus, report: DailyReport, now: datetime) -> str:
    """The section text of one DLQ."""
    if status.error is not None:
        return (
            f":warning: *{escape(status.name)}* could not be read: {escape(cut(status.error, 500))}"
        )
    sources = f" → {escape(', '.join(status.sources))}" if status.sources else ""
    lines = [f"*{escape(status.name)}*{sources}"]
    depth = f"Depth *{number(status.depth or 0)}*"
    notes = []
    if status.depth_before is not None and status.depth_before != status.depth:
        notes.append(f"{number(status.depth_before)} before auto-redrive")
    if status.change is not None and report.previous_day is not None:
        notes.append(f"{signed(status.change)} since {short_day(report.previous_day)}")
    if notes:
        depth += f" ({'; '.join(notes)})"
    figures = status.figures
    if figures is not None:
        age = figures.oldest_age(now)
        if age is not None:
            depth += f" · oldest {duration(age)}"
    if any(v is not None for v in status.trend):
        depth += f" · 7d {code(sparkline(status.trend))}"
    lines.append(depth)
    if figures is not None:
        at_least = "≥ " if figures.capped else ""
        yesterday = f"Yesterday: {at_least}{number(figures.arrived_yesterday)} arrived"
        if figures.poison:
            yesterday += f" · :skull: {at_least}{number(figures.poison)} poison (need a human)"
        if figures.unreadable_time:
            yesterday += f" · {number(figures.unreadable_time)} without a readable time"
        lines.append(yesterday)
    if status.redrive is not None:
        lines.append(_redrive_line(status.redrive, report.day))
    if figures is not None and figures.error_groups:
        scope = (
            f"sample of {number(figures.sampled)} of {number(status.depth_before or 0)}"
            if figures.capped
            else f"{number(figures.sampled)} sampled before auto-redrive"
            if status.redrive is not None
            else plural(figures.sampled, "message")
        )
        lines.append(f"Top errors ({scope}):")
        for group in figures.error_groups:
            lines.append(f"• {code(group.label)} ×{number(group.count)}")
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
    """The section of one DLQ, and its buttons when there is something to redrive or peek."""
    blocks = [_section(dlq_text(status, report, now), block_id=f"daily.dlq.{index}")]
    if status.error is None and status.depth:
        value = {"queue": status.name, "date": report.day.isoformat()}
        blocks.append(
            {
                "type": "actions",
                "block_id": f"daily.actions.{index}",
                "elements": [
                    _button(f"Redrive {report.day.isoformat()}…", ActionId.REPORT_REDRIVE, value),
                    _button("Peek", ActionId.REPORT_PEEK, value),
                ],
            }
        )
    return blocks


# --- the whole report ---------------------------------------------------------------------------


def _attention_order(status: DlqStatus) -> tuple[int, int, str]:
    return (0 if status.error else 1, -(status.depth or 0), status.name)


def summary_text(report: DailyReport) -> str:
    """The summary line(s), in mrkdwn."""
    total = f"*{plural(report.total, 'message')}* in {plural(len(report.readable), 'DLQ')}"
    if report.total_change is not None and report.previous_day is not None:
        total += f" ({signed(report.total_change)} since {short_day(report.previous_day)})"
    facts = [f"{number(report.arrived)} arrived yesterday"]
    if report.auto_redrive_names:
        facts.append(f"{number(report.moved)} auto-redriven")
    if report.poison:
        facts.append(f"{number(report.poison)} poison (need a human)")
    lines = [total, " · ".join(facts)]
    if any(v is not None for v in report.total_trend):
        lines.append(f"7-day total {code(sparkline(report.total_trend))}")
    if report.unreadable:
        names = ", ".join(escape(d.name) for d in report.unreadable)
        lines.append(
            f":warning: {plural(len(report.unreadable), 'DLQ')} could not be read: {names}"
        )
    lines.extend(f":warning: {escape(warning)}" for warning in report.warnings)
    return "\n".join(lines)


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
        line = f"- {escape(status.name)}: {number(status.depth or 0)}"
        if status.change is not None:
            line += f" ({signed(status.change)})"
        if status.redrive is not None and status.redrive.moved:
            line += f", {number(status.redrive.moved)} auto-redriven"
        lines.append(line)
    return cut("\n".join(lines), MAX_FALLBACK_TEXT)


def _header(report: DailyReport) -> Block:
    title = f"DLQ report · {report.day.strftime('%a')} {short_day(report.day)} {report.day.year}"
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
    quiet = [d.name for d in report.dlqs if d.quiet]
    shown, rest = noisy[:MAX_DLQS_IN_MESSAGE], noisy[MAX_DLQS_IN_MESSAGE:]
    context = f"Yesterday = {report.day.isoformat()} in {report.timezone}"
    if quiet:
        context += f" · quiet: {escape(', '.join(quiet))}"
    blocks: list[Block] = [
        _header(report),
        _section(summary_text(report), block_id="daily.summary"),
        _context(context),
        {"type": "divider"},
    ]
    for index, status in enumerate(shown):
        blocks.extend(dlq_blocks(status, report, now, index))
    if rest:
        names = ", ".join(f"{escape(d.name)} ({number(d.depth or 0)})" for d in rest)
        blocks.append(
            _section(f"…and {plural(len(rest), 'more DLQ')} (details in the thread): {names}")
        )
    thread = []
    for start in range(0, len(rest), DLQS_PER_THREAD_REPLY):
        chunk = rest[start : start + DLQS_PER_THREAD_REPLY]
        reply_blocks: list[Block] = []
        for offset, status in enumerate(chunk):
            reply_blocks.extend(
                dlq_blocks(status, report, now, MAX_DLQS_IN_MESSAGE + start + offset)
            )
        reply_text = f"DLQ report for {report.day.isoformat()}, continued: " + ", ".join(
            escape(d.name) for d in chunk
        )
        thread.append(SlackMessage(cut(reply_text, MAX_FALLBACK_TEXT), reply_blocks))
    return RenderedReport(SlackMessage(fallback_text(report), blocks), thread)


def render_continuation(
    day: date, results: dict[str, AutoRedrive], invocations: int, *, final: bool
) -> SlackMessage:
    """The thread reply with the result of an auto-redrive that needed more invocations."""
    head = (
        f"Auto-redrive of {day.isoformat()} finished after {plural(invocations, 'invocation')}:"
        if final
        else f"Auto-redrive of {day.isoformat()} stopped after "
        f"{plural(invocations, 'invocation')} without finishing:"
    )
    lines = [head]
    for name, result in sorted(results.items()):
        if result.error:
            lines.append(f"• *{escape(name)}*: failed: {escape(cut(result.error, 300))}")
            continue
        line = f"• *{escape(name)}*: {number(result.moved)} moved back"
        if result.failed:
            line += f", {number(result.failed)} failed (left in the DLQ)"
        line += "".join(f", {part}" for part in _unsettled_parts(result))
        if result.needs_human:
            line += f", {number(result.needs_human)} poison left for a human"
        if result.continuing:
            line += ", not finished"
        lines.append(line)
    text = cut("\n".join(lines), MAX_SECTION_TEXT)
    return SlackMessage(text.replace("*", ""), [_section(text)])


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
