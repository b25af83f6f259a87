"""``dlq-redrive export``, ``discard`` and ``import`` (issue 12) on moto's SQS and S3, through the
CLI as a user runs it: the round trip restores every message byte for byte with its attributes, a
discard whose archive write fails deletes nothing, and bad input touches nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

BUCKET = "dlq-archive"

EVERY_TYPE = {
    "tenant": {"DataType": "String", "StringValue": "acme ✓"},
    "amount": {"DataType": "Number", "StringValue": "-12.50"},
    "signature": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "region": {"DataType": "String.region", "StringValue": "eu-west-1"},
    "attempt": {"DataType": "Number.int", "StringValue": "7"},
}

# Bodies a round trip must keep exactly: JSON, text that is not JSON, every kind of Unicode,
# whitespace at both ends, a line break, a NUL-free control character SQS accepts.
BODIES = [
    json.dumps({"order": 1, "note": "ünïcödé ✓ 🎉"}),
    '{"order": 2,   "spaced":  true }',
    "not json at all",
    "  leading and trailing spaces  ",
    "two\nlines\r\nand a tab\t",
    "emoji 🎉 and CJK 漢字 and RTL \u202e",
]


def attrs_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


def read_all(sqs: SQSClient, url: str) -> list[dict[str, Any]]:
    """Every message of a queue, with its attributes, each made visible again at once."""
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            break
        for message in got:
            seen.setdefault(message["MessageId"], message)
            handles.append(message["ReceiptHandle"])
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ],
        )
    return list(seen.values())


def visible(sqs: SQSClient, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"  # nothing left hidden
    return int(attrs["ApproximateNumberOfMessages"])


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture
def bucket(s3: S3Client) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


# --- the round trip ---------------------------------------------------------------------------


def test_export_then_discard_then_import_restores_every_message_byte_for_byte(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a DLQ holding bodies of every kind, each with attributes of every type
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, BODIES, attributes=EVERY_TYPE)
    before = read_all(sqs, orders.dlq_url)
    assert len(before) == len(BODIES)

    # When the DLQ is exported to a file
    exported = tmp_path / "export.jsonl"
    export = run_cli(["--json", "export", "orders-dlq", "--out", str(exported)], engine_env)

    # Then every message is in the file and still in the DLQ, visible again
    assert export.code == 0, export.err
    assert export.json["archived"] == len(BODIES) and export.json["moved"] == 0
    assert export.json["archive_location"] == str(exported)
    assert sorted(r["body"] for r in lines(exported)) == sorted(BODIES)
    assert visible(sqs, orders.dlq_url) == len(BODIES)

    # When it is discarded with an archive
    archive = tmp_path / "discarded.jsonl"
    discard = run_cli(["--json", "discard", "orders-dlq", "--archive", str(archive)], engine_env)

    # Then the DLQ is empty and every message is in the archive
    assert discard.code == 0, discard.err
    assert discard.json["moved"] == len(BODIES) == discard.json["archived"]
    assert count(sqs, orders.dlq_url) == 0
    assert count(sqs, orders.source_url) == 0  # discarded, not redriven
    assert sorted(r["message_id"] for r in lines(archive)) == sorted(m["MessageId"] for m in before)

    # When the archive is imported back into the DLQ
    back = run_cli(["--json", "import", str(archive), "--to", "orders-dlq"], engine_env)

    # Then every message is back: body byte for byte, every attribute with its type
    assert back.code == 0, back.err
    restored = drain(sqs, orders.dlq_url)
    assert sorted(m["Body"] for m in restored) == sorted(m["Body"] for m in before)
    for message in restored:
        assert attrs_of(message) == EVERY_TYPE


def test_the_round_trip_on_fifo_keeps_groups_and_their_order(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a FIFO DLQ with two groups of four messages each, in order
    payments = create_pair(sqs, "payments.fifo")
    for group in ("customer-1", "customer-2"):
        put_in_dlq(
            sqs,
            payments,
            [json.dumps({"group": group, "seq": n}) for n in range(4)],
            attributes=EVERY_TYPE,
            group_id=group,
        )

    # When it is discarded with an archive, then the archive imported back (one worker: moto's
    # FIFO receives race each other under concurrent receivers)
    archive = tmp_path / "payments.jsonl"
    discard = run_cli(
        ["discard", "payments-dlq.fifo", "--archive", str(archive), "--workers", "1"], engine_env
    )
    assert discard.code == 0, discard.out + discard.err
    assert count(sqs, payments.dlq_url) == 0
    back = run_cli(["import", str(archive), "--to", "payments-dlq.fifo"], engine_env)

    # Then every message is back in its group, in its order, with its attributes
    assert back.code == 0, back.out + back.err
    restored = drain(sqs, payments.dlq_url)
    by_group: dict[str, list[int]] = {}
    for message in restored:
        body = json.loads(message["Body"])
        assert message["Attributes"]["MessageGroupId"] == body["group"]
        assert attrs_of(message) == EVERY_TYPE
        by_group.setdefault(body["group"], []).append(body["seq"])
    assert by_group == {"customer-1": [0, 1, 2, 3], "customer-2": [0, 1, 2, 3]}


def test_export_to_s3_and_import_from_it(
    sqs: SQSClient, s3: S3Client, bucket: str, engine_env: dict
) -> None:
    # Given a DLQ of 25 messages (three receive batches and more)
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"n": n, "text": "✓"}) for n in range(25)]
    put_in_dlq(sqs, orders, bodies, attributes=EVERY_TYPE)

    # When it is exported to an S3 prefix
    export = run_cli(
        ["--json", "export", "orders-dlq", "--out", f"s3://{bucket}/exports/today"], engine_env
    )

    # Then the objects under the prefix hold every message, and the DLQ still has them all
    assert export.code == 0, export.err
    assert export.json["archived"] == 25
    assert export.json["archive_location"] == f"s3://{bucket}/exports/today/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys and all(k.startswith("exports/today/") and k.endswith(".jsonl") for k in keys)
    assert visible(sqs, orders.dlq_url) == 25

    # When the export is imported into another queue (a dry run first)
    replay = sqs.create_queue(QueueName="replay")["QueueUrl"]
    dry = run_cli(
        ["--json", "import", f"s3://{bucket}/exports/today", "--to", "replay", "--dry-run"],
        engine_env,
    )
    assert dry.code == 0, dry.err
    assert count(sqs, replay) == 0  # a dry run sends nothing
    real = run_cli(["import", f"s3://{bucket}/exports/today", "--to", "replay"], engine_env)

    # Then that queue holds the same bodies and attributes
    assert real.code == 0, real.err
    copies = drain(sqs, replay)
    assert sorted(m["Body"] for m in copies) == sorted(bodies)
    assert all(attrs_of(m) == EVERY_TYPE for m in copies)


def test_discard_archives_to_s3_before_deleting(
    sqs: SQSClient, s3: S3Client, bucket: str, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(12)])

    result = run_cli(["discard", "orders-dlq", "--archive", f"s3://{bucket}/discards"], engine_env)

    assert result.code == 0, result.err
    assert count(sqs, orders.dlq_url) == 0
    bodies = []
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="discards/")["Contents"]:
        text = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        bodies += [json.loads(line)["body"] for line in text.splitlines()]
    assert sorted(bodies) == sorted(f"m{n}" for n in range(12))
    # The summary says what was done and where the archive is
    assert "discarded" in result.out and f"s3://{bucket}/discards/" in result.out


# --- nothing is deleted before its archive record is written ----------------------------------


def test_a_discard_whose_s3_archive_write_fails_deletes_nothing(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ, and an archive in a bucket that does not exist (every PutObject fails)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(15)])

    result = run_cli(
        ["--json", "discard", "orders-dlq", "--archive", "s3://no-such-bucket-here/x"],
        engine_env,
    )

    # Then nothing was deleted: every message is still there, visible; the run says it failed
    assert result.code == 1, result.err
    assert result.json["moved"] == 0 and result.json["archived"] == 0
    assert result.json["failed"] == 15
    assert visible(sqs, orders.dlq_url) == 15


def test_a_discard_whose_file_archive_write_fails_deletes_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given an archive file that refuses every write: the CLI runs in a process whose files may
    # not grow at all (RLIMIT_FSIZE 0: each write fails with EFBIG, as on a full disk; /dev/full
    # is a device, refused before the run starts)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(12)])
    archive = tmp_path / "archive.jsonl"
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))\n"
        "from bot.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-B", "-c", script, "discard", "orders-dlq", "--archive", str(archive)],
        env={**os.environ, **engine_env, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert visible(sqs, orders.dlq_url) == 12
    assert "discarded" in result.stdout and "failed (kept in DLQ)" in result.stdout
    assert archive.read_bytes() == b""


def test_a_discard_to_an_archive_that_cannot_be_opened_touches_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given archives that cannot be created: in a folder that does not exist, under a file, and
    # a folder itself (a read-only folder would not do: these tests may run as root)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(5)])
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for archive, says in (
        (tmp_path / "no" / "such" / "folder.jsonl", "No such file or directory"),
        (a_file / "x.jsonl", "Not a directory"),
        (tmp_path, "is a directory"),
    ):
        recorder = CallRecorder()
        result = run_cli(
            ["discard", "orders-dlq", "--archive", str(archive)], engine_env, recorder.gateway
        )
        # Then the run is refused before any message is received: exit 2, one line
        assert result.code == 2, result.out + result.err
        assert says in result.err and result.err.count("\n") == 1
        assert not recorder.touched_messages()
    assert visible(sqs, orders.dlq_url) == 5


def test_discard_no_archive_deletes_and_dry_run_counts(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{n}" for n in range(7)])

    dry = run_cli(["--json", "discard", "orders-dlq", "--no-archive", "--dry-run"], engine_env)
    assert dry.code == 0, dry.err
    assert dry.json["matched"] == 7 and dry.json["moved"] == 0
    assert visible(sqs, orders.dlq_url) == 7

    real = run_cli(["--json", "discard", "orders-dlq", "--no-archive"], engine_env)
    assert real.code == 0, real.err
    assert real.json["moved"] == 7 and real.json["archived"] == 0
    assert count(sqs, orders.dlq_url) == 0


def test_a_dry_run_discard_opens_no_archive(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    archive = tmp_path / "never.jsonl"

    result = run_cli(["discard", "orders-dlq", "--archive", str(archive), "--dry-run"], engine_env)

    assert result.code == 0, result.err
    assert "would discard" in result.out and f"archive: {archive} (not opened" in result.out
    assert not archive.exists()
    assert visible(sqs, orders.dlq_url) == 2


def test_export_refuses_to_write_over_an_existing_archive(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a"])
    old = tmp_path / "old.jsonl"
    old.write_text('{"format": "dlq-redrive/1"}\n')
    recorder = CallRecorder()

    result = run_cli(["export", "orders-dlq", "--out", str(old)], engine_env, recorder.gateway)

    assert result.code == 2 and "already holds data: choose a new file" in result.err
    assert old.read_text() == '{"format": "dlq-redrive/1"}\n'
    assert not recorder.touched_messages()


# --- selection: --error and --where -----------------------------------------------------------


def test_error_and_where_select_exactly_their_messages(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given messages of two error groups (ERROR_ATTRIBUTE errorCode) and two statuses
    orders = create_pair(sqs, "orders")
    env = {**engine_env, "ERROR_ATTRIBUTE": "errorCode"}
    for code in ("Timeout", "Forbidden"):
        put_in_dlq(
            sqs,
            orders,
            [
                json.dumps({"status": status, "code": code, "n": n})
                for status in (500, 404)
                for n in range(3)
            ],
            attributes={"errorCode": {"DataType": "String", "StringValue": code}},
        )
    assert count(sqs, orders.dlq_url) == 12

    # When the Timeout group is exported
    out = tmp_path / "timeouts.jsonl"
    export = run_cli(
        ["--json", "export", "orders-dlq", "--error", "Timeout", "--out", str(out)], env
    )

    # Then exactly its six messages are in the file, and the others are counted not selected
    assert export.code == 0, export.err
    assert export.json["archived"] == 6
    assert export.json["skipped_detail"]["out_of_window"] == 6
    assert {json.loads(r["body"])["code"] for r in lines(out)} == {"Timeout"}

    # When the Forbidden messages with status 500 are discarded (--where on the body and attr.)
    discard = run_cli(
        [
            "--json",
            "discard",
            "orders-dlq",
            "--where",
            "status=500",
            "--where",
            "attr.errorCode=Forbidden",
            "--no-archive",
        ],
        env,
    )

    # Then exactly those three are gone, and the nine others are still there, visible
    assert discard.code == 0, discard.err
    assert discard.json["moved"] == 3
    left = read_all(sqs, orders.dlq_url)
    assert len(left) == 9
    assert not any(
        json.loads(m["Body"])["status"] == 500 and json.loads(m["Body"])["code"] == "Forbidden"
        for m in left
    )

    # And a redrive of the Timeout group's 404s moves exactly those three back to the source
    redrive = run_cli(
        ["--json", "redrive", "orders-dlq", "--error", "Timeout", "--where", "status=404"], env
    )
    assert redrive.code == 0, redrive.err
    moved = drain(sqs, orders.source_url)
    assert sorted(json.loads(m["Body"])["n"] for m in moved) == [0, 1, 2]
    assert all(json.loads(m["Body"])["code"] == "Timeout" for m in moved)
    assert all(json.loads(m["Body"])["status"] == 404 for m in moved)
    assert count(sqs, orders.dlq_url) == 6


# --- usage errors: exit 2, nothing touched ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["discard", "orders-dlq"], "one of the arguments --archive --no-archive is required"),
        (
            ["discard", "orders-dlq", "--archive", "x.jsonl", "--no-archive"],
            "not allowed with argument",
        ),
        (["discard", "orders-dlq", "--archive", "ftp://host/x"], "not ftp://"),
        (["discard", "orders-dlq", "--archive", "s3://"], "needs a bucket name"),
        (["export", "orders-dlq", "--out", "s3://Not_A_Bucket/x"], "is not an S3 bucket name"),
        (["export", "orders-dlq"], "the following arguments are required: --out"),
        (["export", "orders-dlq", "--out", ""], "the archive location is empty"),
        (["import", "x.jsonl"], "the following arguments are required: --to"),
        (["import", "s3://", "--to", "orders"], "needs a bucket name"),
        (["discard", "orders-dlq", "--no-archive", "--where", "nothing"], "is not PATH=VALUE"),
        (["export", "orders-dlq", "--out", "y.jsonl", "--error", " "], "--error needs"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_touches_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path, argv: list[str], says: str
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b", "c"])
    recorder = CallRecorder()

    result = run_cli(argv, engine_env, recorder.gateway)

    assert result.code == 2, (result.out, result.err)
    assert says in result.err and result.err.count("\n") == 1
    assert not recorder.touched_messages()
    assert visible(sqs, orders.dlq_url) == 3
    assert not Path("x.jsonl").exists() and not Path("y.jsonl").exists()


def test_import_of_a_missing_file_or_a_bad_line_touches_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    replay = sqs.create_queue(QueueName="replay")["QueueUrl"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not a record\n")

    missing = run_cli(["import", str(tmp_path / "nope.jsonl"), "--to", "replay"], engine_env)
    broken = run_cli(["import", str(bad), "--to", "replay"], engine_env)

    assert missing.code == 2 and "dlq-redrive: error:" in missing.err
    assert broken.code == 2 and "line 1" in broken.err
    assert count(sqs, replay) == 0
