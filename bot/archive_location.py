"""Where an archive lives, from the text a user gave (``--out``, ``--archive``, ``import PATH``):
a local file, or ``s3://bucket/prefix``. Pure: nothing is opened or asked here; the sinks and
sources (``bot.archive_files``, ``bot.s3_gateway``) do that, and ``bot.composition`` picks one.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from bot.errors import UsageError
from bot.printable import visible

# "Bucket names must be between 3 and 63 characters long", "can consist only of lowercase
# letters, numbers, periods (.), and hyphens (-)", "must begin and end with a letter or number",
# "must not contain two adjacent periods", "must not be formatted as an IP address" (Amazon S3
# User Guide, "General purpose bucket naming rules").
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# "The object key name is a sequence of Unicode characters with UTF-8 encoding of up to 1,024
# bytes long" (S3 User Guide, "Naming objects"); the sink adds its object names (about 40 bytes).
MAX_PREFIX_BYTES = 960


class FileLocation(NamedTuple):
    """A local JSON Lines file."""

    kind: Literal["file"]
    path: str


class S3Location(NamedTuple):
    """Objects under a prefix of a bucket; ``prefix`` is empty or ends with ``/``."""

    kind: Literal["s3"]
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        """How the location is shown: ``s3://bucket/prefix/``."""
        return f"s3://{self.bucket}/{self.prefix}"


ArchiveLocation = FileLocation | S3Location


def parse_archive_location(text: str) -> ArchiveLocation:
    """``("file", path)`` or ``("s3", bucket, prefix)``; a UsageError saying what is wrong with
    anything else (another scheme, a bucket name S3 would refuse, an empty path)."""
    if not text.strip():
        raise UsageError("the archive location is empty: give a .jsonl file or s3://bucket/prefix")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return FileLocation("file", text)
    if scheme.group(1).lower() != "s3":
        raise UsageError(
            f"{visible(text)!r}: an archive is a local file or s3://bucket/prefix, "
            f"not {visible(scheme.group(1))}://"
        )
    bucket, _, prefix = text[scheme.end() :].partition("/")
    return s3_location(bucket, prefix)


def s3_location(bucket: str, prefix: str = "") -> S3Location:
    """The location of ``prefix`` in ``bucket`` (the prefix given a trailing ``/``, so objects
    go under it as into a folder), checked as S3 would check it."""
    if not bucket:
        raise UsageError("s3:// needs a bucket name: s3://bucket/prefix")
    if (
        not _BUCKET.fullmatch(bucket)
        or ".." in bucket
        or _IP_ADDRESS.fullmatch(bucket)
        or bucket.startswith("xn--")
    ):
        raise UsageError(
            f"{visible(bucket)!r} is not an S3 bucket name (3 to 63 lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit)"
        )
    if not prefix.isprintable():
        raise UsageError(f"the S3 prefix {visible(prefix)!r} holds control characters")
    if len(prefix.encode("utf-8", "surrogatepass")) > MAX_PREFIX_BYTES:
        raise UsageError(f"the S3 prefix is longer than {MAX_PREFIX_BYTES} bytes")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Location("s3", bucket, prefix)
