"""The local archive file (issue 12): a write returns only once its records are on disk, a
failed write says so and leaves whole records only, an existing archive is never written over,
and reading back streams the records with bad lines named by number."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.archive_files import JsonlFileSink, JsonlFileSource
from bot.archive_model import ArchiveFormatError, ArchiveRecord, ArchiveWriteError
from bot.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def record(n: int, body: str = "body") -> ArchiveRecord:
    return ArchiveRecord(
        f"id-{n}",
        f"{body} {n}",
        {"b": {"DataType": "Binary", "BinaryValue": bytes([n % 256])}},
        {"SentTimestamp": "1764547200000"},
        "orders-dlq",
        None,
    )


def test_write_returns_only_after_the_records_were_fsynced(tmp_path: Path) -> None:
    # Given a sink whose fsync notes what the file held when it was called
    path = tmp_path / "out.jsonl"
    synced: list[bytes] = []

    def sync(fd: int) -> None:
        os.fsync(fd)
        if os.path.exists(path) and fd != -1:
            synced.append(path.read_bytes())

    sink = JsonlFileSink(path, sync=sync)
    synced.clear()  # the directory's sync when the file was created
    # When two records are written
    sink.write([record(1), record(2)])
    # Then fsync ran once, before write returned, with both whole lines already in the file
    expected = (record(1).to_json_line() + "\n" + record(2).to_json_line() + "\n").encode()
    assert synced == [expected]
    sink.close()


def test_a_new_file_has_its_directory_synced_too(tmp_path: Path) -> None:
    # Given a sink's fsync that notes what it synced
    synced: list[str] = []

    def sync(fd: int) -> None:
        synced.append("directory" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        os.fsync(fd)

    # When it creates its file
    JsonlFileSink(tmp_path / "new.jsonl", sync=sync).close()
    # Then the directory entry was made durable
    assert synced == ["directory"]


def test_records_read_back_in_order_and_exactly(tmp_path: Path) -> None:
    # Given 25 records written in three writes, bodies with line breaks of every kind
    path = tmp_path / "out.jsonl"
    written = [record(n, body="line\nbreak\u2028para\r") for n in range(25)]
    with JsonlFileSink(path) as sink:
        sink.write(written[:10])
        sink.write(written[10:20])
        sink.write(written[20:])
    # When read back
    source = JsonlFileSource(path)
    # Then the same records come back, one line each, in the order written
    assert list(source.records()) == written
    assert len(path.read_bytes().splitlines()) == 25
    assert source.location == str(path)


def test_a_full_disk_raises_archive_write_error_and_refuses_later_writes(tmp_path: Path) -> None:
    # Given a sink on a disk that is full when the data is flushed (ENOSPC from fsync, as a
    # file system with delayed allocation answers; /dev/full is a device, refused at open)
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "out.jsonl").touch()  # made empty beforehand: no directory sync at open
    sink = JsonlFileSink(tmp_path / "out.jsonl", sync=disk_full)
    # When records are written
    with pytest.raises(ArchiveWriteError, match="No space left on device"):
        sink.write([record(1)])
    # Then a later write is refused too (nothing is reported written after a failure)
    with pytest.raises(ArchiveWriteError, match="an earlier write failed"):
        sink.write([record(2)])
    sink.close()
    assert (tmp_path / "out.jsonl").read_bytes() == b""  # cut back: no unconfirmed record


def test_a_device_is_refused_as_an_archive() -> None:
    # /dev/null takes every write (its fsync fails only later), /dev/full none: neither is a
    # file whose records are on disk when write returns
    for device in ("/dev/null", "/dev/full"):
        with pytest.raises(UsageError, match="a device: an archive must be a file"):
            JsonlFileSink(device)


def test_a_write_that_fails_part_way_leaves_whole_records_only(tmp_path: Path) -> None:
    # Given a process whose files may not grow past 1,000 bytes (RLIMIT_FSIZE: the write that
    # crosses it is cut short, the next fails with EFBIG, as on a disk that fills mid-write)
    path = tmp_path / "out.jsonl"
    script = f"""
import resource, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from bot.archive_files import JsonlFileSink
from bot.archive_model import ArchiveRecord, ArchiveWriteError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
sink = JsonlFileSink({str(path)!r})
sink.write([ArchiveRecord("id-1", "x" * 300, {{}}, {{}}, "d", None)])
try:
    sink.write([ArchiveRecord(f"id-{{n}}", "y" * 300, {{}}, {{}}, "d", None) for n in (2, 3)])
except ArchiveWriteError as exc:
    print("refused:", exc)
"""
    # When a first record fits and a second write of two records does not
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    # Then the second write raised, and the file holds exactly the first record
    assert "refused: writing the archive" in done.stdout, done.stderr
    assert [r.message_id for r in JsonlFileSource(path).records()] == ["id-1"]


def test_a_write_after_close_raises(tmp_path: Path) -> None:
    # Given a closed sink
    sink = JsonlFileSink(tmp_path / "out.jsonl")
    sink.close()
    # Then a write is refused, not lost silently
    with pytest.raises(ArchiveWriteError, match="closed"):
        sink.write([record(1)])


def test_an_existing_archive_is_never_written_over(tmp_path: Path) -> None:
    # Given a file that already holds an export
    path = tmp_path / "out.jsonl"
    path.write_text(record(1).to_json_line() + "\n")
    # When a new sink is opened on it
    with pytest.raises(UsageError, match="already holds data"):
        JsonlFileSink(path)
    # Then the file is untouched
    assert path.read_text() == record(1).to_json_line() + "\n"


def test_appending_is_allowed_when_asked_and_an_empty_file_is_taken(tmp_path: Path) -> None:
    # Given an archive with one record, and an empty file (as mktemp makes)
    path = tmp_path / "out.jsonl"
    path.write_text(record(1).to_json_line() + "\n")
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    # When records are appended to the first and written to the second
    with JsonlFileSink(path, append=True) as sink:
        sink.write([record(2)])
    with JsonlFileSink(empty) as sink:
        sink.write([record(3)])
    # Then both hold whole records
    assert [r.message_id for r in JsonlFileSource(path).records()] == ["id-1", "id-2"]
    assert [r.message_id for r in JsonlFileSource(empty).records()] == ["id-3"]


def test_a_directory_or_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    # Given a directory, and a file in a directory that does not exist
    # Then each is refused before anything is written, saying why
    with pytest.raises(UsageError, match="is a directory"):
        JsonlFileSink(tmp_path)
    with pytest.raises(UsageError, match="No such file or directory"):
        JsonlFileSink(tmp_path / "missing" / "out.jsonl")


def test_concurrent_writes_never_interleave_lines(tmp_path: Path) -> None:
    # Given one sink shared by eight threads, each writing 50 batches of 3 records
    path = tmp_path / "out.jsonl"
    sink = JsonlFileSink(path)

    def writer(t: int) -> None:
        for b in range(50):
            sink.write([record(t * 1000 + b * 3 + i, body="z" * 500) for i in range(3)])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    # Then every record reads back whole, each batch's three together
    ids = [int(r.message_id[3:]) for r in JsonlFileSource(path).records()]
    assert sorted(ids) == sorted(t * 1000 + n for t in range(8) for n in range(150))
    assert all(ids[i + 1] == ids[i] + 1 == ids[i + 2] - 1 for i in range(0, len(ids), 3))


def test_reading_names_the_bad_line_and_skips_blank_ones(tmp_path: Path) -> None:
    # Given an archive edited by hand: a BOM, CRLF line ends, a blank line, then a broken line
    path = tmp_path / "in.jsonl"
    good = record(1).to_json_line()
    path.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\r\n\r\n" + good.encode() + b"\r\n{oops\n")
    # When it is read
    records = JsonlFileSource(path).records()
    # Then the good records come first, then the error naming line 4
    assert next(records) == record(1)
    assert next(records) == record(1)
    with pytest.raises(ArchiveFormatError, match=r"in\.jsonl, line 4: not JSON"):
        next(records)


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    # Given an archive whose second line holds a byte that is not UTF-8
    path = tmp_path / "in.jsonl"
    path.write_bytes(record(1).to_json_line().encode() + b"\n\xff\xfe\n")
    # Then reading says which line
    with pytest.raises(ArchiveFormatError, match="line 2: not UTF-8"):
        list(JsonlFileSource(path).records())


def test_a_missing_archive_or_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="there is no archive at"):
        JsonlFileSource(tmp_path / "nope.jsonl")
    with pytest.raises(UsageError, match="is a directory"):
        JsonlFileSource(tmp_path)


def test_a_path_with_control_characters_is_shown_escaped(tmp_path: Path) -> None:
    # Given a path whose name would drive a terminal
    path = tmp_path / "evil\x1b[2J.jsonl"
    # When it is refused
    with pytest.raises(UsageError) as raised:
        JsonlFileSource(path)
    # Then the message shows the escape, not the character
    assert "\x1b" not in str(raised.value)
    assert "\\x1b[2J" in str(raised.value)


def test_a_pipe_is_refused_as_an_archive() -> None:
    # Given the write end of a pipe (as --out /dev/stdout | jq would give)
    read_end, write_end = os.pipe()
    try:
        # When a sink is opened on it, it is refused: nothing there can be synced to disk
        with pytest.raises(UsageError, match="is a pipe, socket or terminal"):
            JsonlFileSink(f"/proc/self/fd/{write_end}")
    finally:
        os.close(read_end)
        os.close(write_end)
