"""Import on moto (issue 12): messages archived from a queue (to a file, to S3) go back to a
standard or FIFO queue byte for byte with their attributes and trace header; a FIFO import run
again is deduplicated; what a queue cannot take is counted and the rest goes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.archive_files import JsonlFileSink, JsonlFileSource
from bot.archive_model import ArchiveRecord
from bot.importer import TOO_LARGE, import_records
from bot.s3_gateway import S3Archive, S3Source
from bot.sqs_gateway import SqsGateway
from tests.integration.cli_helpers import CallRecorder

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

ATTRIBUTES: dict[str, Any] = {
    "text": {"DataType": "String", "StringValue": "héllo ✓ \u2028"},
    "num": {"DataType": "Number", "StringValue": "-1.5e3"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "tenant": {"DataType": "String.tenant", "StringValue": "acme"},
    "dlq-redrive-count": {"DataType": "Number", "StringValue": "2"},
}
BODIES = [
    '{"order": 1}',
    "line\nbreak\r\nand\rreturn",
    "separators \u2028 \u2029 and \x85",
    "control \x01\x1f\x7f and tab\t",
    "ünïcode ✓ 🎉 中文",
    "x" * 5000,
]
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def drain(sqs: SQSClient, url: str) -> list[dict[str, Any]]:
    """Every message of a queue, in the order received (deleted as received)."""
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )


def archived(sqs: SQSClient, url: str, dlq: str) -> list[ArchiveRecord]:
    gateway = SqsGateway()
    records: list[ArchiveRecord] = []
    while got := gateway.receive(url, max_messages=10, visibility_timeout=60, wait_seconds=0):
        records += [ArchiveRecord.from_message(m, dlq=dlq, source=None) for m in got]
    return records


def test_an_archive_in_a_file_goes_back_to_a_standard_queue_byte_for_byte(
    sqs: SQSClient, tmp_path: Path
) -> None:
    # Given a DLQ holding messages with every attribute type and a trace header
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    target = sqs.create_queue(QueueName="orders")["QueueUrl"]
    for body in BODIES:
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=body,
            MessageAttributes=ATTRIBUTES,
            MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}
            },
        )
    # archived to a file
    path = tmp_path / "export.jsonl"
    with JsonlFileSink(path) as sink:
        sink.write(archived(sqs, dlq, "orders-dlq"))
    # When the file is imported into the queue (the calls recorded: moto drops the
    # MessageSystemAttributes of SendMessageBatch, so the trace header is checked as sent)
    recorder = CallRecorder()
    gateway = recorder.gateway
    report = import_records(
        gateway,
        JsonlFileSource(path).records(),
        gateway.queue_info(target),
        location=str(path),
    )
    # Then every message is there, body byte for byte, attributes and trace header as they were
    assert (report.read, report.sent, report.failed, report.unconfirmed) == (6, 6, 0, 0)
    back = drain(sqs, target)
    assert sorted(m["Body"] for m in back) == sorted(BODIES)
    for message in back:
        assert message["MessageAttributes"]["blob"]["BinaryValue"] == bytes(range(256))
        for name, value in ATTRIBUTES.items():
            kept = {k: v for k, v in message["MessageAttributes"][name].items() if v}
            assert kept == value
    sends = [params for name, params in recorder.calls if name == "SendMessageBatch"]
    assert [len(params["Entries"]) for params in sends] == [6]
    for entry in sends[0]["Entries"]:
        assert entry["MessageSystemAttributes"] == {
            "AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}
        }


def test_an_archive_on_s3_goes_back_to_a_fifo_queue_in_group_order_once(
    sqs: SQSClient, s3: S3Client
) -> None:
    # Given a FIFO DLQ with messages of two groups, archived to S3 two per object
    s3.create_bucket(Bucket="dlq-archive")
    attributes = {"FifoQueue": "true"}
    dlq = sqs.create_queue(QueueName="orders-dlq.fifo", Attributes=attributes)["QueueUrl"]
    target = sqs.create_queue(QueueName="orders.fifo", Attributes=attributes)["QueueUrl"]
    for n in range(9):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=f"message {n}",
            MessageGroupId="even" if n % 2 == 0 else "odd",
            MessageDeduplicationId=f"d{n}",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": str(n)}},
        )
    records = archived(sqs, dlq, "orders-dlq.fifo")
    assert len(records) == 9  # the scene: all archived
    archive = S3Archive(s3, "s3://dlq-archive/exports/orders")
    for start in range(0, 9, 2):
        archive.write(records[start : start + 2])
    gateway = SqsGateway()
    info = gateway.queue_info(target)
    # When the archive is imported, and imported again at once
    first = import_records(gateway, S3Source(s3, archive.location).records(), info)
    again = import_records(gateway, S3Source(s3, archive.location).records(), info)
    # Then each message is in the queue once, each group in its order, with its group id
    assert first.sent == again.sent == 9
    back = drain(sqs, target)
    assert sorted(m["Body"] for m in back) == sorted(f"message {n}" for n in range(9))
    for group, numbers in (("even", range(0, 9, 2)), ("odd", range(1, 9, 2))):
        in_group = [m for m in back if m["Attributes"]["MessageGroupId"] == group]
        assert [m["Body"] for m in in_group] == [f"message {n}" for n in numbers]


def test_a_record_too_large_for_the_queue_is_counted_and_the_rest_goes(sqs: SQSClient) -> None:
    # Given a queue that takes messages of at most 1 KiB, and an archive with one larger record
    target = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})
    records = [
        ArchiveRecord("id-1", "small one", {}, {}, "dlq"),
        ArchiveRecord("id-2", "y" * 2048, {}, {}, "dlq"),
        ArchiveRecord("id-3", "small two", {}, {}, "dlq"),
    ]
    gateway = SqsGateway()
    # When imported
    report = import_records(gateway, records, gateway.queue_info(target["QueueUrl"]))
    # Then the two that fit are in the queue and the other is counted with why
    assert sorted(m["Body"] for m in drain(sqs, target["QueueUrl"])) == ["small one", "small two"]
    assert report.not_sent == {f"{TOO_LARGE} (1,024 bytes)": 1}
    assert (report.sent, report.failed) == (2, 0)
