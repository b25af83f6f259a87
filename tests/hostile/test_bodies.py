"""Hostile message bodies and attributes, through the real engine against moto: each message is
either moved with its body and attributes preserved byte for byte, or left untouched in the DLQ.
Never mangled, never lost."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

import boto3

from bot.cli import main
from bot.planner import REDRIVE_COUNT_ATTRIBUTE
from infra.local.moto_server import LocalAws
from infra.local.scene import QueuePair, count, create_pair, drain
from tests.faults.helpers import assert_conserved, dlq_snapshot, outcome, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

KIB = 1024
SQS_MAX_BATCH_PAYLOAD = 256 * KIB


def dead_letter(sqs: SQSClient, pair: QueuePair, sends: list[dict[str, Any]]) -> None:
    """Send each message (keyword arguments of SendMessage) to the source queue, then receive
    until SQS dead-letters all of them (maxReceiveCount 1), as a failing consumer would."""
    for send in sends:
        sqs.send_message(QueueUrl=pair.source_url, **send)
    for _ in range(10 * len(sends) + 10):
        sqs.receive_message(QueueUrl=pair.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if count(sqs, pair.source_url) == 0:
            break
    assert count(sqs, pair.dlq_url) == len(sends)


def capture_sends(client: SQSClient) -> list[list[dict[str, Any]]]:
    """Record the entries of every SendMessageBatch request the client makes (on the wire)."""
    requests: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        requests.append([dict(entry) for entry in params["Entries"]])

    client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", record)
    return requests


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # SQS's own body checksum


def test_binary_looking_and_whitespace_bodies_arrive_byte_for_byte(sqs: SQSClient) -> None:
    # Given bodies that look like binary data, escapes, markup and significant whitespace
    raw = bytes(range(256))
    bodies = [
        base64.b64encode(raw).decode(),
        raw.decode("latin-1").replace("\x00", " ")[32:],  # U+0080..U+00FF are legal characters
        "\t\n\r",
        "line one\r\nline two\rline three\n",
        "   leading and trailing   ",
        " ",
        "\\x00\\u0000\\n \\\\ escaped-looking",
        "<![CDATA[ ]]> &amp; &lt;tag&gt; <?xml version='1.0'?>",
        '{"a": "\\ud800"}',  # a lone surrogate, escaped inside JSON text: just ASCII
        "\ufeffBOM first, \ufffd replacement, \u200b zero width",
        "%00%ff%2F url-encoded",
        "=?utf-8?b?w6k=?= MIME word",
    ]
    pair = create_pair(sqs, "binaryish")
    dead_letter(sqs, pair, [{"MessageBody": body} for body in bodies])
    before = dlq_snapshot(sqs, pair.dlq_url)

    # When they are redriven
    report = redrive(boto3.client("sqs"), pair.dlq_name)

    # Then each arrived exactly as it was, with SQS's checksum of the body unchanged
    assert report.moved == len(bodies)
    arrived = drain(sqs, pair.source_url)
    assert sorted(m["Body"] for m in arrived) == sorted(bodies)
    assert all(m["MD5OfBody"] == md5(m["Body"]) for m in arrived)
    assert count(sqs, pair.dlq_url) == 0
    assert set(before.values()) == set(bodies)


def _plane_sample(plane: int) -> str:
    """Characters from the start, middle and end of a Unicode plane, SQS-legal ones only."""
    if plane == 0:
        return "\t\n\r\x20\x7e\xa0\u0100\u4e2d\ud7ff\ue000\uf8ff\ufffd"
    base = plane * 0x10000
    return "".join(chr(base + offset) for offset in (0x0000, 0x0041, 0x7FFF, 0xF600, 0xFFFF))


def test_every_unicode_plane_survives_a_redrive(sqs: SQSClient) -> None:
    # Given one message per Unicode plane (0 to 16), with characters across each plane,
    # including private-use planes and the last code point SQS allows (U+10FFFF)
    bodies = [f"plane {plane}: {_plane_sample(plane)}" for plane in range(17)]
    bodies.append("".join(_plane_sample(plane) for plane in range(17)))
    assert "\U0010ffff" in bodies[-1]
    pair = create_pair(sqs, "unicode")
    dead_letter(sqs, pair, [{"MessageBody": body} for body in bodies])

    # When they are redriven
    report = redrive(boto3.client("sqs"), pair.dlq_name, workers=2)

    # Then every code point is where it was (compared as UTF-8 bytes)
    assert report.moved == len(bodies)
    arrived = sorted(m["Body"].encode("utf-8") for m in drain(sqs, pair.source_url))
    assert arrived == sorted(body.encode("utf-8") for body in bodies)


def _payload_size(entry: dict[str, Any]) -> int:
    """Bytes SQS counts toward the batch limit: body plus attribute names, types and values."""
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, attribute in entry.get("MessageAttributes", {}).items():
        size += len(name.encode()) + len(attribute["DataType"].encode())
        size += len(attribute.get("StringValue", "").encode())
        size += len(attribute.get("BinaryValue", b""))
    return size


def test_256_kib_bodies_are_split_into_batches_within_the_payload_limit(sqs: SQSClient) -> None:
    # Given big bodies (100 KiB, 250 KiB, one of exactly 256 KiB) among small ones, for a source
    # queue created before 2025 (MaximumMessageSize 256 KiB: batches follow the destination's)
    sizes = [100 * KIB] * 5 + [250 * KIB] * 3 + [256 * KIB] + [10] * 6
    bodies = [f"{i:02d}".ljust(size, "z") for i, size in enumerate(sizes)]
    pair = create_pair(sqs, "big")
    sqs.set_queue_attributes(
        QueueUrl=pair.source_url, Attributes={"MaximumMessageSize": str(SQS_MAX_BATCH_PAYLOAD)}
    )
    dead_letter(sqs, pair, [{"MessageBody": b} for b in bodies])
    before = dlq_snapshot(sqs, pair.dlq_url)
    client = boto3.client("sqs")
    requests = capture_sends(client)

    # When they are redriven
    report = redrive(client, pair.dlq_name, workers=2)

    # Then no SendMessageBatch request went over 256 KiB or 10 entries, the big ones were split
    # across requests, and every body is either at the destination or in the DLQ, unchanged
    assert requests
    for entries in requests:
        assert len(entries) <= 10
        if len(entries) > 1:
            assert sum(_payload_size(entry) for entry in entries) <= SQS_MAX_BATCH_PAYLOAD
    assert len(requests) >= 7  # 5×100 KiB need 3 requests, 3×250 KiB 3, 256 KiB its own
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert_conserved(before, after)
    assert report.moved + report.failed == len(bodies)
    assert {hashlib.sha256(b.encode()).hexdigest() for b in after.in_destination} | {
        hashlib.sha256(b.encode()).hexdigest() for b in after.in_dlq.values()
    } == {hashlib.sha256(b.encode()).hexdigest() for b in bodies}


def test_unreadable_bodies_with_time_field_stay_in_the_dlq_untouched(
    aws: LocalAws, sqs: SQSClient
) -> None:
    # Given in-window and out-of-window events, and bodies whose time cannot be read
    good = [
        json.dumps({"occurredAt": "2026-11-24T09:30:00+00:00", "n": 1}),
        json.dumps({"occurredAt": "2026-11-24", "n": 2}),
        json.dumps({"occurredAt": 1795478400, "n": 3}),  # 2026-11-24T00:00:00Z in seconds
    ]
    out_of_window = [json.dumps({"occurredAt": "2026-11-23T23:59:59+00:00"})]
    unreadable = [
        "not json at all",
        "{",
        '{"occurredAt": }',
        '{"occurredAt": null}',
        '{"occurredAt": true}',
        '{"occurredAt": "yesterday"}',
        '{"occurredAt": NaN}',
        '{"occurredAt": 1e400}',
        '{"occurredAt": -1e20}',
        '{"occurredAt": "2026-11-24T10:00:00+99:00"}',
        '{"occurredat": "2026-11-24"}',
        '"2026-11-24"',
        "[1, 2, 3]",
        "[" * 50_000 + "]" * 50_000,
        "\ufeff" + json.dumps({"occurredAt": "2026-11-24"}),
    ]
    pair = create_pair(sqs, "events")
    dead_letter(sqs, pair, [{"MessageBody": b} for b in good + out_of_window + unreadable])
    before = dlq_snapshot(sqs, pair.dlq_url)

    # When the CLI redrives 2026-11-24 by the body's occurredAt field
    out = io.StringIO()
    status = main(
        ["--json", "redrive", pair.dlq_name, "--time-field", "occurredAt", "--date", "2026-11-24"],
        env={**aws.env, "TIMEZONE": "UTC"},
        out=out,
    )

    # Then only the readable in-window events moved; the unreadable ones are counted as such
    # and stay in the DLQ with their ids and bodies unchanged
    report = json.loads(out.getvalue())
    assert status == 0
    assert report["moved"] == len(good)
    assert report["skipped_detail"]["unreadable_time"] == len(unreadable)
    assert report["skipped_detail"]["out_of_window"] == len(out_of_window)
    after = outcome(sqs, pair.dlq_url, pair.source_url)
    assert sorted(after.in_destination) == sorted(good)
    assert sorted(after.in_dlq.values()) == sorted(out_of_window + unreadable)
    assert_conserved(before, after)


EVERY_TYPE: dict[str, dict[str, Any]] = {
    "s": {"DataType": "String", "StringValue": "plain"},
    "s-unicode": {"DataType": "String", "StringValue": "é中😀\U0010fffd\t\r\n"},
    "n-int": {"DataType": "Number", "StringValue": "007"},
    "n-float": {"DataType": "Number", "StringValue": "-3.25E+10"},
    "b": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "s-custom": {"DataType": "String.custom-type_1", "StringValue": "custom"},
    "n-custom": {"DataType": "Number.float", "StringValue": "1.50"},
    "b-custom": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a\x00\xff\x00"},
    "name.with-dots_and-dashes": {"DataType": "String", "StringValue": " spaces kept "},
}


def _comparable(attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in attributes.items()
    }


def test_attributes_of_every_type_are_preserved(sqs: SQSClient) -> None:
    # Given a message with 9 attributes of every type (String, Number, Binary, custom types),
    # and one with the SQS maximum of 10 (no room for the redrive counter)
    full = {**EVERY_TYPE, "tenth": {"DataType": "String", "StringValue": "10"}}
    pair = create_pair(sqs, "attributes")
    dead_letter(
        sqs,
        pair,
        [
            {"MessageBody": "nine", "MessageAttributes": EVERY_TYPE},
            {"MessageBody": "ten", "MessageAttributes": full},
        ],
    )

    # When they are redriven
    report = redrive(boto3.client("sqs"), pair.dlq_name)

    # Then every attribute arrived with its type and value byte for byte; the first also carries
    # dlq-redrive-count=1, the second travelled without it and the report says so
    assert report.moved == 2
    assert report.counter_dropped == 1
    arrived = {
        m["Body"]: _comparable(m.get("MessageAttributes", {})) for m in drain(sqs, pair.source_url)
    }
    counter = {REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": "1"}}
    assert arrived["nine"] == {**_comparable(EVERY_TYPE), **counter}
    assert arrived["ten"] == _comparable(full)


def test_the_trace_header_is_sent_back_with_the_message(sqs: SQSClient) -> None:
    # Given a dead-lettered message that carried an X-Ray trace header
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    pair = create_pair(sqs, "traced")
    dead_letter(
        sqs,
        pair,
        [
            {
                "MessageBody": "traced",
                "MessageSystemAttributes": {
                    "AWSTraceHeader": {"DataType": "String", "StringValue": trace}
                },
            },
            {"MessageBody": "untraced"},
        ],
    )
    client = boto3.client("sqs")
    requests = capture_sends(client)

    # When they are redriven
    report = redrive(client, pair.dlq_name)

    # Then the request put the same trace header on the traced message, and none on the other
    # (moto drops system attributes on SendMessageBatch, so this is checked on the request)
    assert report.moved == 2
    entries = {entry["MessageBody"]: entry for request in requests for entry in request}
    assert entries["traced"]["MessageSystemAttributes"] == {
        "AWSTraceHeader": {"DataType": "String", "StringValue": trace}
    }
    assert "MessageSystemAttributes" not in entries["untraced"]


def test_no_body_is_ever_rewritten_on_the_way_out(sqs: SQSClient) -> None:
    # Given messages whose bodies look like what a careless tool would "fix" (JSON to
    # re-serialise, base64 to decode, trailing newlines to strip)
    bodies = ['{"b": 1,  "a": 2}', '{"a":1.0}', "aGVsbG8=", "ends with newline\n\n", "1e3"]
    pair = create_pair(sqs, "nofix")
    dead_letter(sqs, pair, [{"MessageBody": b} for b in bodies])
    client = boto3.client("sqs")
    requests = capture_sends(client)

    # When they are redriven
    redrive(client, pair.dlq_name)

    # Then the request bodies were the originals, character for character
    sent = sorted(entry["MessageBody"] for request in requests for entry in request)
    assert sent == sorted(bodies)
