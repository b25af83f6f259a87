"""Attacks on issue 12's CLI promises with hostile input (moto's SQS and S3, the CLI in-process):

- export → discard → import restores every message byte for byte with its attributes, whatever
  the bodies and attributes hold, and an archive that is truncated, imported twice or into the
  wrong kind of queue is handled as it says;
- edit sends one edited copy and deletes only the original, and refuses what SQS would refuse
  before anything is sent;
- every figure shown is what happened, and untrusted text never reaches the terminal raw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.engine import RedriveEngine
from bot.redrive_model import Action, EditSpec, RedriveRequest
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.faults.helpers import dlq_snapshot
from tests.integration.cli_helpers import CallRecorder, run_cli
from tests.unit.fake_sqs import FakeSqs

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"

# One character of every Unicode plane SQS takes (0, 1, 2, 3, 14, 15 and 16), the edges of its
# ranges (U+D7FF, U+E000, U+FFFD, U+10FFFD), every control character it takes (tab, LF, CR, lone
# CR, CRLF), DEL and the C1/separator characters that split lines for some readers.
EVERY_PLANE = (
    "\t\n\r\r\n|\x7f\x85\xa0\u2028\u2029\u202e|\ud7ff\ue000\ufffd|"
    "\U00010348\U0001f600\U00020000\U00030000\U000e0041\U000f0000\U0010fffd"
)

# The ten attributes SQS allows, of every type, custom type labels included.
TEN_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "text": {"DataType": "String", "StringValue": "v \U0001f600 \r\n\u2028"},
    "amount": {"DataType": "Number", "StringValue": "-1.50E+3"},
    "ratio": {"DataType": "Number.float", "StringValue": "3.14"},
    "kind": {"DataType": "String.custom", "StringValue": "custom"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "zipped": {"DataType": "Binary.gzip", "BinaryValue": b"\x1f\x8b\x00"},
    "a.b-c_d": {"DataType": "String", "StringValue": "dots, dashes, underscores"},
    "space": {"DataType": "String", "StringValue": " "},
    "zero": {"DataType": "Number", "StringValue": "0"},
    "id": {"DataType": "String.uuid", "StringValue": "00000000-0000-0000-0000-000000000000"},
}
MAX_BYTES = 1_048_576  # the queues' MaximumMessageSize (1 MiB)


def attributes_size(attributes: dict[str, dict[str, Any]]) -> int:
    """What SQS counts of them toward MaximumMessageSize: name, type and value bytes."""
    return sum(
        len(name.encode())
        + len(value["DataType"].encode())
        + len(value.get("StringValue", "").encode())
        + len(value.get("BinaryValue", b""))
        for name, value in attributes.items()
    )


def attrs_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


def ids_by_body(env: dict[str, str], queue: str) -> dict[str, str]:
    peeked = run_cli(["--json", "peek", queue, "-n", "100"], env)
    assert peeked.code == 0, peeked.err
    return {m["body"]: m["message_id"] for m in peeked.json["messages"]}


def row(out: str, name: str) -> int:
    found = re.search(rf"^{re.escape(name)}\s+(\d+)$", out, re.MULTILINE)
    assert found, f"no {name!r} row in:\n{out}"
    return int(found.group(1))


def no_sends_or_deletes(recorder: CallRecorder) -> bool:
    return not {"SendMessageBatch", "SendMessage", "DeleteMessageBatch", "DeleteMessage"} & set(
        recorder.names()
    )


# --- the round trip with hostile bodies and attributes ----------------------------------------


def test_every_plane_a_1_mib_body_and_ten_attributes_survive_the_round_trip(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a DLQ (1 MiB messages) holding a body of every plane, a body filling the whole
    # 1 MiB with its ten attributes, and a short one, each with ten attributes of every type
    # and a trace header, dead-lettered by SQS from their source
    orders = create_pair(sqs, "orders")
    for url in (orders.dlq_url, orders.source_url):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": str(MAX_BYTES)})
    full = "é" * ((MAX_BYTES - attributes_size(TEN_ATTRIBUTES)) // 2)
    bodies = [EVERY_PLANE, full, "{}"]
    for body in bodies:
        sqs.send_message(
            QueueUrl=orders.source_url,
            MessageBody=body,
            MessageAttributes=TEN_ATTRIBUTES,  # type: ignore[arg-type]
            MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}
            },
        )
    put_in_dlq(sqs, orders, [])  # receive them past maxReceiveCount: SQS dead-letters them
    assert count(sqs, orders.dlq_url) == 3

    # When they are discarded with an archive and the archive is imported back into the DLQ
    archive = tmp_path / "discarded.jsonl"
    discard = run_cli(["--json", "discard", "orders-dlq", "--archive", str(archive)], engine_env)
    assert discard.code == 0, discard.err
    assert discard.json["moved"] == discard.json["archived"] == 3
    assert count(sqs, orders.dlq_url) == 0
    assert archive.read_bytes().isascii()  # one line per record, whatever the bodies hold
    assert len(archive.read_bytes().splitlines()) == 3
    recorder = CallRecorder()
    back = run_cli(
        ["--json", "import", str(archive), "--to", "orders-dlq"], engine_env, recorder.gateway
    )

    # Then every body is back byte for byte, each with its ten attributes exactly, nothing added
    # (an import is not a redrive: no counter), and the trace header was sent with each
    assert back.code == 0, back.err
    assert (back.json["read"], back.json["sent"]) == (3, 3)
    restored = drain(sqs, orders.dlq_url)
    assert sorted(m["Body"].encode("utf-8") for m in restored) == sorted(
        b.encode("utf-8") for b in bodies
    )
    for message in restored:
        assert attrs_of(message) == TEN_ATTRIBUTES
    sent = [e for name, p in recorder.calls if name == "SendMessageBatch" for e in p["Entries"]]
    assert len(sent) == 3  # moto drops MessageSystemAttributes: checked as sent
    assert all(e["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"] == TRACE for e in sent)


def test_a_standard_export_into_a_fifo_queue_sends_nothing_and_says_why(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given an export of a standard DLQ (no group ids) and a FIFO queue
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b", "c"])
    fifo = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    export = tmp_path / "export.jsonl"
    assert run_cli(["export", "orders-dlq", "--out", str(export)], engine_env).code == 0
    # When it is imported into the FIFO queue
    result = run_cli(["import", str(export), "--to", "orders.fifo"], engine_env)
    # Then nothing is sent, exit 1, and the lines say how many and why
    assert result.code == 1, result.out + result.err
    assert "3 record(s) read" in result.out and "sent 0 to orders.fifo" in result.out
    assert "not sent, no MessageGroupId, which a FIFO queue needs: 3" in result.out
    assert count(sqs, fifo) == 0


def test_an_archive_whose_last_line_is_half_written_sends_nothing_and_names_the_line(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a discard's archive of 12 records whose last line was cut in half (a copy that
    # stopped part-way)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"order": n}) for n in range(12)])
    archive = tmp_path / "archive.jsonl"
    assert run_cli(["discard", "orders-dlq", "--archive", str(archive)], engine_env).code == 0
    data = archive.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    archive.write_bytes(data[: last + (len(data) - last) // 2])

    # When it is imported (a dry run, then for real)
    for dry in (["--dry-run"], []):
        recorder = CallRecorder()
        result = run_cli(
            ["import", str(archive), "--to", "orders-dlq", *dry], engine_env, recorder.gateway
        )
        # Then it is refused with one line naming line 12, and nothing is sent
        assert result.code == 2, result.out + result.err
        assert "line 12: not JSON" in result.err and result.err.count("\n") == 1
        assert no_sends_or_deletes(recorder)
    assert count(sqs, orders.dlq_url) == 0


def test_a_long_archive_cut_part_way_sends_what_is_whole_and_says_where_it_stopped(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given an export of 130 messages whose last line was cut in half
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"order {n}" for n in range(130)])
    archive = tmp_path / "export.jsonl"
    assert run_cli(["export", "orders-dlq", "--out", str(archive)], engine_env).code == 0
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) - 40])
    target = sqs.create_queue(QueueName="replay")["QueueUrl"]

    # When it is imported
    result = run_cli(["--json", "import", str(archive), "--to", "replay"], engine_env)

    # Then the 129 whole records are sent, the cut one is not, the figures say exactly that
    # and the run ends with exit 1 naming the line
    assert result.code == 1, result.out + result.err
    assert (result.json["read"], result.json["sent"]) == (129, 129)
    assert "line 130" in result.json["error"]
    assert count(sqs, target) == 129


def test_an_import_dry_run_sends_nothing(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    export = tmp_path / "export.jsonl"
    assert run_cli(["export", "orders-dlq", "--out", str(export)], engine_env).code == 0
    recorder = CallRecorder()
    result = run_cli(
        ["import", str(export), "--to", "orders", "--dry-run"], engine_env, recorder.gateway
    )
    assert result.code == 0, result.err
    assert "would send 2 to orders (dry run: nothing was sent)" in result.out
    assert not recorder.touched_messages()
    assert set(recorder.names()) <= {"GetQueueUrl", "GetQueueAttributes"}
    assert count(sqs, orders.source_url) == 0


def test_a_second_fifo_import_within_five_minutes_says_sqs_deduplicates_it(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given an export of a FIFO DLQ (three messages of one group)
    payments = create_pair(sqs, "payments.fifo")
    put_in_dlq(sqs, payments, ["p1", "p2", "p3"], group_id="customer-1")
    export = tmp_path / "export.jsonl"
    run_cli(["export", "payments-dlq.fifo", "--out", str(export)], engine_env)
    # When it is imported into the FIFO source twice
    first = run_cli(["import", str(export), "--to", "payments.fifo"], engine_env)
    again = run_cli(["import", str(export), "--to", "payments.fifo"], engine_env)
    # Then the queue holds each message once, in order, and the words never let "sent 3"
    # read as three more messages in the queue
    assert first.code == again.code == 0
    assert [m["Body"] for m in drain(sqs, payments.source_url)] == ["p1", "p2", "p3"]
    assert "deduplicat" in again.out


# --- counts -----------------------------------------------------------------------------------


def test_the_discard_summary_counts_exactly_what_was_seeded_selected_and_left(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given 30 messages: 12 of tenant acme (JSON), 13 of other tenants, 5 that are not JSON
    orders = create_pair(sqs, "orders")
    bodies = (
        [json.dumps({"tenant": "acme", "n": n}) for n in range(12)]
        + [json.dumps({"tenant": "other", "n": n}) for n in range(13)]
        + [f"plain {n}" for n in range(5)]
    )
    put_in_dlq(sqs, orders, bodies)
    archive = tmp_path / "acme.jsonl"
    # When acme's are discarded, at most 10
    result = run_cli(
        [
            "discard",
            "orders-dlq",
            "--where",
            "tenant=acme",
            "--limit",
            "10",
            "--archive",
            str(archive),
            "--workers",
            "1",
        ],
        engine_env,
    )
    # Then every figure is what happened: 10 discarded and archived, the rest left in the DLQ
    assert result.code == 0, result.out + result.err
    archived = [json.loads(line)["body"] for line in archive.read_text().splitlines()]
    left = dlq_snapshot(sqs, orders.dlq_url)
    assert len(archived) == 10 and all('"acme"' in body for body in archived)
    assert sorted(archived + list(left.values())) == sorted(bodies)
    assert row(result.out, "discarded") == row(result.out, "archived") == 10
    assert row(result.out, "failed (kept in DLQ)") == 0
    scanned, skipped = row(result.out, "scanned"), row(result.out, "skipped (kept in DLQ)")
    assert scanned == 10 + skipped <= 30
    assert row(result.out, "  not selected") + row(result.out, "  over --limit") == skipped
    # ... "matched" counts those the run took (within --limit), as for a redrive
    assert row(result.out, "matched") == 10
    assert 10 + row(result.out, "  over --limit") <= 12


# --- edit -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("note: nul \x00 here", "U+0000"),
        ("note: escape \x1b[2J", "U+001B"),
        ("note: not a character \ufffe", "U+FFFE"),
    ],
    ids=["nul", "escape", "u+fffe"],
)
def test_an_edited_body_sqs_would_refuse_is_refused_before_anything_is_sent(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path, body: str, shown: str
) -> None:
    # Given a message (not JSON, so no JSON check stands in the way) and a body file with a
    # character outside SQS's list ("#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
    # #x10000 to #x10FFFF"; moto takes them, SQS does not)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["note: old"])
    target = ids_by_body(engine_env, "orders-dlq")["note: old"]
    body_file = tmp_path / "body.json"
    body_file.write_bytes(body.encode("utf-8"))
    # When it is edited with it
    recorder = CallRecorder()
    result = run_cli(
        ["edit", "orders-dlq", target, "--body-file", str(body_file)], engine_env, recorder.gateway
    )
    # Then it is refused (exit 2, one line naming the character, escaped), nothing is sent
    assert result.code == 2, result.out + result.err
    assert shown in result.err and result.err.count("\n") == 1
    assert "\x1b" not in result.err and "\x00" not in result.err
    assert not recorder.touched_messages()
    assert count(sqs, orders.source_url) == 0
    assert list(dlq_snapshot(sqs, orders.dlq_url).values()) == ["note: old"]


def test_an_edit_with_no_recorded_source_and_several_sources_sends_nothing(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a DLQ fed by two source queues (moto records no DeadLetterQueueSourceArn)
    orders = create_pair(sqs, "orders")
    policy = sqs.get_queue_attributes(QueueUrl=orders.source_url, AttributeNames=["RedrivePolicy"])
    other = sqs.create_queue(QueueName="refunds", Attributes=policy["Attributes"])["QueueUrl"]
    put_in_dlq(sqs, orders, ['{"a": 1}'])
    target = ids_by_body(engine_env, "orders-dlq")['{"a": 1}']
    body_file = tmp_path / "body.json"
    body_file.write_text('{"a": 2}')
    # When the message is edited
    recorder = CallRecorder()
    result = run_cli(
        ["edit", "orders-dlq", target, "--body-file", str(body_file)], engine_env, recorder.gateway
    )
    # Then it is refused (exit 2) saying why, and nothing was sent or deleted anywhere
    assert result.code == 2, result.out + result.err
    assert "does not say its source queue" in result.err and "2 sources" in result.err
    assert no_sends_or_deletes(recorder)
    assert count(sqs, orders.source_url) == count(sqs, other) == 0
    assert list(dlq_snapshot(sqs, orders.dlq_url).values()) == ['{"a": 1}']


def test_a_hostile_message_id_and_body_file_name_are_shown_escaped(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ['{"a": 1}'])
    target = ids_by_body(engine_env, "orders-dlq")['{"a": 1}']
    body_file = tmp_path / "body.json"
    body_file.write_text('{"a": 2}')
    hostile_file = tmp_path / "evil\x1b]0;pwned\x07\u202e.json"
    hostile_file.write_text("not json")
    cases = [
        # A message id that is not in the DLQ: "is not in orders-dlq"
        (["\x1b[2J$(rm -rf ~)\r\u202e", "--body-file", str(body_file)], 1),
        # A body file that is not JSON for a JSON message: its name in the refusal
        ([target, "--body-file", str(hostile_file)], 2),
        # A body file that does not exist
        ([target, "--body-file", str(tmp_path / "no\x1b[31mfile")], 2),
    ]
    for args, code in cases:
        result = run_cli(["edit", "orders-dlq", *args], engine_env)
        assert result.code == code, (args, result.out, result.err)
        shown = result.out + result.err
        for raw in ("\x1b", "\x07", "\r", "\u202e"):
            assert raw not in shown, (args, shown)
        assert "\\x1b" in shown
    assert count(sqs, orders.source_url) == 0


# --- at-least-once delivery (in-memory SQS) -----------------------------------------------


def engine_on(fake: FakeSqs, dlq_name: str) -> tuple[RedriveEngine, Any]:
    settings = EngineSettings.from_env({"TIMEZONE": "UTC"})
    dlq = DlqCatalog(fake, settings).get(dlq_name)  # type: ignore[arg-type]
    engine = RedriveEngine(
        fake,  # type: ignore[arg-type]
        max_redrives=settings.max_redrives,
        timezone=settings.timezone,
        clock=lambda: fake.clock,
    )
    return engine, dlq


def test_an_edit_of_a_message_delivered_twice_sends_one_copy_and_deletes_both_handles() -> None:
    # Given a DLQ of three whose edited message SQS hands out twice in one receive
    fake = FakeSqs()
    dlq_url = fake.create("orders-dlq")
    source = fake.create("orders", dead_letter_to=dlq_url)
    ids = [fake.put(dlq_url, f'{{"n": {n}}}') for n in range(3)]
    fake.redeliver.add(ids[1])
    engine, dlq = engine_on(fake, "orders-dlq")
    # When it is edited
    report = engine.run(dlq, RedriveRequest(edit=EditSpec(ids[1], '{"n": 11}'), workers=1))
    # Then one copy with the new body went to the source, the original is gone (every handle
    # it was received with), the two others are in the DLQ and visible, and the figures say so
    assert fake.bodies(source) == ['{"n": 11}']
    assert fake.bodies(dlq_url) == ['{"n": 0}', '{"n": 2}']
    assert fake.visible(dlq_url) == 2
    assert (report.moved, report.redelivered, report.failed, report.delete_failed) == (1, 1, 0, 0)


def test_a_discard_of_messages_delivered_twice_archives_each_once(tmp_path: Path) -> None:
    from bot.archive_files import JsonlFileSink

    # Given a DLQ of 12 of which SQS hands out three twice
    fake = FakeSqs()
    dlq_url = fake.create("orders-dlq")
    fake.create("orders", dead_letter_to=dlq_url)
    ids = [fake.put(dlq_url, f"m{n}") for n in range(12)]
    fake.redeliver.update(ids[::4])
    engine, dlq = engine_on(fake, "orders-dlq")
    path = tmp_path / "archive.jsonl"
    # When they are discarded
    with JsonlFileSink(path) as sink:
        report = engine.run(dlq, RedriveRequest(action=Action.DISCARD, archive=sink, workers=1))
    # Then each is archived once and deleted, and the figures count each once
    archived = [json.loads(line)["message_id"] for line in path.read_text().splitlines()]
    assert sorted(archived) == sorted(ids)
    assert fake.bodies(dlq_url) == []
    assert (report.moved, report.archived, report.redelivered) == (12, 12, 3)


def test_an_interrupted_import_says_exactly_what_it_sent_and_what_it_read_but_did_not() -> None:
    from bot.archive_model import ArchiveRecord
    from bot.importer import import_records, import_words

    # Given an import of 250 records that is asked to stop before its fourth batch
    fake = FakeSqs()
    url = fake.create("replay")
    asked = iter([False, False, False, True])
    records = [ArchiveRecord(f"m{n}", f"body {n}") for n in range(250)]
    report = import_records(
        fake, records, fake.info(url), location="x.jsonl", cancelled=lambda: next(asked)
    )
    # Then three batches went, nothing after them, and the words say the figures exactly
    assert len(fake.bodies(url)) == report.sent == 30
    assert report.interrupted and not report.complete
    assert import_words(report, interrupted_by="SIGINT") == [
        "100 record(s) read from x.jsonl; sent 30 to replay",
        "  interrupted by SIGINT: 70 record(s) read were not sent and none after them was read; "
        "the same import again sends every record from the first (a standard queue would get a "
        "second copy of those sent)",
    ]


def test_hostile_archive_paths_and_where_values_are_shown_escaped(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a message of a tenant whose name holds an escape, and an archive path that holds a
    # terminal escape, a right-to-left override and a line break
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"tenant": "\x1b[31macme"})])
    archive = tmp_path / "arch\x1b[2J\u202e\nfake row 99.jsonl"
    where = ["--where", "tenant=\x1b[31macme"]
    for argv in (
        ["discard", "orders-dlq", *where, "--archive", str(archive), "--dry-run"],
        ["export", "orders-dlq", *where, "--out", str(archive)],
        ["--json", "discard", "orders-dlq", *where, "--archive", str(tmp_path / "\x1b.jsonl")],
    ):
        # When it is exported, discarded (dry run, then for real with --json)
        result = run_cli(argv, engine_env)
        # Then nothing raw reaches the terminal: each line of output is one of the summary's
        assert result.code == 0, (argv, result.out, result.err)
        shown = result.out + result.err
        assert "\x1b" not in shown and "\u202e" not in shown, shown
        assert not any(line.startswith("fake row") for line in shown.splitlines())
    assert len(archived_lines := archive.read_text().splitlines()) == 1
    assert json.loads(archived_lines[0])["body"] == json.dumps({"tenant": "\x1b[31macme"})
    assert count(sqs, orders.dlq_url) == 0


def test_an_edit_of_a_message_with_ten_attributes_keeps_them_all_and_says_the_counter_was_left_out(
    sqs: SQSClient, engine_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a message with the ten attributes SQS allows (no room for dlq-redrive-count)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ['{"v": 1}'], attributes=TEN_ATTRIBUTES)
    target = ids_by_body(engine_env, "orders-dlq")['{"v": 1}']
    body_file = tmp_path / "body.json"
    body_file.write_text('{"v": 2}')
    # When it is edited
    result = run_cli(["edit", "orders-dlq", target, "--body-file", str(body_file)], engine_env)
    # Then the copy has the new body and exactly its ten attributes, the original is gone, and
    # the summary says it went without the counter
    assert result.code == 0, result.out + result.err
    (copy,) = drain(sqs, orders.source_url)
    assert copy["Body"] == '{"v": 2}'
    assert attrs_of(copy) == TEN_ATTRIBUTES
    assert count(sqs, orders.dlq_url) == 0
    assert row(result.out, "moved") == 1
    assert "1 sent without the dlq-redrive-count attribute" in result.out
