"""The CLI's human summary of a run: every outcome has its own row and words."""

from __future__ import annotations

import io

from bot.cli import print_summary
from bot.redrive_model import RedriveReport, StopReason
from bot.run_control import STOPPED_BEFORE_THEM


def test_the_summary_tells_unconfirmed_and_held_back_apart_from_failed() -> None:
    # Given a run that lost SQS's answer to a send of 10 messages, held 2 back behind them, and
    # had 1 refused
    report = RedriveReport(
        "orders-dlq.fifo",
        False,
        "all messages",
        scanned=30,
        matched=30,
        moved=17,
        failed=1,
        unconfirmed=10,
        held_back=2,
        unconfirmed_reason="no answer from SQS (ConnectionClosedError: \x1b[31mreset)",
    )
    # When the summary is printed
    out = io.StringIO()
    print_summary(report, out)
    text = out.getvalue()
    # Then each outcome has its row, and the unconfirmed ones are explained (escaped), not failed
    rows = {
        line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in text.splitlines()[1:8]
    }
    assert rows["failed (kept in DLQ)"] == "1"
    assert rows["unconfirmed (kept in DLQ)"] == "10"
    assert rows["held back (kept in DLQ)"] == "2"
    assert "warning: 10 may have been delivered: SQS's answer to their send was lost" in text
    assert "ConnectionClosedError" in text and "\x1b" not in text
    assert "note: 2 held back in the DLQ behind an earlier message of their FIFO group" in text


def test_messages_an_interrupted_run_did_not_send_are_not_blamed_on_an_error() -> None:
    # Given a run interrupted by Ctrl-C (cancelled, no error) with 3 selected it had not sent
    report = RedriveReport(
        "orders-dlq",
        False,
        "all messages",
        scanned=8,
        matched=8,
        moved=5,
        not_attempted=3,
        stopped=StopReason.CANCELLED,
    )
    # When the summary is printed
    out = io.StringIO()
    print_summary(report, out, interrupted_by="SIGINT")
    text = out.getvalue()
    # Then it says why in the words Slack's card and the daily report use (bot.run_control), and
    # does not make up an error
    assert f"3 selected were not sent: {STOPPED_BEFORE_THEM} (they stay in the DLQ)" in text
    assert "error" not in text
