"""Archive records (issue 12): one line of JSON per message that reads back exactly as it was
written, whatever the body and attributes hold; a line that is not a record is refused by number."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive_model import (
    ARCHIVE_FORMAT,
    ArchiveFormatError,
    ArchiveRecord,
    parse_lines,
)
from bot.errors import UsageError
from bot.sqs_model import ReceivedMessage

EVERY_TYPE = {
    "text": {
        "DataType": "String",
        "StringValue": "héllo ✓",
        "StringListValues": [],
        "BinaryListValues": [],
    },
    "num": {"DataType": "Number", "StringValue": "-1.5e3"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "custom-string": {"DataType": "String.tenant", "StringValue": "acme"},
    "custom-number": {"DataType": "Number.int", "StringValue": "42"},
    "custom-binary": {"DataType": "Binary.gzip", "BinaryValue": b"\x1f\x8b\x08\x00"},
    "dlq-redrive-count": {"DataType": "Number", "StringValue": "2"},
}
SYSTEM = {
    "SentTimestamp": "1764547200000",
    "ApproximateReceiveCount": "4",
    "DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:123456789012:orders",
    "MessageGroupId": "group \u202e1",
    "AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
    "MessageDeduplicationId": "dedup-1",
}


def message(body: str, attrs: dict | None = None, **system: str) -> ReceivedMessage:
    return ReceivedMessage("id-1", "handle-1", body, dict(system), dict(attrs or {}))


def round_trip(record: ArchiveRecord) -> ArchiveRecord:
    return ArchiveRecord.from_json_line(record.to_json_line())


def test_every_attribute_type_and_system_attribute_reads_back_exactly() -> None:
    # Given a DLQ message with an attribute of every type and the system attributes SQS gives
    received = message('{"order": 1}', EVERY_TYPE, **SYSTEM)
    record = ArchiveRecord.from_message(
        received, dlq="orders-dlq", source=SYSTEM["DeadLetterQueueSourceArn"]
    )
    # When it is written out and read back
    back = round_trip(record)
    # Then everything is as SQS gave it, less the empty list values SQS fills in
    assert back == record
    assert back.message_attributes["blob"]["BinaryValue"] == bytes(range(256))
    assert back.message_attributes["text"] == {"DataType": "String", "StringValue": "héllo ✓"}
    assert back.attributes == SYSTEM
    assert (back.dlq, back.source) == ("orders-dlq", SYSTEM["DeadLetterQueueSourceArn"])
    # and the receipt handle is not archived (it is no use later)
    assert "handle-1" not in record.to_json_line()


def test_binary_values_are_base64_under_their_sqs_key() -> None:
    # Given a binary attribute
    record = ArchiveRecord.from_message(
        message("x", {"b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}),
        dlq="d",
        source=None,
    )
    # When written
    document = json.loads(record.to_json_line())
    # Then its value is base64 text, and the line says its format
    assert document["message_attributes"]["b"] == {"DataType": "Binary", "BinaryValue": "AP8="}
    assert document["format"] == ARCHIVE_FORMAT == "dlq-redrive/1"
    assert document["source"] is None


@pytest.mark.parametrize(
    "body",
    [
        "line one\nline two\r\nline three\rend",
        "paragraph\u2028separator\u2029and\x85next line",
        "nul \x00 bell \x07 escape \x1b[31m del \x7f",
        "ünïcode ✓ 🎉 中文 \ufeff",
        "lone surrogate \ud800 kept",
        "",
        '{"already": "json", "quote": "\\"", "backslash": "\\\\"}',
    ],
)
def test_a_body_reads_back_byte_for_byte_and_stays_on_one_ascii_line(body: str) -> None:
    # Given a body with line breaks of every kind, control characters or non-ASCII text
    record = ArchiveRecord.from_message(message(body), dlq="d", source=None)
    # When written
    line = record.to_json_line()
    # Then the line is one line of ASCII for any reader (str.splitlines splits on U+2028 too)
    assert line.isascii()
    assert line.splitlines() == [line]
    # and the body reads back exactly
    assert round_trip(record).body == body


def test_a_record_becomes_the_received_message_the_planner_takes() -> None:
    # Given a record of a message
    received = message("body", EVERY_TYPE, **SYSTEM)
    record = ArchiveRecord.from_message(received, dlq="d", source=None)
    # When made a received message again
    again = round_trip(record).to_received()
    # Then it is the message, without a receipt handle
    assert again.message_id == "id-1"
    assert again.receipt_handle == ""
    assert again.body == "body"
    assert again.attributes == SYSTEM
    assert again.message_attributes["blob"] == EVERY_TYPE["blob"]
    assert again.message_attributes["text"] == {"DataType": "String", "StringValue": "héllo ✓"}


GOOD = ArchiveRecord("id-9", "b", {}, {}, "d", None).to_json_line()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json at all", "not JSON"),
        ('["a", "list"]', "not a JSON object"),
        ('{"message_id": "x", "body": "b"}', '"format" is missing'),
        (GOOD.replace(ARCHIVE_FORMAT, "dlq-redrive/9"), "not 'dlq-redrive/1'"),
        (GOOD.replace('"message_id":"id-9"', '"message_id":""'), '"message_id" is missing'),
        (GOOD.replace('"body":"b"', '"body":5'), '"body" is missing or not a string'),
        (GOOD.replace('"attributes":{}', '"attributes":{"A":1}'), '"attributes" is not'),
        (GOOD.replace('"source":null', '"source":1'), '"source" is neither'),
        (
            GOOD.replace(
                '"message_attributes":{}',
                '"message_attributes":{"x":{"DataType":"Binary","BinaryValue":"***"}}',
            ),
            "attribute #1: a binary value is not valid base64",
        ),
        (
            GOOD.replace('"message_attributes":{}', '"message_attributes":{"x":{"DataType":"S"}}'),
            "attribute #1: no value",
        ),
        (
            GOOD.replace('"message_attributes":{}', '"message_attributes":{"x":"plain"}'),
            "attribute #1: not an object with a DataType",
        ),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_what_is_wrong(line: str, says: str) -> None:
    # Given an archive whose third line is not a record
    lines = [GOOD, "", line]
    # When its records are read
    with pytest.raises(ArchiveFormatError) as raised:
        list(parse_lines(lines, location="/tmp/x.jsonl"))
    # Then the error names the archive, the line and the fault, and is a usage error
    assert str(raised.value).startswith("/tmp/x.jsonl, line 3: ")
    assert says in str(raised.value)
    assert isinstance(raised.value, UsageError)


def test_the_bad_line_is_not_repeated_in_the_error() -> None:
    # Given a line with an attribute name that would drive a terminal
    hostile = GOOD.replace(
        '"message_attributes":{}', '"message_attributes":{"\\u001b[2J":{"DataType":"S"}}'
    )
    # When read
    with pytest.raises(ArchiveFormatError) as raised:
        ArchiveRecord.from_json_line(hostile, line_number=1)
    # Then the error says where, not what the sender wrote
    assert "\x1b" not in str(raised.value)
    assert str(raised.value) == "line 1: attribute #1: no value"


def test_blank_lines_are_skipped_and_the_rest_numbered_as_in_the_file() -> None:
    # Given two records with a blank line between and a trailing one
    second = ArchiveRecord("id-2", "b2", {}, {}, "d", None).to_json_line()
    # When read
    records = list(parse_lines([GOOD, "  ", second, ""], location="x"))
    # Then the two records come back in order
    assert [r.message_id for r in records] == ["id-9", "id-2"]


_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)  # any code point, surrogates too
_ATTRIBUTE = st.one_of(
    st.builds(
        lambda t, v: {"DataType": t, "StringValue": v},
        st.sampled_from(["String", "Number", "String.x"]),
        _TEXT.filter(bool),
    ),
    st.builds(
        lambda t, v: {"DataType": t, "BinaryValue": v},
        st.sampled_from(["Binary", "Binary.gz"]),
        st.binary(min_size=1, max_size=40),
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    message_id=_TEXT.filter(bool),
    body=_TEXT,
    attributes=st.dictionaries(_TEXT, _ATTRIBUTE, max_size=10),
    system=st.dictionaries(_TEXT, _TEXT, max_size=6),
    source=st.none() | _TEXT,
)
def test_any_record_reads_back_as_it_was_from_one_ascii_line(
    message_id: str, body: str, attributes: dict, system: dict, source: str | None
) -> None:
    # Given any record
    record = ArchiveRecord(message_id, body, attributes, system, "dlq", source)
    # When written and read back
    line = record.to_json_line()
    # Then it is one ASCII line that reads back equal
    assert line.isascii() and "\n" not in line and "\r" not in line
    assert ArchiveRecord.from_json_line(line) == record
