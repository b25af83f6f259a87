"""The characters SQS takes in a message body, as a rule to check text against before it is sent.

"A message can include only XML, JSON, and unformatted text. The following Unicode characters are
allowed: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. Any characters
not included in this list will be rejected." (SQS API reference, SendMessage, MessageBody.)
moto takes the others, so a check of ours is what stands between a person's text and a refusal
that real SQS gives only once the run is under way. Pure, and quick to import.
"""

from __future__ import annotations

import re

# Written as the characters outside SQS's list (the negated class of its ranges is slow to
# compile), and compiled on first use (``re`` caches it): the Slack endpoint's cold start loads
# this module for its form checks.
_REFUSED = "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"


def refused_character(text: str) -> tuple[int, str] | None:
    """(position from 1, "U+XXXX") of the first character of ``text`` SQS refuses in a body, or
    None when SQS takes it all."""
    found = re.search(_REFUSED, text)
    if found is None:
        return None
    return found.start() + 1, f"U+{ord(found.group()):04X}"
