"""The ``/dlq-redrive`` command's text, parsed into plain command objects (pure, no I/O).

``redrive`` reuses the CLI's selection options (``bot.selection_options``) so the two front
ends accept exactly the same flags. argparse is wrapped so that it never prints and never
exits the process: every problem becomes a ``UsageError`` whose message says what was wrong.

The parser is built on the first command parsed, not at import: the endpoint's cold start, and
a request that is not a command (a click), load neither argparse (with gettext) nor the selection
options (tests/deploy/test_handler_imports.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

from bot.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from bot.selection_options import SelectionArgs

MAX_PEEK = 10  # what fits in one message within Block Kit's limits, with readable bodies
MAX_TEXT = 1_000  # Slack caps slash-command text far below this; longer is not a real command

USAGE = """\
*/dlq-redrive* — move failed SQS messages from dead-letter queues back to work.
• `/dlq-redrive list` — watched DLQs with their counts
• `/dlq-redrive peek QUEUE [N]` — show up to N messages (default 3, max 10) without consuming them
• `/dlq-redrive redrive QUEUE [selection]` — count what would move, then ask for approval
    selection: `--yesterday` | `--date YYYY-MM-DD` | `--since ISO8601 [--until ISO8601]`, \
`--time-field PATH`, `--error LABEL`, `--where PATH=VALUE` (repeatable), `--limit N`
• `/dlq-redrive status` — redrives in progress and the last few finished
• `/dlq-redrive cancel ID` — stop a running redrive
• `/dlq-redrive help` — this message"""


# Plain (not frozen) dataclasses: on the endpoint's cold path, where each frozen one costs about
# 0.45 ms more to create on Python 3.12 (docs/benchmarks.md); nothing mutates them after creation.
@dataclass
class HelpCommand:
    problem: str | None = None  # why help is shown (unknown or malformed input), if any


@dataclass
class ListCommand:
    pass


@dataclass
class PeekCommand:
    queue: str
    count: int = 3


@dataclass
class RedriveCommand:
    queue: str
    selection: SelectionArgs


@dataclass
class StatusCommand:
    pass


@dataclass
class CancelCommand:
    run_id: str


Command = HelpCommand | ListCommand | PeekCommand | RedriveCommand | StatusCommand | CancelCommand


@cache
def _parser() -> argparse.ArgumentParser:
    """The command's grammar, built once, on the first command parsed (see the module's doc)."""
    import argparse

    from bot.selection_options import add_selection_options

    class Parser(argparse.ArgumentParser):
        """argparse that raises UsageError instead of printing and exiting."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(message)

        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            raise UsageError(message or "invalid command")

        def print_help(self, file: Any = None) -> None:  # -h / --help: the caller shows USAGE
            raise UsageError("see the usage below")

        def print_usage(self, file: Any = None) -> None:
            return

    def peek_count(text: str) -> int:
        try:
            value = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"N must be a whole number, got {text!r}") from exc
        if not 1 <= value <= MAX_PEEK:
            raise argparse.ArgumentTypeError(f"N must be between 1 and {MAX_PEEK}, got {value}")
        return value

    parser = Parser(prog="/dlq-redrive", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for name in ("help", "list", "status"):
        sub.add_parser(name, add_help=False)
    peek = sub.add_parser("peek", add_help=False)
    peek.add_argument("queue")
    peek.add_argument("count", nargs="?", type=peek_count, default=3)
    redrive = sub.add_parser("redrive", add_help=False)
    redrive.add_argument("queue")
    add_selection_options(redrive)
    cancel = sub.add_parser("cancel", add_help=False)
    cancel.add_argument("run_id")
    return parser


_SUBCOMMANDS = ("help", "list", "peek", "redrive", "status", "cancel")


def parse_command(text: str) -> Command:
    """Parse the slash command's text; raise UsageError naming the problem."""
    if len(text) > MAX_TEXT:
        raise UsageError(f"the command is too long ({len(text)} characters)")
    # Slack sends the text with &, < and > as &amp;, &lt; and &gt; (its control characters,
    # api.slack.com/reference/surfaces/formatting#escaping): a --where value is what was typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot read the command: {exc} (check the quotes)") from exc
    if not words:
        return HelpCommand()
    if words[0] not in _SUBCOMMANDS:
        raise UsageError(f"unknown command {words[0]!r}; choose one of {', '.join(_SUBCOMMANDS)}")
    if any(word in ("-h", "--help") for word in words):
        return HelpCommand()
    args = _parser().parse_args(words)
    if args.command == "help":
        return HelpCommand()
    if args.command == "list":
        return ListCommand()
    if args.command == "status":
        return StatusCommand()
    if args.command == "peek":
        return PeekCommand(queue=args.queue, count=args.count)
    if args.command == "cancel":
        return CancelCommand(run_id=args.run_id)
    from bot.selection_options import SelectionArgs  # loaded with the parser, above

    return RedriveCommand(
        queue=args.queue,
        selection=SelectionArgs.from_namespace(args),
    )
