"""Run the real ``dlq-redrive`` CLI in its own process for ``make demo``, the way a user types it.

On the terminal the command writes straight to it (its progress line included); given another
``out`` (a test's buffer), what it printed is captured and written there, so a test reads exactly
what the demo showed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


@dataclass(frozen=True)
class CliRun:
    status: int
    output: str  # stdout and stderr as printed ("" when they went straight to the terminal)


def banner(text: str, out: TextIO | None = None) -> None:
    print(f"\n{BOLD}== {text} =={RESET}", file=out or sys.stdout)


def cli(
    args: str, env: Mapping[str, str], out: TextIO | None = None, *, read: bool = False
) -> CliRun:
    """Run ``dlq-redrive ARGS`` (split as a shell would) with ``env``; show it, its output and
    its exit status. ``read``: the output is for the demo to read, not shown (its status is)."""
    shown = out or sys.stdout
    print(f"\n{BOLD}$ dlq-redrive {args}{RESET}", file=shown, flush=True)
    command = [sys.executable, "-m", "bot.cli", *shlex.split(args)]
    output = ""
    if out is None and not read:
        status = subprocess.run(command, env=dict(env), check=False).returncode
    else:
        done = subprocess.run(
            command,
            env=dict(env),
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        status, output = done.returncode, done.stdout
        shown.write("(its output is read by the demo)\n" if read else output)
    print(f"{DIM}(exit status {status}){RESET}", file=shown, flush=True)
    return CliRun(status, output)
