"""Untrusted text shown to a person, with every character that would act instead of show written
as an escape (``\\x1b``, ``\\r``, ``\\u202e``).

Message bodies, attribute values and group ids come from whoever could write to a queue. On a
terminal an escape sequence (ESC, or the C1 CSI/OSC characters) drives the terminal, CR returns to
the start of the line so later text hides earlier text, LF starts a fake new entry, and U+202E
reverses what follows; in Slack most of them are invisible. Python's ``str.isprintable`` is false
for exactly these (categories Cc, Cf, Zl, Zp, Zs other than the space, Cs, Co, Cn), so those are
shown by their ``unicode_escape`` spelling and everything else is left as it is. One function for
the terminal (CLI peek, CLI error lines) and Slack (through ``bot.slack.mrkdwn``); ``visible_json``
is the same rule for the JSON log lines, which people read with ``aws logs tail`` in a terminal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any


def visible_char(char: str, *, keep_newlines: bool = False) -> str:
    """``char`` when it only shows, else its escape (``\\n`` too, unless ``keep_newlines``)."""
    if char.isprintable() or (keep_newlines and char == "\n"):
        return char
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")


def visible_pieces(text: str, *, keep_newlines: bool = False) -> Iterator[str]:
    """One shown piece per character of ``text`` (so a cut never splits an escape)."""
    for char in text:
        yield visible_char(char, keep_newlines=keep_newlines)


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control, format and separator characters escaped: it prints as one line
    (or as its own lines with ``keep_newlines``) and cannot drive a terminal."""
    if text.isprintable():
        return text
    return "".join(visible_pieces(text, keep_newlines=keep_newlines))


def _json_escape(char: str) -> str:
    if ord(char) <= 0xFFFF:
        return f"\\u{ord(char):04x}"
    high, low = divmod(ord(char) - 0x10000, 0x400)  # a surrogate pair, as JSON spells it
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def visible_json(value: Any, *, default: Any = str) -> str:
    """``value`` as one compact JSON line in which every character that ``visible`` would escape
    is a ``\\uXXXX`` escape: the same JSON, readable text kept (unlike ``ensure_ascii``), but
    nothing in a logged message body can drive the terminal that shows the log.

    It is the JSON serializer of our powertools Loggers (their own keeps C1 controls, U+2028 and
    U+202E as they are, since it writes with ``ensure_ascii=False``).
    """
    text = json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=False)
    if text.isprintable():
        return text
    # Only string contents can hold such characters (JSON's own syntax is printable ASCII), and
    # json.dumps already wrote U+0000-U+001F as escapes; the rest are written as \\u escapes here.
    return "".join(c if c.isprintable() else _json_escape(c) for c in text)


class _PrintableRecords(logging.Filter):
    """Writes each record's message (and traceback) with the rule above, for the handlers that
    print records as they are (the Lambda runtime's plain-text root handler, a terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = visible(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            traceback_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = visible(traceback_text, keep_newlines=True)
        return True


def printable_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` whose records quote untrusted text only as escapes: the one
    way our modules get a plain logger (a filter on a parent logger would not see their records)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, _PrintableRecords) for f in logger.filters):
        logger.addFilter(_PrintableRecords())
    return logger
