"""Where an archive lives (issue 12): a local path or s3://bucket/prefix, and a clear refusal of
anything S3 or the file system would refuse later."""

from __future__ import annotations

import pytest

from bot.archive_location import (
    FileLocation,
    S3Location,
    parse_archive_location,
    s3_location,
)
from bot.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("out.jsonl", ("file", "out.jsonl")),
        ("/tmp/dir/out.jsonl", ("file", "/tmp/dir/out.jsonl")),
        ("./a:b.jsonl", ("file", "./a:b.jsonl")),
        ("s3://my-bucket", ("s3", "my-bucket", "")),
        ("s3://my-bucket/", ("s3", "my-bucket", "")),
        ("s3://my-bucket/exports", ("s3", "my-bucket", "exports/")),
        ("S3://my.bucket/exports/2026/", ("s3", "my.bucket", "exports/2026/")),
        ("s3://b12/a b/ü", ("s3", "b12", "a b/ü/")),
    ],
)
def test_a_location_is_a_file_or_a_bucket_and_prefix(text: str, expected: tuple) -> None:
    # When the text is parsed
    location = parse_archive_location(text)
    # Then it is the file or the bucket and prefix (a folder: it ends with /)
    assert location == expected
    assert isinstance(location, FileLocation if expected[0] == "file" else S3Location)


def test_an_s3_location_shows_as_its_url() -> None:
    assert parse_archive_location("s3://my-bucket/exports").url == "s3://my-bucket/exports/"
    assert s3_location("my-bucket", "discards/req-1").url == "s3://my-bucket/discards/req-1/"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("https://example.com/x.jsonl", "not https://"),
        ("gs://bucket/x", "not gs://"),
        ("s3://", "needs a bucket name"),
        ("s3:///prefix", "needs a bucket name"),
        ("s3://My-Bucket/x", "is not an S3 bucket name"),
        ("s3://ab/x", "is not an S3 bucket name"),
        ("s3://" + "a" * 64, "is not an S3 bucket name"),
        ("s3://-bucket", "is not an S3 bucket name"),
        ("s3://bucket-", "is not an S3 bucket name"),
        ("s3://my..bucket", "is not an S3 bucket name"),
        ("s3://192.168.5.4", "is not an S3 bucket name"),
        ("s3://under_score", "is not an S3 bucket name"),
        ("s3://xn--bucket", "is not an S3 bucket name"),
        ("s3://bucket/a\x1b[2Jb", "holds control characters"),
        ("s3://bucket/" + "p" * 961, "longer than 960 bytes"),
    ],
)
def test_a_location_s3_or_the_disk_would_refuse_is_refused_now(text: str, says: str) -> None:
    # When it is parsed
    with pytest.raises(UsageError) as raised:
        parse_archive_location(text)
    # Then the answer says what is wrong, with no control character shown raw
    assert says in str(raised.value)
    assert "\x1b" not in str(raised.value)
