"""Wiring archives (issue 12): ARCHIVE_BUCKET is read and checked once, and the composition root
picks a file or an S3 archive from the location, making an S3 client only for S3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.archive_files import JsonlFileSink, JsonlFileSource
from bot.archive_model import ArchiveRecord
from bot.composition import archive_sink, archive_source
from bot.config import EngineSettings
from bot.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_archive_bucket_is_read_from_the_environment() -> None:
    assert EngineSettings.from_env({"ARCHIVE_BUCKET": " dlq-archive-123 "}).archive_bucket == (
        "dlq-archive-123"
    )
    assert EngineSettings.from_env({}).archive_bucket is None


@pytest.mark.parametrize("value", ["Dlq_Archive", "s3://dlq-archive", "ab"])
def test_an_archive_bucket_s3_would_refuse_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"ARCHIVE_BUCKET: .* is not an S3 bucket name"):
        EngineSettings.from_env({"ARCHIVE_BUCKET": value})


def test_a_file_location_gets_the_file_sink_and_source(tmp_path: Path) -> None:
    # Given a local path
    path = tmp_path / "out.jsonl"
    # When a sink and then a source are made for it
    sink = archive_sink(str(path))
    sink.write([ArchiveRecord("id-1", "b", {}, {}, "d", None)])
    sink.close()
    source = archive_source(str(path))
    # Then they are the file's, and read back what was written
    assert isinstance(sink, JsonlFileSink) and isinstance(source, JsonlFileSource)
    assert [r.message_id for r in source.records()] == ["id-1"]
    # and appending is passed on
    again = archive_sink(str(path), append=True)
    again.write([ArchiveRecord("id-2", "b", {}, {}, "d", None)])
    again.close()
    assert [r.message_id for r in archive_source(str(path)).records()] == ["id-1", "id-2"]


def test_a_bad_location_is_refused_before_anything_is_made() -> None:
    with pytest.raises(UsageError, match="not https://"):
        archive_sink("https://example.com/out.jsonl")
    with pytest.raises(UsageError, match="is not an S3 bucket name"):
        archive_source("s3://Bad_Bucket/x")


def test_a_file_archive_never_loads_the_aws_sdk(tmp_path: Path) -> None:
    # Given an interpreter in which importing boto3 or botocore fails
    script = f"""
import importlib.abc, sys
class RefuseAwsSdk(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ImportError(name)
sys.meta_path.insert(0, RefuseAwsSdk())
sys.path.insert(0, {str(ROOT)!r})
from bot.archive_model import ArchiveRecord
from bot.composition import archive_sink, archive_source
sink = archive_sink({str(tmp_path / "x.jsonl")!r})
sink.write([ArchiveRecord("id-1", "b", {{}}, {{}}, "d", None)])
sink.close()
print([r.message_id for r in archive_source({str(tmp_path / "x.jsonl")!r}).records()])
"""
    # When a file archive is written and read there
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    # Then it works: the S3 gateway (and boto3) is loaded only for an S3 location
    assert done.stdout.strip() == "['id-1']", done.stderr
