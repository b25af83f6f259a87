"""Which error group a DLQ message belongs to: pure, no I/O.

An error group is the value of the message attribute named by ``ERROR_ATTRIBUTE`` when the message
has it, else the error the AWS service that dead-lettered it wrote into it (EventBridge's
ERROR_CODE and ERROR_MESSAGE, Lambda's ErrorCode and ErrorMessage, an on-failure record's
responsePayload), else a fingerprint of the body's *shape*: the keys and value types of a JSON
body, or the text with its numbers and ids masked, so that "order 123 failed" and "order 456
failed" fall in one group. The daily report counts the groups (``bot.daily.figures``) and
``--error`` selects one, by its label or its ``label_digest``: one definition for both, so a label
the report shows selects exactly the messages it counted.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError
from bot.lambda_api import FailedInvocation

if TYPE_CHECKING:
    from bot.sqs_model import ReceivedMessage

_SHAPE_DEPTH = 3
_TEXT_LABEL = 60  # characters of a text body's masked text in its label
_TEXT_PREFIX = 1_000  # characters of a text body that are masked to make that label
_ERROR_LABEL = 200  # characters of an error an AWS service wrote, in its label
_CUT_DIGEST = 8  # hex digits of the whole error's sha256 that end a label cut short
# Characters of an error an AWS service wrote that are masked to make its label: Lambda cuts its
# ErrorMessage to 1 KB and EventBridge's are a sentence, so this holds all AWS writes; the rest
# of an attribute someone else wrote (256 KB) would cost about half a second a message to mask.
_ERROR_PREFIX = 2_000
DIGEST_HEX = 12  # hex digits of sha256 in a label's digest: "#" + 12 = 13 characters

# Masks applied to text bodies, most specific first: ids and numbers vary, the message does not.
_TEXT_MASKS = (
    (
        re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
        "<id>",
    ),
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<hex>"),
    (re.compile(r"\d+(?:[.:,-]\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
)
_DIGEST = re.compile(rf"#[0-9a-f]{{{DIGEST_HEX}}}")

# Masks applied to an error an AWS service wrote: what differs from one invocation to the next
# of the same error. The time it happened and the request's id (a UUID for Lambda and most
# services, 16 hex digits for S3: both one "<id>", so one error is one group whichever service
# named its request), an object's address, and a measured duration ("Task timed out after 3.01
# seconds"). Other numbers stay: "quota 3" and "quota 4", ErrorCode 429 and 500 are different
# errors.
_ERROR_MASKS = (
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (_TEXT_MASKS[0][0], "<id>"),
    (_TEXT_MASKS[1][0], "<id>"),
    # An object's address, as Python's and Java's runtimes name objects ("<Order object at
    # 0x7f3a2c1b4d90>"): another in each invocation. A byte ("0xff") is part of the error.
    (re.compile(r"\b0x[0-9a-fA-F]{8,}\b"), "<addr>"),
    (re.compile(r"\b\d+\.\d+(?= ?(?:ms|s|sec|secs|seconds|milliseconds)\b)"), "<n>"),
)


def _shape(value: Any, depth: int = 0) -> str:
    if isinstance(value, dict):
        if depth >= _SHAPE_DEPTH:
            return "{…}"
        inner = ", ".join(f"{key}:{_shape(value[key], depth + 1)}" for key in sorted(value))
        return "{" + inner + "}"
    if isinstance(value, list):
        if not value or depth >= _SHAPE_DEPTH:
            return "[]"
        # A list's shape is the set of its items' shapes: length does not make a new group.
        return "[" + "|".join(sorted({_shape(item, depth + 1) for item in value})) + "]"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    if value is None:
        return "null"
    return "str"


def body_fingerprint(body: str) -> str:
    """A label for the body's shape: JSON keys and types, or the text with numbers/ids masked."""
    text = body.strip()
    if text.startswith(("{", "[")):
        try:
            return "json " + _shape(json.loads(text))
        except (ValueError, RecursionError):
            pass  # not JSON after all: fingerprint it as text
    # The label keeps 60 characters: masking the first 1,000 is enough, and masking all of a
    # 1 MiB body costs tens of milliseconds, for each of thousands of messages.
    text = text[:_TEXT_PREFIX]
    for pattern, replacement in _TEXT_MASKS:
        text = pattern.sub(replacement, text)
    return "text " + (text[:_TEXT_LABEL] if text else "(empty)")


def error_label(message: ReceivedMessage, error_attribute: str | None) -> tuple[str, bool]:
    """(label, by_attribute) of the error group ``message`` belongs to: the ERROR_ATTRIBUTE's
    value, else the error the AWS service that dead-lettered it wrote (``_aws_error``), else
    the body's shape."""
    if error_attribute:
        value = _string_attribute(message, error_attribute)
        if value is not None:
            return " ".join(value.split()), True
    aws_error = _aws_error(message)
    if aws_error is not None:
        return aws_error, True
    return body_fingerprint(message.body), False


def _string_attribute(message: ReceivedMessage, name: str) -> str | None:
    attribute = message.message_attributes.get(name)
    value = attribute.get("StringValue") if attribute else None
    return value if isinstance(value, str) and value.strip() else None


def _error_words(text: str) -> str:
    """An error message as a label: whitespace runs as one space, request ids and other long
    ids masked (Lambda's messages carry the request's: every message would be a group of its
    own; the time and a measured duration too: ``_ERROR_MASKS``), cut at ``_ERROR_LABEL``
    characters. Only the first ``_ERROR_PREFIX`` characters count."""
    text = text[:_ERROR_PREFIX]
    for pattern, replacement in _ERROR_MASKS:
        text = pattern.sub(replacement, text)
    words = " ".join(text.split())
    if len(words) <= _ERROR_LABEL:
        return words
    # Services name the resource first and the cause last ("Unable to send to <queue> ...
    # Error Code: AccessDenied"): two errors alike in what a label shows are still told apart
    # by the digest of the whole text, which one error of many requests shares.
    whole = hashlib.sha256(words.encode("utf-8", "surrogatepass")).hexdigest()[:_CUT_DIGEST]
    return f"{words[: _ERROR_LABEL - _CUT_DIGEST - 3]}… ~{whole}"


def _aws_error(message: ReceivedMessage) -> str | None:
    """The error EventBridge, Lambda's async DLQ or an on-failure record states, or None.

    - EventBridge adds RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE to each message of a
      target's DLQ: "ERROR_CODE: ERROR_MESSAGE".
    - Lambda adds RequestID, ErrorCode (the 3-digit HTTP code) and ErrorMessage ("truncated to
      1 KB"; a function's error document ``{"errorMessage", "errorType"}`` is read as one):
      the message, else "ErrorCode N".
    - An on-failure record states responsePayload's errorType and errorMessage, else
      requestContext.condition (``bot.lambda_api.FailedInvocation.error``).
    """
    attributes = message.message_attributes
    code = _string_attribute(message, "ERROR_CODE")
    if code is not None and ("RULE_ARN" in attributes or "TARGET_ARN" in attributes):
        text = _string_attribute(message, "ERROR_MESSAGE")
        return _error_words(f"{code}: {text}" if text else code)
    lambda_code = _string_attribute(message, "ErrorCode")
    if lambda_code is not None and "RequestID" in attributes:
        text = _string_attribute(message, "ErrorMessage")
        if text is None:
            return _error_words(f"ErrorCode {lambda_code}")
        return _error_words(_function_error(text) or text)
    body = message.body
    # Only a body naming both keys is parsed here (body_fingerprint parses the others).
    if '"requestContext"' in body and '"requestPayload"' in body:
        return _record_error(body)
    return None


def _function_error(text: str) -> str | None:
    """ "errorType: errorMessage" of a function's error document, else None."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    words = [document.get("errorType"), document.get("errorMessage")]
    found = [str(w).strip() for w in words if isinstance(w, str | int | float) and str(w).strip()]
    return ": ".join(found) or None


def _record_error(body: str) -> str | None:
    try:
        record = json.loads(body)
        failed = FailedInvocation.from_record(record)
    except (ValueError, RecursionError, UsageError):
        return None
    return _error_words(failed.error)


# Every body-shape label starts with one of these (``body_fingerprint``).
_BODY_LABEL_PREFIXES = ("json ", "text ")


def reads_like_body_label(label: str, by_attribute: bool) -> bool:
    """Whether ``label`` is an ERROR_ATTRIBUTE value that reads like a body-shape label
    ("text order <n> failed"): a group of its own, which its bare label does not select."""
    return by_attribute and label.startswith(_BODY_LABEL_PREFIXES)


def label_digest(label: str, by_attribute: bool = False) -> str:
    """``#`` and the first 12 hex digits of the sha256 of the whole label: what the report shows
    beside a group and Slack's buttons carry (a label can be longer than a button's value), and
    what ``--error`` accepts instead of the label.

    An ERROR_ATTRIBUTE value that reads like a body-shape label is another group than that body
    shape (the report counts them apart): its digest is taken over its kind too, so the two
    never share one. Every other label's digest is that of its text alone."""
    text = f"attribute:{label}" if reads_like_body_label(label, by_attribute) else label
    # surrogatepass: a JSON key may hold a lone surrogate ("\ud800"), which is still a label
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return "#" + digest[:DIGEST_HEX]


def is_label_digest(text: str) -> bool:
    """Whether ``text`` is a ``label_digest`` (then ``--error`` compares digests)."""
    return _DIGEST.fullmatch(text) is not None


def in_error_group(message: ReceivedMessage, error: str, error_attribute: str | None) -> bool:
    """Whether ``message``'s error group is ``error``: its label, or that label's digest. A
    bare label that reads like a body shape is the body-shape group (an attribute value that
    reads the same is selected by its digest, which the report shows beside it)."""
    label, by_attribute = error_label(message, error_attribute)
    if is_label_digest(error):
        return label_digest(label, by_attribute) == error
    return label == error and not reads_like_body_label(label, by_attribute)
