"""The CLI's human summary of a run: every outcome has its own row and words."""

from __future__ import annotations

import io

from bot.cli import print_summary
from bot.redrive_model import RedriveReport


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
