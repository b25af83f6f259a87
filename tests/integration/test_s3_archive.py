"""Archives on S3 (issue 12), on moto's S3: one object per write, durable when write returns, an
ArchiveWriteError for anything S3 did not confirm (a lost answer too), and the objects read back
in the order written, streamed line by line."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from bot.archive_model import ArchiveFormatError, ArchiveRecord, ArchiveWriteError
from bot.errors import AwsError, UsageError
from bot.s3_gateway import S3Archive, S3Source

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "dlq-archive"


def record(n: int, body: str = "body") -> ArchiveRecord:
    return ArchiveRecord(
        f"id-{n}",
        f"{body} {n}",
        {"blob": {"DataType": "Binary", "BinaryValue": bytes([n % 256, 0, 255])}},
        {"SentTimestamp": "1764547200000", "AWSTraceHeader": "Root=1-abc"},
        "orders-dlq",
        "arn:aws:sqs:us-east-1:123456789012:orders",
    )


@pytest.fixture
def bucket(s3: S3Client) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


def keys(s3: S3Client, prefix: str = "") -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_each_write_is_one_object_under_the_prefix_in_write_order(
    s3: S3Client, bucket: str
) -> None:
    # Given an archive on s3://dlq-archive/exports/run-1
    archive = S3Archive(s3, "s3://dlq-archive/exports/run-1", stamp="20261201T203700Z-0a1b2c3d")
    # When three writes are made (and an empty one, which writes nothing)
    archive.write([record(1), record(2)])
    archive.write([])
    archive.write([record(3)])
    archive.write([record(4), record(5)])
    archive.close()
    # Then there are three objects, named by the run and the write's number
    assert keys(s3) == [
        "exports/run-1/20261201T203700Z-0a1b2c3d-00000001.jsonl",
        "exports/run-1/20261201T203700Z-0a1b2c3d-00000002.jsonl",
        "exports/run-1/20261201T203700Z-0a1b2c3d-00000003.jsonl",
    ]
    first = s3.get_object(Bucket=BUCKET, Key=keys(s3)[0])
    assert first["ContentType"] == "application/x-ndjson"
    assert first["Body"].read().decode() == "".join(
        r.to_json_line() + "\n" for r in (record(1), record(2))
    )
    assert archive.location == "s3://dlq-archive/exports/run-1/"


def test_objects_are_encrypted_by_the_bucket_default_not_by_the_writer(
    s3: S3Client, bucket: str
) -> None:
    # Given a bucket whose default encryption is SSE-S3
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    # When a record is archived
    S3Archive(s3, "s3://dlq-archive/d").write([record(1)])
    # Then the object carries the bucket's encryption
    assert s3.head_object(Bucket=BUCKET, Key=keys(s3)[0])["ServerSideEncryption"] == "AES256"


def test_two_runs_on_one_prefix_never_write_over_each_other(s3: S3Client, bucket: str) -> None:
    # Given two archives started on the same prefix in the same second
    first = S3Archive(s3, "s3://dlq-archive/p")
    second = S3Archive(s3, "s3://dlq-archive/p")
    # When each writes its first object
    first.write([record(1)])
    second.write([record(2)])
    # Then both objects are there
    assert len(keys(s3, "p/")) == 2


def test_concurrent_writes_each_get_their_own_object(s3: S3Client, bucket: str) -> None:
    # Given one archive shared by six threads, each writing five batches
    archive = S3Archive(s3, "s3://dlq-archive/c")

    def writer(t: int) -> None:
        for b in range(5):
            archive.write([record(t * 100 + b * 2), record(t * 100 + b * 2 + 1)])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every write is an object and every record reads back
    assert len(keys(s3, "c/")) == 30
    ids = sorted(r.message_id for r in S3Source(s3, "s3://dlq-archive/c").records())
    assert ids == sorted(f"id-{t * 100 + n}" for t in range(6) for n in range(10))


def test_a_missing_bucket_is_an_archive_write_error(s3: S3Client) -> None:
    # Given an archive on a bucket that does not exist
    archive = S3Archive(s3, "s3://no-such-bucket/discards")
    # When a write is made, it raises, saying the messages stay
    with pytest.raises(ArchiveWriteError, match="NoSuchBucket") as raised:
        archive.write([record(1)])
    assert "stay in the DLQ" in str(raised.value)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An HTTP endpoint that reads each request and closes the connection without answering:
    what a client sees when the answer is lost after the request arrived."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_a_lost_answer_is_an_archive_write_error(silent_endpoint: str, aws: object) -> None:
    # Given an S3 client whose requests arrive but are never answered
    client = boto3.client(
        "s3",
        endpoint_url=silent_endpoint,
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}, read_timeout=2),
    )
    # When a record is archived
    archive = S3Archive(client, "s3://dlq-archive/x")
    # Then the write is not confirmed: it raises
    with pytest.raises(ArchiveWriteError, match="was not confirmed"):
        archive.write([record(1)])


def test_the_source_reads_every_object_in_key_order_across_pages(s3: S3Client, bucket: str) -> None:
    # Given two runs' objects under a prefix, a foreign object, and a neighbouring prefix
    S3Archive(s3, "s3://dlq-archive/e", stamp="20261201T000000Z-aaaaaaaa").write(
        [record(1), record(2)]
    )
    later = S3Archive(s3, "s3://dlq-archive/e", stamp="20261202T000000Z-bbbbbbbb")
    for n in range(3, 8):
        later.write([record(n)])
    s3.put_object(Bucket=BUCKET, Key="e/README.txt", Body=b"not an archive")
    S3Archive(s3, "s3://dlq-archive/e2").write([record(99)])
    # When read with pages of two keys
    source = S3Source(s3, "s3://dlq-archive/e", page_size=2)
    # Then the records come back in the order they were written, only this prefix's
    assert [r.message_id for r in source.records()] == [f"id-{n}" for n in range(1, 8)]
    assert next(iter(source.records())) == record(1)
    assert source.location == "s3://dlq-archive/e/"


def test_the_source_streams_long_lines_in_small_chunks(s3: S3Client, bucket: str) -> None:
    # Given records longer than the read chunk, with line breaks of every kind in their bodies
    written = [record(n, body="x\n\r\u2028" * 50) for n in range(4)]
    S3Archive(s3, "s3://dlq-archive/long").write(written)
    # When read 7 bytes at a time
    source = S3Source(s3, "s3://dlq-archive/long", chunk_bytes=7)
    # Then every record comes back whole
    assert list(source.records()) == written


def test_a_bad_line_names_its_object_and_line(s3: S3Client, bucket: str) -> None:
    # Given an object whose second line is not a record
    body = record(1).to_json_line() + "\n" + '{"format": "other"}\n'
    s3.put_object(Bucket=BUCKET, Key="bad/x.jsonl", Body=body.encode())
    records = S3Source(s3, "s3://dlq-archive/bad").records()
    # When read: the first record, then an error naming the object and the line
    assert next(records) == record(1)
    with pytest.raises(ArchiveFormatError, match=r"s3://dlq-archive/bad/x\.jsonl, line 2"):
        next(records)


def test_an_empty_prefix_or_missing_bucket_is_said(s3: S3Client, bucket: str) -> None:
    # Given a prefix with nothing under it, and a bucket that does not exist
    # Then reading says there is no archive, or what AWS refused
    with pytest.raises(UsageError, match="there is no archive at s3://dlq-archive/none/"):
        list(S3Source(s3, "s3://dlq-archive/none").records())
    with pytest.raises(AwsError, match="NoSuchBucket"):
        list(S3Source(s3, "s3://no-such-bucket/x").records())


def test_a_location_that_is_not_s3_is_refused(s3: S3Client) -> None:
    with pytest.raises(UsageError, match="is not an s3://bucket/prefix"):
        S3Archive(s3, "/tmp/out.jsonl")


def test_the_composition_root_makes_its_s3_client_from_the_environment(bucket: str) -> None:
    # Given only AWS_ENDPOINT_URL pointing at the local server (no client injected)
    from bot.composition import archive_sink, archive_source

    # When an archive is written to and read from an s3:// location
    sink = archive_sink("s3://dlq-archive/composed")
    sink.write([record(1)])
    sink.close()
    # Then it went to that bucket and reads back
    assert isinstance(sink, S3Archive)
    assert list(archive_source("s3://dlq-archive/composed").records()) == [record(1)]


def test_a_bad_object_with_a_hostile_key_is_named_escaped(s3: S3Client, bucket: str) -> None:
    # Given an object under the prefix whose key would drive a terminal, holding a bad line
    s3.put_object(Bucket=BUCKET, Key="h/\x1b[2J.jsonl", Body=b"oops\n")
    # When read, the error names it with the escape shown, not acted on
    with pytest.raises(ArchiveFormatError) as raised:
        list(S3Source(s3, "s3://dlq-archive/h").records())
    assert "\x1b" not in str(raised.value)
    assert "s3://dlq-archive/h/\\x1b[2J.jsonl, line 1" in str(raised.value)
