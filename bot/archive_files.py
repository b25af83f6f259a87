"""Archives in a local JSON Lines file: written durably (``JsonlFileSink``), read back as a
stream (``JsonlFileSource``).

A discard deletes a message once ``write`` returned, so ``write`` returns only after the bytes
reached the disk: written with ``os.write`` (no buffer of ours left to flush), then ``os.fsync``.
The file's directory entry is synced too when the sink created the file, or a crash could lose the
whole file with everything in it. A write that fails part-way (disk full, file too large) is cut
back to the last whole record, and the sink refuses every later write: the archive never holds
half a line, and a record not confirmed is never reported written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bot.archive_model import ArchiveRecord, ArchiveWriteError, parse_lines
from bot.errors import UsageError
from bot.printable import visible

_NOT_A_FILE = (
    "{shown} is a pipe, socket or terminal, or a device: an archive must be a file that can be "
    "synced to disk"
)


def _why(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)


class JsonlFileSink:
    """Appends records to a ``.jsonl`` file, one line each; durable when ``write`` returns.

    A file that exists and is not empty is refused (an export never mixes with an older one)
    unless ``append`` is asked. Thread-safe: one write (and its fsync) at a time.
    """

    def __init__(
        self, path: str | Path, *, append: bool = False, sync: Callable[[int], None] = os.fsync
    ) -> None:
        self.location = os.path.abspath(path)
        self._shown = visible(self.location)  # in error messages: a path may hold anything
        self._sync = sync  # os.fsync; a test passes one that checks what reached the file
        self._lock = threading.Lock()
        self._failed: str | None = None
        shown = visible(str(path))
        created = False
        # O_NONBLOCK: a named pipe nobody reads would block open(2) for ever; refused below.
        flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK
        try:
            if append:
                fd = os.open(path, flags | os.O_CREAT, 0o600)
            else:
                try:
                    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
                    created = True
                except FileExistsError:
                    fd = os.open(path, flags)
        except IsADirectoryError as exc:
            raise UsageError(f"{shown} is a directory: give a file name for the archive") from exc
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # a named pipe with no reader (open(2), ENXIO)
                raise UsageError(_NOT_A_FILE.format(shown=shown)) from exc
            raise UsageError(f"cannot open {shown} for the archive: {_why(exc)}") from exc
        self._fd: int | None = fd
        status = os.fstat(fd)
        self._size = status.st_size
        if not stat.S_ISREG(status.st_mode):
            # Nothing written there can be synced to disk: a discard would delete messages
            # whose only copy went down a pipe (--out /dev/stdout | jq) or into a device
            # (/dev/null takes every write; its fsync fails only after the scan began).
            self.close()
            raise UsageError(_NOT_A_FILE.format(shown=shown))
        os.set_blocking(fd, True)
        try:
            # One writer per archive file: two runs appending to one file would each cut a
            # failed write back to the size it knew, erasing the other's confirmed records.
            # (flock(2) is advisory: it keeps dlq-redrive runs apart, which is what is needed.)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.close()
            raise UsageError(
                f"{shown} is in use: another run is writing it; choose another file"
            ) from exc
        self._size = os.fstat(fd).st_size  # what is there now that no one else writes
        if self._size and not append:
            self.close()
            raise UsageError(
                f"{shown} already holds data: choose a new file (the archive is never written over)"
            )
        if created:
            self._sync_directory()

    def _sync_directory(self) -> None:
        """Make the new file's name durable too (its directory entry)."""
        directory = os.open(os.path.dirname(self.location), os.O_RDONLY)
        try:
            self._sync(directory)
        except OSError as exc:
            raise ArchiveWriteError(f"cannot sync the archive's directory: {_why(exc)}") from exc
        finally:
            os.close(directory)

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        """Append ``records``; return once they are on disk, else raise ArchiveWriteError."""
        if not records:
            return
        data = "".join(record.to_json_line() + "\n" for record in records).encode("ascii")
        with self._lock:
            if self._failed is not None:
                raise ArchiveWriteError(f"{self._shown}: not written, {self._failed}")
            if self._fd is None:
                raise ArchiveWriteError(f"{self._shown}: not written, the archive is closed")
            try:
                view = memoryview(data)
                while view:  # os.write may write less than it was given
                    view = view[os.write(self._fd, view) :]
                self._sync(self._fd)
            except OSError as exc:
                self._failed = f"an earlier write failed ({_why(exc)})"
                self._cut_back()
                raise ArchiveWriteError(
                    f"writing the archive {self._shown} failed: {_why(exc)}"
                ) from exc
            self._size += len(data)

    def _cut_back(self) -> None:
        """Remove a failed write's partial line (best effort: the sink is closed for writes
        either way, and a reader names the bad line if it is still there)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, self._size)
            self._sync(self._fd)
        except OSError:
            pass  # the write's own error is the one reported

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> JsonlFileSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class JsonlFileSource:
    """The records of a ``.jsonl`` archive, read line by line (memory does not grow with it)."""

    def __init__(self, path: str | Path) -> None:
        self.location = os.path.abspath(path)
        shown = visible(str(path))
        if os.path.isdir(path):
            raise UsageError(f"{shown} is a directory, not an archive file")
        if not os.path.exists(path):
            raise UsageError(f"there is no archive at {shown}")
        self._path = path

    def records(self) -> Iterator[ArchiveRecord]:
        try:
            with open(self._path, "rb") as lines:  # bytes: a bad line is named by its number
                yield from parse_lines(lines, location=visible(self.location))
        except OSError as exc:
            shown = visible(self.location)
            raise UsageError(f"cannot read the archive {shown}: {_why(exc)}") from exc
