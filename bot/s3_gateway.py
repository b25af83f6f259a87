"""The one module that calls S3: archives written as objects (``S3Archive``) and read back
(``S3Source``).

Each ``write`` is one PutObject of its records as JSON Lines, at ``prefix/<run stamp>-<seq>.jsonl``:
the run stamp (UTC time and a random token) keeps two runs on one prefix apart, and the sequence
number keeps a run's objects in the order written when listed (S3 lists keys in UTF-8 order). A
write is durable when S3 answered the PutObject (200): anything else, a lost answer included, is
an ArchiveWriteError, so the messages it held stay in the DLQ. Retrying a PutObject is safe (the
same key, the same bytes), so the client's own retries are left on. Encryption is the bucket's
default (SSE-S3 or the KMS key its owner chose); no header here overrides it.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.archive_location import S3Location, parse_archive_location
from bot.archive_model import ArchiveRecord, ArchiveWriteError, parse_lines
from bot.aws_errors import describe_client_error
from bot.errors import AwsError, UsageError
from bot.printable import visible

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPE = "application/x-ndjson"
SUFFIX = ".jsonl"
_CHUNK_BYTES = 64 * 1024
_T = TypeVar("_T")


def default_s3_client() -> S3Client:
    """An S3 client from the default session (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``
    point it at a local server), with standard retries: a PutObject retried puts the same bytes
    at the same key, so a retry can never make a second copy."""
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60
    )
    return boto3.client("s3", config=config)


def _s3_location(location: str | S3Location) -> S3Location:
    parsed = parse_archive_location(location) if isinstance(location, str) else location
    if not isinstance(parsed, S3Location):
        raise UsageError(f"{location!r} is not an s3://bucket/prefix location")
    return parsed


def run_stamp(now: datetime | None = None) -> str:
    """A run's part of its object names: UTC time to the second, and 8 random hex digits."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


class S3Archive:
    """An ``ArchiveSink`` on S3: one object per ``write``, durable when it returns."""

    def __init__(
        self, client: S3Client, location: str | S3Location, *, stamp: str | None = None
    ) -> None:
        self._client = client
        self._where = _s3_location(location)
        self.location = self._where.url
        self._stamp = stamp or run_stamp()
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()  # the engine's workers write at the same time

    def _next_key(self) -> str:
        with self._lock:
            number = next(self._sequence)
        return f"{self._where.prefix}{self._stamp}-{number:08d}{SUFFIX}"

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        """Put ``records`` as one object; return once S3 stored it, else ArchiveWriteError."""
        if not records:
            return
        body = "".join(record.to_json_line() + "\n" for record in records).encode("ascii")
        key = self._next_key()
        try:
            self._client.put_object(
                Bucket=self._where.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE
            )
        except (ClientError, BotoCoreError) as exc:
            code, message = describe_client_error(exc)
            # A lost answer (a reset, a timeout) may follow a put S3 carried out: the object
            # is then there with records of messages that stay in the DLQ. Said, so a human can
            # remove it before an import of the prefix sends them a second time (no role of
            # this app may delete objects).
            maybe = "; S3 may have stored it all the same" if _outcome_unknown(exc) else ""
            raise ArchiveWriteError(
                f"the archive write to s3://{self._where.bucket}/{key} was not confirmed "
                f"({code}: {message}{maybe}): its messages stay in the DLQ"
            ) from exc

    def close(self) -> None:
        """Nothing to release: every write was a whole object."""


class S3Source:
    """An ``ArchiveSource`` on S3: every ``.jsonl`` object under the prefix, in key order, each
    streamed line by line (memory holds one chunk and one line, not an object)."""

    def __init__(
        self,
        client: S3Client,
        location: str | S3Location,
        *,
        chunk_bytes: int = _CHUNK_BYTES,
        page_size: int = 1000,
    ) -> None:
        self._client = client
        self._where = _s3_location(location)
        self.location = self._where.url
        self._chunk_bytes = chunk_bytes
        self._page_size = page_size  # ListObjectsV2's MaxKeys (1,000 at most)

    def keys(self) -> Iterator[str]:
        """The archive's object keys, in S3's (key) order, page after page."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._where.bucket,
            Prefix=self._where.prefix,
            PaginationConfig={"PageSize": self._page_size},
        )
        found = False
        for page in self._calling(f"listing {self.location}", pages):
            for item in page.get("Contents", []):
                if item["Key"].endswith(SUFFIX):
                    found = True
                    yield item["Key"]
        if not found:
            raise UsageError(
                f"there is no archive at {self.location}: no {SUFFIX} object under it "
                "(an export of no message writes none)"
            )

    def records(self) -> Iterator[ArchiveRecord]:
        for key in self.keys():
            # Any key under the prefix is read, whoever wrote it: shown escaped in errors.
            where = visible(f"s3://{self._where.bucket}/{key}")
            doing = f"reading {where}"
            try:
                body = self._client.get_object(Bucket=self._where.bucket, Key=key)["Body"]
            except (ClientError, BotoCoreError) as exc:
                raise _read_error(doing, exc) from exc
            with body:
                chunks = self._calling(doing, body.iter_chunks(self._chunk_bytes))
                yield from parse_lines(split_lines(chunks), location=where)

    @staticmethod
    def _calling(doing: str, items: Iterable[_T]) -> Iterator[_T]:
        """``items``, with an S3 failure while iterating (a page, a chunk) said as AwsError."""
        iterator = iter(items)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except (ClientError, BotoCoreError) as exc:
                raise _read_error(doing, exc) from exc
            yield item


def _outcome_unknown(exc: ClientError | BotoCoreError) -> bool:
    """Whether S3 may have carried out the call that raised ``exc``: no answer came (a reset, a
    timeout), or a 5xx ("the request may or may not have been processed")."""
    if isinstance(exc, BotoCoreError):
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return int(status) >= 500


def _read_error(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    code, message = describe_client_error(exc)
    return AwsError(f"AWS refused {doing}: {code}: {message}", code=code)


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The ``\\n``-separated lines of a byte stream, each joined once from its pieces (a long
    line costs its own size, not its size times its chunks)."""
    pending: list[bytes] = []
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending.append(chunk[start:end])
            yield b"".join(pending)
            pending = []
            start = end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield b"".join(pending)
