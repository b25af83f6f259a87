"""``dlq-redrive create-state-table``: create STATE_TABLE from the one shared definition.

Listed in the CLI's ``bot.cli.EXTRA_COMMANDS``; this module imports nothing of bot/cli.py.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Protocol, TextIO

from bot.errors import UsageError
from bot.exit_codes import EXIT_OK

HELP = "create the Slack app's DynamoDB state table (approvals, audit, checkpoints)"


class CommandContext(Protocol):
    """What the command needs of the CLI's context (``bot.cli.CliContext`` has it)."""

    env: Mapping[str, str] | None
    out: TextIO


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", metavar="NAME", help="table name (default: STATE_TABLE)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    # The CLI is an edge like a handler: its environment is the process's unless one is injected.
    env = os.environ if ctx.env is None else ctx.env
    name = args.table or env.get("STATE_TABLE", "").strip()
    if not name:
        raise UsageError("name the table with --table or set STATE_TABLE")
    # DynamoDB is the state table gateway's business; its module (and boto3) load only here.
    from bot.state_table import create_named_state_table

    created = create_named_state_table(name)
    if args.json:
        print(json.dumps({"table": name, "created": created}), file=ctx.out)
    else:
        print(f"{'created' if created else 'already exists:'} {name}", file=ctx.out)
    return EXIT_OK
