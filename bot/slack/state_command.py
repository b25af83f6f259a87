"""``dlq-redrive create-state-table``: create STATE_TABLE from the one shared definition.

Registered into the CLI through ``bot.cli.EXTRA_COMMANDS`` (bot/cli.py imports this module).
"""

from __future__ import annotations

import argparse
import json
import os

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.cli import EXIT_OK, EXTRA_COMMANDS, CliContext
from bot.errors import AwsError, UsageError
from bot.state_table import create_state_table


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", metavar="NAME", help="table name (default: STATE_TABLE)")


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    # The CLI is an edge like a handler: its environment is the process's unless one is injected.
    env = os.environ if ctx.env is None else ctx.env
    name = args.table or env.get("STATE_TABLE", "").strip()
    if not name:
        raise UsageError("name the table with --table or set STATE_TABLE")
    try:
        created = create_state_table(boto3.client("dynamodb"), name)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"could not create the state table {name!r} ({exc})") from exc
    if args.json:
        print(json.dumps({"table": name, "created": created}), file=ctx.out)
    else:
        print(f"{'created' if created else 'already exists:'} {name}", file=ctx.out)
    return EXIT_OK


EXTRA_COMMANDS["create-state-table"] = (
    "create the Slack app's DynamoDB state table (approvals, audit, checkpoints)",
    _configure,
    _run,
)
