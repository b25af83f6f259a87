"""``dlq-redrive list``: every watched DLQ with its counts, next expiry, KIND and sources, and
under the table the feeder kinds discovery could not read.

A source is named precisely (``Dlq.describe_sources``): an SQS queue by its name, an SNS
subscription by its ARN and endpoint, an EventBridge target by bus/rule and target id, a Lambda
function by its name and whether its async DLQ or its on-failure destination. A subscription ARN
alone is some 90 characters, so a DLQ whose sources do not fit in the SOURCES column within
``WIDTH`` columns has them one per line under its row. Every name is shown through
``bot.printable.visible``: they are whatever their owners chose, and an escape sequence in one
must not drive the terminal.

Imports nothing of ``bot.cli``.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bot.cli_run import table_lines
from bot.exit_codes import EXIT_OK
from bot.expiry import NextExpiry, describe_next_expiry
from bot.inspection import DlqSummary, scan_next_expiry, summarize
from bot.kind_words import unread_lines
from bot.printable import visible

if TYPE_CHECKING:
    from bot.cli_context import CliContext

WIDTH = 100  # the terminal width the table keeps to (sources wrap under their row beyond it)
HEADER = ["DLQ", "KIND", "VISIBLE", "IN FLIGHT", "FIFO", "NEXT EXPIRY", "SOURCES"]
_ITEM = "  - "  # a source under its row
_CONTINUED = "    "  # the rest of a source line wrapped at WIDTH
UNREAD_CHARS = 300  # of why a kind was not read, in the table (``--json`` has all of it)


def run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    """The ``list`` command (``--json``: one object with each DLQ and the kinds not read)."""
    catalog = ctx.catalog  # one catalog: the feeder scan it read is the one ``unread`` tells of
    dlqs = catalog.watched()
    unread = catalog.unread
    summaries = summarize(dlqs)
    # Reading each DLQ's oldest message is a receive (as a peek is): --no-expiry skips it. The
    # DLQs are read side by side, as the catalog reads their attributes.
    expiries: list[NextExpiry | None] = [None] * len(dlqs)
    if not args.no_expiry and dlqs:
        with ThreadPoolExecutor(max_workers=min(8, len(dlqs))) as pool:
            expiries = list(
                pool.map(lambda d: scan_next_expiry(ctx.gateway, d, limit=args.expiry_scan), dlqs)
            )
    if args.json:
        rows_json = [
            {**s.to_dict(), "next_expiry": None if args.no_expiry else _expiry_dict(e)}
            for s, e in zip(summaries, expiries, strict=True)
        ]
        not_read = [{"kind": kind.value, "reason": why} for kind, why in unread]
        print(json.dumps({"dlqs": rows_json, "unread": not_read}), file=ctx.out)
        return EXIT_OK
    if not summaries:
        print(
            "No dead-letter queues found (no queue has a RedrivePolicy, and no SNS subscription, "
            "EventBridge target or Lambda function discovery read dead-letters into a queue).",
            file=ctx.out,
        )
    else:
        tz = ctx.settings.timezone
        expiry = ["(not read)" if args.no_expiry else describe_next_expiry(e, tz) for e in expiries]
        for line in list_lines(summaries, expiry):
            print(line, file=ctx.out)
    # AWS's error text can quote a name, and be a whole HTML page: escaped, cut, wrapped
    # (``--json`` has it whole).
    cut = tuple((kind, _cut(why, UNREAD_CHARS)) for kind, why in unread)
    for line in unread_lines(cut):
        for part in textwrap.wrap(visible(line), width=WIDTH, subsequent_indent=_CONTINUED):
            print(part, file=ctx.out)
    return EXIT_OK


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def list_lines(summaries: list[DlqSummary], expiries: list[str], width: int = WIDTH) -> list[str]:
    """The table's lines: one row per DLQ, its sources in the SOURCES column when they all fit
    in ``width`` columns, else one per line under the row (wrapped at ``width`` when longer)."""
    rows = [
        [
            visible(s.name),
            s.kind,
            str(s.visible),
            str(s.in_flight),
            "yes" if s.fifo else "no",
            expiry,
        ]
        for s, expiry in zip(summaries, expiries, strict=True)
    ]
    sources = [[visible(line) for line in s.described] or ["-"] for s in summaries]
    fixed = [max(len(row[i]) for row in [HEADER[:-1], *rows]) for i in range(len(HEADER) - 1)]
    room = width - sum(fixed) - 2 * len(fixed)  # what the SOURCES column has
    cells = [
        ", ".join(lines) if len(", ".join(lines)) <= room else f"({len(lines)} below)"
        for lines in sources
    ]
    out = table_lines([HEADER, *[[*row, cell] for row, cell in zip(rows, cells, strict=True)]])
    lines = [out[0]]
    for row_line, cell, s, shown in zip(out[1:], cells, summaries, sources, strict=True):
        lines.append(row_line)
        if cell.endswith(" below)"):
            # On a line of its own, a source queue's bare name would not say what it is.
            queues = [f"sqs queue {name}" for name in shown[: len(s.sources)]]
            lines += _below([*queues, *shown[len(s.sources) :]], width)
    return lines


def _below(lines: list[str], width: int) -> list[str]:
    """Source lines under their row, one item each, wrapped at ``width`` (at a space, or inside
    an ARN longer than the line: an ARN has no spaces)."""
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(
            line,
            width=width,
            initial_indent=_ITEM,
            subsequent_indent=_CONTINUED,
            break_on_hyphens=False,
        )
    return out


def _expiry_dict(next_one: NextExpiry | None) -> dict[str, Any] | None:
    """``list --json``'s next expiry: exact, or at the latest (``exact`` false) from what was
    scanned."""
    if next_one is None:
        return None
    return {
        "at": next_one.at.isoformat(),
        "exact": next_one.exact,
        "scanned": next_one.scanned,
        "population": next_one.population,
        "undated": next_one.undated,
    }
