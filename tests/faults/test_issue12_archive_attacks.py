"""Attacks on issue 12's first promise: "a discard deletes each message only after its archive
record is durably written", as an unlucky operator meets it: two discards into one archive file,
an archive path that is a named pipe or a device, an archive that fails on its Nth write, and
Ctrl-C / SIGTERM in the middle of a discard (a real process against moto's server).

After every attack the same books must balance: the messages the archive holds are exactly the
ones gone from the DLQ, every other message is still in the DLQ (visible again), and the summary's
figures are those counts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.archive_files import JsonlFileSink
from bot.archive_model import ArchiveRecord, ArchiveWriteError
from bot.errors import UsageError
from infra.local.moto_server import LocalAws
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.faults.cli_process import start_cli
from tests.faults.fault_proxy import Fault, FaultProxy
from tests.faults.helpers import dlq_snapshot, redrive
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]


def archived_ids(path: Path) -> list[str]:
    return [json.loads(line)["message_id"] for line in path.read_text("ascii").splitlines()]


def assert_books_balance(before: dict[str, str], archive: list[str], left: dict[str, str]) -> None:
    """What left the DLQ is exactly what the archive holds (once each), the rest is unchanged."""
    assert len(archive) == len(set(archive)), "a message archived twice"
    gone = set(before) - set(left)
    assert set(archive) == gone, (
        f"deleted without a record: {sorted(gone - set(archive))[:3]}; "
        f"archived but still in the DLQ: {sorted(set(archive) - gone)[:3]}"
    )
    assert all(before[m] == body for m, body in left.items())


# --- two discards, one archive file -----------------------------------------------------------


def test_a_second_sink_on_an_archive_in_use_is_refused(tmp_path: Path) -> None:
    # Given a discard writing its archive (its file created, nothing written yet)
    path = tmp_path / "discarded.jsonl"
    first = JsonlFileSink(path)
    try:
        # When a second run opens the same file, it is refused before it could write there
        with pytest.raises(UsageError, match="another run is writing it"):
            JsonlFileSink(path)
        with pytest.raises(UsageError, match="another run is writing it"):
            JsonlFileSink(path, append=True)
        # Then the first run's records are its own, and once it is closed the file can be
        # appended to again
        first.write([ArchiveRecord("m1", "one")])
    finally:
        first.close()
    with JsonlFileSink(path, append=True) as later:
        later.write([ArchiveRecord("m2", "two")])
    assert archived_ids(path) == ["m1", "m2"]


def test_a_failed_write_never_cuts_back_records_another_writer_made_durable(
    tmp_path: Path,
) -> None:
    # Given a first sink on an archive and a second one opened on the same file before the
    # first wrote anything (if one can be opened at all)
    path = tmp_path / "shared.jsonl"

    def failing_sync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    with JsonlFileSink(path) as first:
        try:
            second: JsonlFileSink | None = JsonlFileSink(path, sync=failing_sync)
        except UsageError:
            second = None
        # When the first writes a record and has it confirmed (its message is deleted from the
        # DLQ by now), and then the second's write fails
        first.write([ArchiveRecord("kept", "confirmed")])
        if second is not None:
            with second, pytest.raises(ArchiveWriteError):
                second.write([ArchiveRecord("lost", "never confirmed")])
    # Then the first sink's confirmed record is still there
    assert "kept" in archived_ids(path)


def test_two_cli_discards_into_one_archive_the_second_touches_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a DLQ of 12 and a discard already writing /archive.jsonl (its sink open)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(12)])
    path = tmp_path / "archive.jsonl"
    with JsonlFileSink(path):
        # When a second discard names the same archive
        recorder = CallRecorder()
        result = run_cli(
            ["discard", "orders-dlq", "--archive", str(path)], engine_env, recorder.gateway
        )
    # Then it is refused with one line, exit 2, before it received a single message
    assert result.code == 2, (result.out, result.err)
    assert "another run is writing it" in result.err
    assert not recorder.touched_messages()
    assert len(dlq_snapshot(sqs, orders.dlq_url)) == 12


# --- archive paths that are not files -----------------------------------------------------------


def test_a_named_pipe_with_no_reader_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    # Given a named pipe (mkfifo) nobody reads, where the operator meant a file
    fifo = tmp_path / "archive.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def open_sink() -> None:
        try:
            JsonlFileSink(fifo).close()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - what it raised is the finding
            outcome.append(exc)

    # When a sink is opened on it
    opener = threading.Thread(target=open_sink, daemon=True)
    opener.start()
    opener.join(timeout=5)
    if opener.is_alive():  # blocked in open(2): unblock it with a reader before failing
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        opener.join(timeout=5)
        pytest.fail("opening a named pipe as the archive blocked until a reader came")
    # Then it is refused at once: nothing written there can be synced to disk
    assert isinstance(outcome[0], UsageError), outcome
    assert "pipe" in str(outcome[0])


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_a_device_as_the_archive_is_refused_before_any_message_is_touched(
    sqs: SQSClient, engine_env: dict, tmp_path: Path, device: str
) -> None:
    # Given a DLQ of 5 and an archive path that is a device, named through a symlink
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(5)])
    link = tmp_path / "archive.jsonl"
    link.symlink_to(device)
    # When it is discarded there
    recorder = CallRecorder()
    result = run_cli(
        ["discard", "orders-dlq", "--archive", str(link)], engine_env, recorder.gateway
    )
    # Then it is refused (exit 2, one line saying why) before anything was received
    assert result.code == 2, (result.out, result.err)
    assert "synced to disk" in result.err
    assert not recorder.touched_messages()
    assert len(dlq_snapshot(sqs, orders.dlq_url)) == 5


def test_a_symlink_to_an_existing_file_is_never_written_over(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given an archive path that is a symlink to a file holding something else
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["order 1"])
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me\n")
    link = tmp_path / "archive.jsonl"
    link.symlink_to(precious)
    # When a discard names it
    result = run_cli(["discard", "orders-dlq", "--archive", str(link)], engine_env)
    # Then it is refused, the file is as it was and the message is still in the DLQ
    assert result.code == 2 and "already holds data" in result.err
    assert precious.read_text() == "keep me\n"
    assert len(dlq_snapshot(sqs, orders.dlq_url)) == 1


# --- an archive that fails part-way ------------------------------------------------------------


class FailsOnWrite:
    """A file archive whose Nth write fails at its fsync (the disk went bad under it)."""

    def __init__(self, path: Path, fail_on: int) -> None:
        self.fail_on = fail_on
        self.writes = 0
        self.lock = threading.Lock()
        self._failing = threading.local()
        self.sink = JsonlFileSink(path, sync=self._sync)
        self.location = self.sink.location

    def _sync(self, fd: int) -> None:
        if getattr(self._failing, "now", False):
            raise OSError(28, "No space left on device")
        os.fsync(fd)

    def write(self, records: Sequence[ArchiveRecord]) -> None:
        with self.lock:
            self.writes += 1
            self._failing.now = self.writes == self.fail_on
        try:
            self.sink.write(records)
        finally:
            self._failing.now = False

    def close(self) -> None:
        self.sink.close()


@pytest.mark.parametrize("workers", [1, 4])
def test_an_archive_failing_on_its_third_write_deletes_exactly_what_it_holds(
    sqs: SQSClient, tmp_path: Path, workers: int
) -> None:
    # Given 60 messages and an archive whose third write fails (and every one after it)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(60)])
    before = dlq_snapshot(sqs, orders.dlq_url)
    path = tmp_path / "archive.jsonl"
    sink = FailsOnWrite(path, fail_on=3)
    # When they are discarded into it
    from bot.redrive_model import Action

    try:
        report = redrive(None, "orders-dlq", action=Action.DISCARD, archive=sink, workers=workers)
    finally:
        sink.close()
    # Then the run stopped with the archive's error, and the books balance: the DLQ lost exactly
    # the messages the archive holds, and the report's figures are those counts
    assert report.went_wrong
    assert "refused a write" in (report.error or "")
    archive = archived_ids(path)
    left = dlq_snapshot(sqs, orders.dlq_url)
    assert_books_balance(before, archive, left)
    assert report.moved == report.archived == len(archive) == 60 - len(left)
    assert report.failed >= 1
    assert report.failure_reasons["ArchiveWriteError"] == report.failed
    # ... and nothing the run touched is left hidden
    attrs = sqs.get_queue_attributes(
        QueueUrl=orders.dlq_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


# --- Ctrl-C and SIGTERM in the middle of a discard ------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "times"),
    [(signal.SIGINT, 1), (signal.SIGINT, 2), (signal.SIGTERM, 1)],
    ids=["ctrl-c", "ctrl-c-twice", "sigterm"],
)
def test_a_signal_mid_discard_leaves_the_archive_and_the_dlq_in_balance(
    aws: LocalAws, sqs: SQSClient, tmp_path: Path, signum: signal.Signals, times: int
) -> None:
    # Given 80 dead-lettered messages discarded at 10 msg/s on 2 workers into a file archive, each
    # delete's answer held back 1 s (so a batch is in hand, archived and not yet deleted)
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"order": n}) for n in range(80)]
    put_in_dlq(sqs, orders, bodies)
    before = dlq_snapshot(sqs, orders.dlq_url)
    path = tmp_path / "archive.jsonl"

    def slow_deletes(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "DeleteMessageBatch" else Fault.PASS

    command = [sys.executable, "-m", "bot.cli", "discard", "orders-dlq", "--archive", str(path)]
    options = ["--rate", "10", "--workers", "2"]
    with FaultProxy(aws.endpoint, slow_deletes, slow_answer_s=1.0) as proxy:
        process = start_cli(command + options, aws, AWS_ENDPOINT_URL_SQS=proxy.endpoint)
        # When the signal comes once the first records are in the archive
        try:
            give_up = time.monotonic() + 60
            while not path.exists() or not path.read_bytes():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < give_up, "the discard never got going"
                time.sleep(0.05)
            for _ in range(times):
                process.send_signal(signum)
                time.sleep(0.3)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    # Then it stopped early (exit 3), saying so, with its summary
    assert process.returncode == 3, (out, err)
    assert signum.name in err and "interrupted" in out
    discarded = int(re.search(r"^discarded\s+(\d+)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    archived = int(re.search(r"^archived\s+(\d+)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert 0 < discarded < len(bodies), "the discard finished before the signal"
    # ... and the books balance: the archive holds exactly what left the DLQ, the summary's
    # figures are those counts, and the rest is visible in the DLQ again at once
    archive = archived_ids(path)
    left = {m["MessageId"]: m["Body"] for m in drain(sqs, orders.dlq_url)}
    assert_books_balance(before, archive, left)
    assert discarded == archived == len(archive) == len(bodies) - len(left)
    assert f"~{len(left)} messages left in the DLQ" in out


# --- an S3 archive whose answers go wrong ---------------------------------------------------------

BUCKET = "dlq-archive"


def s3_archived_ids(s3: S3Client, prefix: str) -> list[str]:
    """The message ids of every record under ``prefix``, in key order (as an import reads)."""
    from bot.s3_gateway import S3Source

    return [record.message_id for record in S3Source(s3, f"s3://{BUCKET}/{prefix}").records()]


def s3_objects(s3: S3Client, prefix: str) -> int:
    return len(s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


@pytest.mark.parametrize(
    "faults",
    [
        {0: Fault.RESET_AFTER},  # stored, the answer lost: the client puts it again
        {0: Fault.UNAVAILABLE, 1: Fault.UNAVAILABLE},  # two 503s, then stored
        {0: Fault.SLOW_ANSWER, 2: Fault.SLOW_ANSWER},  # stored, answered 1 s late
    ],
    ids=["answer-lost", "503-twice", "slow"],
)
def test_a_discard_to_s3_through_a_bad_network_archives_each_message_once(
    aws: LocalAws,
    sqs: SQSClient,
    s3: S3Client,
    engine_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    faults: dict[int, Fault],
) -> None:
    # Given 25 messages and an S3 archive reached through a network that loses, refuses or
    # delays PutObject answers (the SDK's own retries on)
    s3.create_bucket(Bucket=BUCKET)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(25)])
    before = dlq_snapshot(sqs, orders.dlq_url)

    def rule(action: str, seen: int) -> Fault:
        return faults.get(seen, Fault.PASS) if action == "PUT" else Fault.PASS

    with FaultProxy(aws.endpoint, rule, slow_answer_s=1.0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        result = run_cli(
            ["--json", "discard", "orders-dlq", "--archive", f"s3://{BUCKET}/d/", "--workers", "2"],
            {**engine_env, "AWS_ENDPOINT_URL_S3": proxy.endpoint},
        )
        assert proxy.injected("PUT") == len(faults)
    # Then every message is archived exactly once and gone from the DLQ, and the figures say so
    assert result.code == 0, (result.out, result.err)
    archive = s3_archived_ids(s3, "d/")
    assert_books_balance(before, archive, dlq_snapshot(sqs, orders.dlq_url))
    assert result.json["moved"] == result.json["archived"] == len(archive) == 25


def test_a_discard_to_s3_that_never_answers_200_deletes_nothing(
    aws: LocalAws,
    sqs: SQSClient,
    s3: S3Client,
    engine_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 12 messages and an S3 archive whose every PutObject gets a 503
    s3.create_bucket(Bucket=BUCKET)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(12)])
    before = dlq_snapshot(sqs, orders.dlq_url)

    def rule(action: str, seen: int) -> Fault:
        return Fault.UNAVAILABLE if action == "PUT" else Fault.PASS

    with FaultProxy(aws.endpoint, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        result = run_cli(
            ["discard", "orders-dlq", "--archive", f"s3://{BUCKET}/d/", "--workers", "1"],
            engine_env,
        )
    # Then nothing is deleted, nothing is hidden, and the summary says none was discarded
    assert result.code == 1, (result.out, result.err)
    assert dlq_snapshot(sqs, orders.dlq_url) == before
    assert re.search(r"^discarded\s+0$", result.out, re.MULTILINE), result.out
    assert re.search(r"^archived\s+0$", result.out, re.MULTILINE), result.out
    assert "ServiceUnavailable" in result.out or "503" in result.out
    assert s3_objects(s3, "d/") == 0


def test_sigterm_while_an_s3_put_is_slow_leaves_the_books_balanced(
    aws: LocalAws, sqs: SQSClient, s3: S3Client, tmp_path: Path
) -> None:
    # Given 60 messages discarded into S3 at 10 msg/s, every PutObject answered 1.5 s late
    s3.create_bucket(Bucket=BUCKET)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(60)])
    before = dlq_snapshot(sqs, orders.dlq_url)

    def slow_puts(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "PUT" else Fault.PASS

    command = [sys.executable, "-m", "bot.cli", "discard", "orders-dlq"]
    options = ["--archive", f"s3://{BUCKET}/d/", "--rate", "10", "--workers", "2"]
    with FaultProxy(aws.endpoint, slow_puts, slow_answer_s=1.5) as proxy:
        process = start_cli(command + options, aws, text=False, AWS_ENDPOINT_URL_S3=proxy.endpoint)
        # When SIGTERM comes while a put is on its way (stored, its answer not back yet)
        try:
            give_up = time.monotonic() + 60
            while s3_objects(s3, "d/") == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < give_up, "the discard never got going"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            raw_out, raw_err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    out, err = raw_out.decode(), raw_err.decode()
    # Then it stopped (exit 3) and what it deleted is exactly what S3 holds
    assert process.returncode == 3, (out, err)
    archive = s3_archived_ids(s3, "d/")
    left = {m["MessageId"]: m["Body"] for m in drain(sqs, orders.dlq_url)}
    assert_books_balance(before, archive, left)
    discarded = int(re.search(r"^discarded\s+(\d+)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert 0 < discarded == len(archive) < 60


def test_a_put_whose_every_answer_is_lost_deletes_nothing_and_names_the_object_it_may_have_left(
    aws: LocalAws,
    sqs: SQSClient,
    s3: S3Client,
    engine_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 8 messages and an S3 archive whose every PutObject is stored and its answer lost
    # (the connection reset after S3 acted, on each of the SDK's attempts)
    s3.create_bucket(Bucket=BUCKET)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(8)])
    before = dlq_snapshot(sqs, orders.dlq_url)

    def rule(action: str, seen: int) -> Fault:
        return Fault.RESET_AFTER if action == "PUT" else Fault.PASS

    with FaultProxy(aws.endpoint, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        result = run_cli(
            ["discard", "orders-dlq", "--archive", f"s3://{BUCKET}/d/", "--workers", "1"],
            engine_env,
        )
    # Then nothing is deleted and the summary says none was discarded ...
    assert result.code == 1, (result.out, result.err)
    assert dlq_snapshot(sqs, orders.dlq_url) == before
    assert row_of(result.out, "discarded") == row_of(result.out, "archived") == 0
    # ... yet S3 did store the object: the run says which one, and that its records are of
    # messages still in the DLQ (an import of the prefix would send them a second time)
    (key,) = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(s3_archived_ids(s3, "d/")) == sorted(before)
    shown = " ".join(result.out.split())  # the reason may wrap across the summary's lines
    assert f"s3://{BUCKET}/{key}" in shown
    assert "may have stored it" in shown


def row_of(out: str, name: str) -> int:
    found = re.search(rf"^{re.escape(name)}\s+(\d+)$", out, re.MULTILINE)
    assert found, f"no {name!r} row in:\n{out}"
    return int(found.group(1))


def test_a_disk_filling_up_mid_discard_leaves_whole_records_of_exactly_the_deleted_messages(
    aws: LocalAws, sqs: SQSClient, tmp_path: Path
) -> None:
    # Given 40 messages discarded by a CLI process whose files may not grow past 5,000 bytes
    # (RLIMIT_FSIZE: the write that crosses it is cut short, as on a disk filling up mid-write)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"order": n, "pad": "x" * 100}) for n in range(40)])
    before = dlq_snapshot(sqs, orders.dlq_url)
    path = tmp_path / "archive.jsonl"
    discard = ["discard", "orders-dlq", "--archive"]
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (5000, 5000))\n"
        "from bot.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    # When they are discarded into a file there
    result = subprocess.run(
        [sys.executable, "-B", "-c", script, *discard, str(path), "--workers", "1"],
        env={**os.environ, **aws.env, "TIMEZONE": "UTC", "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then the run failed (exit 1); the archive holds whole lines only, each of a message gone
    # from the DLQ, and every other message is still there; the summary's figures are those
    assert result.returncode == 1, result.stdout + result.stderr
    data = path.read_bytes()
    assert data.endswith(b"\n") and 0 < len(data) <= 5000
    archive = archived_ids(path)
    left = dlq_snapshot(sqs, orders.dlq_url)
    assert_books_balance(before, archive, left)
    assert row_of(result.stdout, "discarded") == row_of(result.stdout, "archived") == len(archive)
    assert row_of(result.stdout, "failed (kept in DLQ)") > 0
    assert "File too large" in result.stdout


def test_ctrl_c_mid_export_keeps_every_message_in_the_dlq_visible_and_counts_the_file(
    aws: LocalAws, sqs: SQSClient, tmp_path: Path
) -> None:
    # Given 60 messages exported at 10 msg/s on 2 workers
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(60)])
    before = dlq_snapshot(sqs, orders.dlq_url)
    path = tmp_path / "export.jsonl"
    command = [sys.executable, "-m", "bot.cli", "export", "orders-dlq", "--out", str(path)]
    env = {**os.environ, **aws.env, "TIMEZONE": "UTC", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [*command, "--rate", "10", "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # When Ctrl-C comes once the first records are in the file
    try:
        give_up = time.monotonic() + 60
        while not path.exists() or not path.read_bytes():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < give_up, "the export never got going"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Then it stopped early (exit 3), every message is in the DLQ and visible at once, and the
    # summary's "exported" is the file's count of distinct records
    assert process.returncode == 3, (out, err)
    attrs = sqs.get_queue_attributes(
        QueueUrl=orders.dlq_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert dlq_snapshot(sqs, orders.dlq_url) == before
    exported = archived_ids(path)
    assert len(set(exported)) == len(exported) and set(exported) <= set(before)
    assert 0 < row_of(out, "exported (kept in DLQ)") == len(exported) < 60


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_mid_import_stops_after_the_batch_in_hand_and_says_how_many_were_sent(
    aws: LocalAws, sqs: SQSClient, tmp_path: Path, signum: signal.Signals
) -> None:
    # Given an export of 60 messages, imported into a queue whose every SendMessageBatch answer
    # comes 1 s late (a long import)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(60)])
    path = tmp_path / "export.jsonl"
    assert (
        run_cli(["export", "orders-dlq", "--out", str(path)], {**aws.env, "TIMEZONE": "UTC"}).code
        == 0
    )
    replay = sqs.create_queue(QueueName="replay")["QueueUrl"]

    def slow_sends(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "SendMessageBatch" else Fault.PASS

    with FaultProxy(aws.endpoint, slow_sends, slow_answer_s=1.0) as proxy:
        process = start_cli(
            [sys.executable, "-m", "bot.cli", "import", str(path), "--to", "replay"],
            aws,
            AWS_ENDPOINT_URL_SQS=proxy.endpoint,
        )
        # When the signal comes once the first copies arrived (that batch's answer on its way)
        try:
            give_up = time.monotonic() + 60
            while count(sqs, replay) == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < give_up, "the import never got going"
                time.sleep(0.05)
            process.send_signal(signum)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    # Then it stops early (exit 3) saying so, after the batch in hand, and says exactly how many
    # records it sent: the operator knows what is in the queue
    assert process.returncode == 3, (out, err)
    assert signum.name in err
    sent = re.search(r"record\(s\) read from .*; sent (\d+) to replay", out)
    assert sent, out
    arrived = count(sqs, replay)
    assert 0 < int(sent.group(1)) == arrived < 60
    assert "interrupted" in out


def test_an_edit_whose_send_answer_is_lost_keeps_the_original_and_says_the_copy_may_be_there(
    aws: LocalAws,
    sqs: SQSClient,
    engine_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a DLQ of three and an edit of one whose SendMessageBatch is stored by SQS and its
    # answer lost (the connection reset after SQS acted)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ['{"n": 0}', '{"n": 1}', '{"n": 2}'])
    before = dlq_snapshot(sqs, orders.dlq_url)
    target = next(m for m, body in before.items() if body == '{"n": 1}')
    body_file = tmp_path / "body.json"
    body_file.write_text('{"n": 11}')

    def rule(action: str, seen: int) -> Fault:
        return Fault.RESET_AFTER if action == "SendMessageBatch" else Fault.PASS

    with FaultProxy(aws.endpoint, rule) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", proxy.endpoint)
        result = run_cli(
            ["edit", "orders-dlq", target, "--body-file", str(body_file)],
            {**engine_env, "AWS_ENDPOINT_URL_SQS": proxy.endpoint},
        )
        assert proxy.injected("SendMessageBatch") == 1  # sent once, never again in the run
    # Then the original is not deleted (its copy was never confirmed), every message is in the
    # DLQ and visible, exit 1, and the summary says the copy may have been delivered
    assert result.code == 1, (result.out, result.err)
    assert dlq_snapshot(sqs, orders.dlq_url) == before
    assert row_of(result.out, "unconfirmed (kept in DLQ)") == 1
    assert row_of(result.out, "moved") == 0
    assert "may have been delivered" in result.out
    # ... as it was: SQS stored the one copy
    assert [m["Body"] for m in drain(sqs, orders.source_url)] == ['{"n": 11}']


def test_puts_slower_than_the_visibility_timeout_still_archive_each_message_once(
    aws: LocalAws,
    sqs: SQSClient,
    s3: S3Client,
    engine_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 30 messages discarded into S3 with a 1 s visibility timeout while every PutObject
    # answer takes 2 s: the messages being archived become visible again meanwhile, and the
    # run's other worker receives them again
    s3.create_bucket(Bucket=BUCKET)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(30)])
    before = dlq_snapshot(sqs, orders.dlq_url)

    def rule(action: str, seen: int) -> Fault:
        return Fault.SLOW_ANSWER if action == "PUT" else Fault.PASS

    fast_expiry = ["--workers", "2", "--visibility-timeout", "1"]
    with FaultProxy(aws.endpoint, rule, slow_answer_s=2.0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        result = run_cli(
            ["--json", "discard", "orders-dlq", "--archive", f"s3://{BUCKET}/d/", *fast_expiry],
            engine_env,
        )
    # Then each message is archived once and deleted, and the figures count each once
    assert result.code == 0, (result.out, result.err)
    archive = s3_archived_ids(s3, "d/")
    assert_books_balance(before, archive, dlq_snapshot(sqs, orders.dlq_url))
    assert result.json["moved"] == result.json["archived"] == len(archive) == 30


def test_two_discard_processes_started_together_on_one_archive_one_runs_one_is_refused(
    aws: LocalAws, sqs: SQSClient, tmp_path: Path
) -> None:
    # Given 30 messages and two discard processes started at the same moment, same archive
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(30)])
    before = dlq_snapshot(sqs, orders.dlq_url)
    path = tmp_path / "archive.jsonl"
    env = {**os.environ, **aws.env, "TIMEZONE": "UTC", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot.cli", "discard", "orders-dlq", "--archive", str(path)]
    processes = [
        subprocess.Popen(
            [*command, "--rate", "20"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    # Then one discards everything and the other is refused before touching anything (or, if
    # it came after the first finished, is refused for the records in the file): the archive
    # holds each discarded message once and the DLQ the rest
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "another run is writing it" in refused or "already holds data" in refused
    archive = archived_ids(path)
    assert_books_balance(before, archive, dlq_snapshot(sqs, orders.dlq_url))
    assert len(archive) == 30
