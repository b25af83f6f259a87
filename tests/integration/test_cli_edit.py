"""``dlq-redrive edit QUEUE MESSAGE_ID --body-file FILE`` (issue 12) on moto's SQS: the edited copy
goes to the message's source with its attributes (and the counter incremented), the original is
deleted only after SQS confirmed the copy, every other message is released untouched; what cannot
be sent is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ATTRIBUTES = {
    "tenant": {"DataType": "String", "StringValue": "acme"},
    "signature": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
}


def attrs_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


def ids_by_body(env: dict, queue: str) -> dict[str, str]:
    peeked = run_cli(["--json", "peek", queue, "-n", "100"], env)
    assert peeked.code == 0, peeked.err
    return {m["body"]: m["message_id"] for m in peeked.json["messages"]}


def write(tmp_path: Path, content: str | bytes, name: str = "body.txt") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return str(path)


def still_visible(sqs: SQSClient, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"  # nothing left hidden
    return int(attrs["ApproximateNumberOfMessages"])


def no_sends_or_deletes(recorder: CallRecorder) -> bool:
    return not {"SendMessageBatch", "SendMessage", "DeleteMessageBatch", "DeleteMessage"} & set(
        recorder.names()
    )


def test_edit_sends_the_new_body_to_the_source_and_leaves_the_others(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a DLQ of three JSON messages with attributes
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"order": n, "email": "bad@"}) for n in range(3)]
    put_in_dlq(sqs, orders, bodies, attributes=ATTRIBUTES)
    target = ids_by_body(engine_env, "orders-dlq")[bodies[1]]
    fixed = json.dumps({"order": 1, "email": "good@example.com"}, indent=1) + "\n"

    # When one is edited, a dry run first
    body_file = write(tmp_path, fixed)
    recorder = CallRecorder()
    dry = run_cli(
        ["edit", "orders-dlq", target, "--body-file", body_file, "--dry-run"],
        engine_env,
        recorder.gateway,
    )

    # Then the dry run shows the change and sends nothing
    assert dry.code == 0, dry.err
    assert '-  "email": "bad@"' in dry.out and '+  "email": "good@example.com"' in dry.out
    assert "nothing sent" in dry.out
    assert no_sends_or_deletes(recorder)
    assert still_visible(sqs, orders.dlq_url) == 3

    # When it is edited for real
    result = run_cli(["--json", "edit", "orders-dlq", target, "--body-file", body_file], engine_env)

    # Then its source has the new body exactly as the file holds it, with the attributes and
    # the counter; the DLQ lost that one and the two others are there, visible, untouched
    assert result.code == 0, result.err
    assert result.json["moved"] == 1
    assert (result.json["action"], result.json["message_id"]) == ("edit", target)
    copies = drain(sqs, orders.source_url)
    assert [m["Body"] for m in copies] == [fixed]
    attributes = attrs_of(copies[0])
    assert attributes.pop("dlq-redrive-count") == {"DataType": "Number", "StringValue": "1"}
    assert attributes == ATTRIBUTES
    assert still_visible(sqs, orders.dlq_url) == 2
    assert sorted(m["Body"] for m in drain(sqs, orders.dlq_url)) == [bodies[0], bodies[2]]


def test_edit_on_fifo_keeps_the_group(sqs: SQSClient, engine_env: dict, tmp_path: Path) -> None:
    # Given a FIFO DLQ with a message in each of two groups
    payments = create_pair(sqs, "payments.fifo")
    put_in_dlq(sqs, payments, ['{"pay": "a"}'], group_id="customer-1")
    put_in_dlq(sqs, payments, ['{"pay": "b"}'], group_id="customer-2")
    target = ids_by_body(engine_env, "payments-dlq.fifo")['{"pay": "b"}']

    # When the second group's message is edited
    result = run_cli(
        [
            "edit",
            "payments-dlq.fifo",
            target,
            "--body-file",
            write(tmp_path, '{"pay": "B"}'),
        ],
        engine_env,
    )

    # Then its copy is in the source FIFO queue, in its group; the other stays in the DLQ
    assert result.code == 0, result.err
    copies = drain(sqs, payments.source_url)
    assert [m["Body"] for m in copies] == ['{"pay": "B"}']
    assert copies[0]["Attributes"]["MessageGroupId"] == "customer-2"
    assert [m["Body"] for m in drain(sqs, payments.dlq_url)] == ['{"pay": "a"}']


def test_json_body_replaced_by_non_json_is_refused_unless_allowed(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ['{"order": 1}'])
    target = ids_by_body(engine_env, "orders-dlq")['{"order": 1}']
    not_json = write(tmp_path, "order=1")
    recorder = CallRecorder()

    refused = run_cli(
        ["edit", "orders-dlq", target, "--body-file", not_json], engine_env, recorder.gateway
    )

    assert refused.code == 2
    assert "is JSON" in refused.err and "--allow-non-json" in refused.err
    assert "(line 1, column 1: Expecting value)" in refused.err
    assert no_sends_or_deletes(recorder)
    assert still_visible(sqs, orders.dlq_url) == 1

    allowed = run_cli(
        ["edit", "orders-dlq", target, "--body-file", not_json, "--allow-non-json"], engine_env
    )
    assert allowed.code == 0, allowed.err
    assert [m["Body"] for m in drain(sqs, orders.source_url)] == ["order=1"]


def test_a_body_too_large_for_the_source_is_refused_before_anything_is_sent(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a source queue that takes messages of at most 1,024 bytes
    orders = create_pair(sqs, "orders")
    sqs.set_queue_attributes(QueueUrl=orders.source_url, Attributes={"MaximumMessageSize": "1024"})
    put_in_dlq(sqs, orders, ["small"], attributes=ATTRIBUTES)
    target = ids_by_body(engine_env, "orders-dlq")["small"]
    recorder = CallRecorder()

    # When the new body (with the attributes) would not fit
    result = run_cli(
        ["edit", "orders-dlq", target, "--body-file", write(tmp_path, "x" * 1010)],
        engine_env,
        recorder.gateway,
    )

    # Then it is refused, saying the sizes, and nothing was sent or deleted
    assert result.code == 2
    assert "1,024" in result.err and "MaximumMessageSize" in result.err
    assert no_sends_or_deletes(recorder)
    assert still_visible(sqs, orders.dlq_url) == 1
    assert count(sqs, orders.source_url) == 0


def test_a_message_not_in_the_dlq_is_exit_1_with_a_clear_line(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    recorder = CallRecorder()

    result = run_cli(
        [
            "edit",
            "orders-dlq",
            "00000000-0000-0000-0000-000000000000",
            "--body-file",
            write(tmp_path, "c"),
        ],
        engine_env,
        recorder.gateway,
    )

    assert result.code == 1
    assert result.err == (
        "dlq-redrive: message 00000000-0000-0000-0000-000000000000 is not in orders-dlq "
        "(looked at 2 message(s)): nothing sent\n"
    )
    assert no_sends_or_deletes(recorder)
    assert still_visible(sqs, orders.dlq_url) == 2


def test_bad_body_files_exit_2_and_touch_nothing(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a"])
    target = ids_by_body(engine_env, "orders-dlq")["a"]
    cases = {
        str(tmp_path / "missing.txt"): "no such file",
        write(tmp_path, b"caf\xe9", "latin1.txt"): "is not UTF-8 text (byte 3",
        write(tmp_path, b"", "empty.txt"): "is empty",
        str(tmp_path): "is a directory",
    }
    for body_file, says in cases.items():
        recorder = CallRecorder()
        result = run_cli(
            ["edit", "orders-dlq", target, "--body-file", body_file], engine_env, recorder.gateway
        )
        assert result.code == 2, (body_file, result.err)
        assert says in result.err and result.err.count("\n") == 1
        assert not recorder.touched_messages()
    missing_option = run_cli(["edit", "orders-dlq", target], engine_env)
    assert missing_option.code == 2 and "--body-file" in missing_option.err
    assert still_visible(sqs, orders.dlq_url) == 1


def test_an_unchanged_body_is_refused(sqs: SQSClient, engine_env: dict, tmp_path: Path) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ['{"same": true}'])
    target = ids_by_body(engine_env, "orders-dlq")['{"same": true}']

    result = run_cli(
        ["edit", "orders-dlq", target, "--body-file", write(tmp_path, '{"same": true}')],
        engine_env,
    )

    assert result.code == 2 and "nothing to edit" in result.err
    assert count(sqs, orders.source_url) == 0 and still_visible(sqs, orders.dlq_url) == 1


def test_the_diff_shows_control_characters_as_escapes(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a message whose body holds an escape sequence that would clear a terminal
    orders = create_pair(sqs, "orders")
    hostile = '{"note": "\u001b[2J\u202eevil"}'
    put_in_dlq(sqs, orders, [hostile])
    target = ids_by_body(engine_env, "orders-dlq")[hostile]

    # When its edit is shown in a dry run
    result = run_cli(
        [
            "edit",
            "orders-dlq",
            target,
            "--body-file",
            write(tmp_path, '{"note": "fine"}'),
            "--dry-run",
        ],
        engine_env,
    )

    # Then the diff shows the characters as escapes, never the characters themselves
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\u202e" not in result.out
    assert "\\x1b[2J" in result.out and "\\u202e" in result.out


def test_a_fifo_edit_never_overtakes_an_earlier_message_of_its_group(
    sqs: SQSClient, engine_env: dict, tmp_path: Path
) -> None:
    # Given a FIFO DLQ with two messages of one group, in order
    payments = create_pair(sqs, "payments.fifo")
    put_in_dlq(sqs, payments, ['{"pay": 1}', '{"pay": 2}'], group_id="customer-1")
    second = ids_by_body(engine_env, "payments-dlq.fifo")['{"pay": 2}']

    # When the second is edited while the first stays in the DLQ
    result = run_cli(
        ["edit", "payments-dlq.fifo", second, "--body-file", write(tmp_path, '{"pay": 22}')],
        engine_env,
    )

    # Then it is held back (exit 1), nothing is sent, both stay in the DLQ in their order
    assert result.code == 1, result.out + result.err
    assert "held back" in result.out
    assert count(sqs, payments.source_url) == 0
    assert [m["Body"] for m in drain(sqs, payments.dlq_url)] == ['{"pay": 1}', '{"pay": 2}']
