"""Archive records: a DLQ message written out (export, discard --archive) and read back (import).

Plain data and the sink/source Protocols, no I/O and no boto3: the engine writes records through
an ``ArchiveSink`` (``bot.archive_files.JsonlFileSink``, ``bot.s3_gateway.S3Archive``) and the
importer reads them from an ``ArchiveSource``, and neither needs to know where they live.

One record is one line of JSON ("JSON Lines"), with ``"format": "dlq-redrive/1"``. The line is
written with every non-ASCII character escaped (``ensure_ascii``), so it is pure ASCII: a body's
newline, U+2028 or lone surrogate can never split a record for a reader that splits on more than
``\\n`` (``str.splitlines`` does on U+2028), and no byte of the file depends on an encoding.
Binary attribute values are base64 under the key SQS uses for them (``BinaryValue``), so the key
says how to read the value back.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.errors import DlqRedriveError, UsageError
from bot.sqs_model import ReceivedMessage

ARCHIVE_FORMAT = "dlq-redrive/1"

# The value keys of an SQS MessageAttributeValue. SQS gives the list ones back empty (they are
# reserved); a record keeps only the ones that hold something.
_STRING_KEYS = ("StringValue",)
_BINARY_KEYS = ("BinaryValue",)
_STRING_LIST_KEYS = ("StringListValues",)
_BINARY_LIST_KEYS = ("BinaryListValues",)


class ArchiveFormatError(UsageError):
    """A line of an archive is not a dlq-redrive record; the message names the line."""


class ArchiveWriteError(DlqRedriveError):
    """An archive write was not confirmed durable: whatever it held must stay in the DLQ."""


@dataclass(frozen=True)
class ArchiveRecord:
    """One DLQ message as archived: what it takes to send it back exactly as it was.

    ``message_attributes`` as SQS gives them (``DataType`` and ``StringValue`` or ``BinaryValue``
    bytes); ``attributes`` the system attributes SQS gave (SentTimestamp, MessageGroupId,
    AWSTraceHeader, ...); ``dlq`` the DLQ's name; ``source`` the queue ARN it came from, if known.
    """

    message_id: str
    body: str
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    dlq: str = ""
    source: str | None = None

    @classmethod
    def from_message(
        cls, message: ReceivedMessage, *, dlq: str, source: str | None
    ) -> ArchiveRecord:
        """The record of a received message (its receipt handle is not kept: it is no use
        once the message is gone or released)."""
        return cls(
            message_id=message.message_id,
            body=message.body,
            message_attributes={
                name: _kept_values(value) for name, value in message.message_attributes.items()
            },
            attributes=dict(message.attributes),
            dlq=dlq,
            source=source,
        )

    def to_json_line(self) -> str:
        """The record as one line of JSON, pure ASCII, without the line's newline."""
        document = {
            "format": ARCHIVE_FORMAT,
            "message_id": self.message_id,
            "dlq": self.dlq,
            "source": self.source,
            "body": self.body,
            "message_attributes": {
                name: _attribute_to_json(value) for name, value in self.message_attributes.items()
            },
            "attributes": self.attributes,
        }
        return json.dumps(document, ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_json_line(
        cls, line: str, *, line_number: int | None = None, location: str | None = None
    ) -> ArchiveRecord:
        """The record a line holds; ArchiveFormatError naming the line (and the archive) when
        it is not one. The line's own text is never repeated: it may be anything."""
        where = _where(line_number, location)
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArchiveFormatError(f"{where}: not JSON ({exc.msg}, column {exc.colno})") from exc
        except RecursionError as exc:  # a line of 100,000 "[": not a record either
            raise ArchiveFormatError(f"{where}: not JSON (nested too deeply)") from exc
        if not isinstance(document, dict):
            raise ArchiveFormatError(f"{where}: not a JSON object")
        found = document.get("format")
        if found != ARCHIVE_FORMAT:
            shown = "missing" if found is None else "not " + repr(ARCHIVE_FORMAT)
            raise ArchiveFormatError(f'{where}: its "format" is {shown}')
        try:
            return cls(
                message_id=_text(document, "message_id", empty=False),
                body=_text(document, "body"),
                message_attributes=_message_attributes(document.get("message_attributes", {})),
                attributes=_string_map(document.get("attributes", {}), "attributes"),
                dlq=_text(document, "dlq"),
                source=_optional_text(document, "source"),
            )
        except _BadField as exc:
            raise ArchiveFormatError(f"{where}: {exc}") from exc

    def to_received(self) -> ReceivedMessage:
        """The record as a received message (no receipt handle: it was not received), for the
        planner that builds what is sent back."""
        return ReceivedMessage(
            message_id=self.message_id,
            receipt_handle="",
            body=self.body,
            attributes=dict(self.attributes),
            message_attributes={
                name: dict(value) for name, value in self.message_attributes.items()
            },
        )


class ArchiveSink(Protocol):
    """Where archive records are written. ``write`` returns only once the records are durable
    (file: written, flushed and fsynced; S3: the PutObject answered); otherwise it raises
    ArchiveWriteError. Thread-safe: the engine's workers write at the same time."""

    location: str  # shown in summaries, cards and the audit ("s3://b/p/", "/path/x.jsonl")

    def write(self, records: Sequence[ArchiveRecord]) -> None: ...

    def close(self) -> None: ...


class ArchiveSource(Protocol):
    """Archive records read back, streamed: memory does not grow with the archive."""

    location: str

    def records(self) -> Iterator[ArchiveRecord]: ...


def parse_lines(lines: Iterable[bytes | str], *, location: str) -> Iterator[ArchiveRecord]:
    """The records of an archive's lines (bytes as read from a file or an S3 object, or text),
    numbered from 1. A line that is not UTF-8 is refused by its number; blank lines
    are skipped (an editor's trailing newline is not a record), and so is a byte order mark."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                where = _where(number, location)
                raise ArchiveFormatError(f"{where}: not UTF-8 (byte {exc.start + 1})") from exc
        else:
            line = raw
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.strip():
            yield ArchiveRecord.from_json_line(line, line_number=number, location=location)


class _BadField(ValueError):
    """A field of a record has the wrong shape (said by ``from_json_line`` with the line)."""


def _where(line_number: int | None, location: str | None) -> str:
    line = "a line" if line_number is None else f"line {line_number}"
    return f"{location}, {line}" if location else line


def _kept_values(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute with only its type and the values that hold something."""
    return {key: value for key, value in attribute.items() if key == "DataType" or value}


def _attribute_to_json(attribute: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in attribute.items():
        if key in _BINARY_KEYS:
            shown[key] = base64.b64encode(bytes(value)).decode("ascii")
        elif key in _BINARY_LIST_KEYS:
            shown[key] = [base64.b64encode(bytes(item)).decode("ascii") for item in value]
        else:
            shown[key] = value
    return shown


def _text(document: Mapping[str, Any], key: str, *, empty: bool = True) -> str:
    value = document.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise _BadField(f'"{key}" is missing or not a {"" if empty else "non-empty "}string')
    return value


def _optional_text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadField(f'"{key}" is neither a string nor null')
    return value


def _string_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _BadField(f'"{key}" is not an object of strings')
    return dict(value)


def _decode(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise _BadField(f"attribute #{name}: a binary value is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _BadField(f"attribute #{name}: a binary value is not valid base64") from exc


def _message_attributes(value: Any) -> dict[str, dict[str, Any]]:
    """The message attributes of a record, binary values decoded; attribute names are not
    repeated in errors (they are the sender's text), only their position."""
    if not isinstance(value, dict):
        raise _BadField('"message_attributes" is not an object')
    attributes: dict[str, dict[str, Any]] = {}
    for position, (name, raw) in enumerate(value.items(), start=1):
        label = str(position)
        if not isinstance(raw, dict) or not isinstance(raw.get("DataType"), str):
            raise _BadField(f"attribute #{label}: not an object with a DataType string")
        attribute: dict[str, Any] = {"DataType": raw["DataType"]}
        for key, item in raw.items():
            if key in _STRING_KEYS:
                if not isinstance(item, str):
                    raise _BadField(f"attribute #{label}: {key} is not a string")
                attribute[key] = item
            elif key in _BINARY_KEYS:
                attribute[key] = _decode(item, label)
            elif key in _STRING_LIST_KEYS:
                if not isinstance(item, list) or not all(isinstance(v, str) for v in item):
                    raise _BadField(f"attribute #{label}: {key} is not a list of strings")
                attribute[key] = list(item)
            elif key in _BINARY_LIST_KEYS:
                if not isinstance(item, list):
                    raise _BadField(f"attribute #{label}: {key} is not a list")
                attribute[key] = [_decode(v, label) for v in item]
            elif key != "DataType":
                raise _BadField(f"attribute #{label}: unknown key")
        if len(attribute) == 1:
            raise _BadField(f"attribute #{label}: no value")
        attributes[name] = attribute
    return attributes
