"""The dlq-redrive CLI against moto's server over real HTTP (boto3 via AWS_ENDPOINT_URL only)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.cli import main
from infra.local.scene import count, create_pair, drain, put_in_dlq
from tests.integration.cli_helpers import CallRecorder, run_cli

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EVERY_TYPE = {
    "tenant": {"DataType": "String", "StringValue": "acme ✓"},
    "amount": {"DataType": "Number", "StringValue": "-12.50"},
    "signature": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "region": {"DataType": "String.region", "StringValue": "eu-west-1"},
    "attempt": {"DataType": "Number.int", "StringValue": "7"},
}


def attrs_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


# --- list and peek ----------------------------------------------------------------------------


def test_list_shows_every_dlq_with_counts_sources_and_fifo(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    create_pair(sqs, "payments.fifo")
    sqs.create_queue(QueueName="unrelated")
    put_in_dlq(sqs, orders, ["a", "b", "c"])

    result = run_cli(["--json", "list"], engine_env)

    assert result.code == 0, result.err
    dlqs = {d["name"]: d for d in result.json["dlqs"]}
    assert set(dlqs) == {"orders-dlq", "payments-dlq.fifo"}  # discovered from RedrivePolicies
    # (issue 12: each DLQ also says when its next message expires; test_cli_list_expiry.py)
    assert dlqs["orders-dlq"].pop("next_expiry")["exact"] is True
    assert dlqs["orders-dlq"] == {
        "name": "orders-dlq",
        "kind": "sqs",  # issue 13: fed by an SQS queue (test_cli_kinds.py: the other kinds)
        "feeders": [],
        "visible": 3,
        "in_flight": 0,
        "fifo": False,
        "sources": ["orders"],
    }
    assert dlqs["payments-dlq.fifo"]["fifo"] is True
    table = run_cli(["list"], engine_env).out
    assert "orders-dlq" in table and "payments-dlq.fifo" in table and "SOURCES" in table


def test_list_watches_only_the_configured_dlqs(sqs: SQSClient, engine_env: dict) -> None:
    create_pair(sqs, "orders")
    create_pair(sqs, "payments")
    result = run_cli(["--json", "list"], {**engine_env, "DLQ_QUEUES": "payments-dlq"})
    assert [d["name"] for d in result.json["dlqs"]] == ["payments-dlq"]


def test_peek_shows_messages_and_leaves_every_one_visible(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [json.dumps({"n": i}) for i in range(12)], attributes=EVERY_TYPE)

    result = run_cli(["--json", "peek", "orders-dlq", "-n", "12"], engine_env)

    assert result.code == 0, result.err
    shown = result.json["messages"]
    assert len(shown) == 12
    assert {m["body"] for m in shown} == {json.dumps({"n": i}) for i in range(12)}
    assert shown[0]["attributes"]["tenant"] == "acme ✓"
    assert shown[0]["attributes"]["signature"] == "<4 bytes>"
    assert shown[0]["source_queue"] == "orders" and shown[0]["sent_at"]
    # every message is visible again at once: a receive gets all 12 back
    assert (
        sqs.get_queue_attributes(
            QueueUrl=orders.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "12"
    )
    assert len(drain(sqs, orders.dlq_url)) == 12


def test_peek_truncates_long_bodies_for_display(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["x" * 5000])
    text = run_cli(["peek", "orders-dlq"], engine_env).out
    assert "x" * 299 + "…" in text and "x" * 301 not in text
    assert "SQS counts this as a receive" in text


# --- redrive: standard ------------------------------------------------------------------------


def test_redrive_moves_everything_back_with_body_and_attributes_intact(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    bodies = [json.dumps({"order": i, "note": "ünïcödé ✓ 🎉"}) for i in range(25)] + ["not json"]
    put_in_dlq(sqs, orders, bodies, attributes=EVERY_TYPE)

    result = run_cli(["--json", "redrive", "orders-dlq"], engine_env)

    assert result.code == 0, result.err
    report = result.json
    assert (report["scanned"], report["matched"], report["moved"], report["failed"]) == (
        26,
        26,
        26,
        0,
    )
    assert report["skipped"] == 0 and report["by_destination"] == {"orders": 26}
    assert count(sqs, orders.dlq_url) == 0
    back = drain(sqs, orders.source_url)
    assert sorted(m["Body"] for m in back) == sorted(bodies)  # byte for byte
    for message in back:
        attributes = attrs_of(message)
        assert attributes.pop("dlq-redrive-count") == {"DataType": "Number", "StringValue": "1"}
        assert attributes == EVERY_TYPE


def test_the_trace_header_is_sent_back(sqs: SQSClient, engine_env: dict) -> None:
    # moto drops MessageSystemAttributes on SendMessageBatch, so check the request we send.
    orders = create_pair(sqs, "orders")
    sqs.send_message(
        QueueUrl=orders.dlq_url,
        MessageBody="traced",
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5-abc"}
        },
    )
    recorder = CallRecorder()
    assert run_cli(["redrive", "orders-dlq"], engine_env, recorder.gateway).code == 0
    sends = [params for name, params in recorder.calls if name == "SendMessageBatch"]
    assert sends[0]["Entries"][0]["MessageSystemAttributes"] == {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5-abc"}
    }


def test_dry_run_counts_and_leaves_every_message_visible(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(15)])
    recorder = CallRecorder()

    result = run_cli(["--json", "redrive", "orders-dlq", "--dry-run"], engine_env, recorder.gateway)

    assert result.code == 0, result.err
    assert result.json["matched"] == 15 and result.json["moved"] == 0
    assert result.json["by_destination"] == {"orders": 15}
    assert (
        "SendMessageBatch" not in recorder.names() and "DeleteMessageBatch" not in recorder.names()
    )
    assert count(sqs, orders.source_url) == 0
    attrs = sqs.get_queue_attributes(QueueUrl=orders.dlq_url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "15"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_redrive_by_body_date_moves_only_that_day(sqs: SQSClient, engine_env: dict) -> None:
    # Given messages whose domain date is in the body, around midnight in Seoul
    orders = create_pair(sqs, "orders")
    bodies = {
        "late on the 23rd": {"meta": {"date": "2026-11-23T23:59:59+09:00"}},
        "start of the 24th": {"meta": {"date": "2026-11-24T00:00:00+09:00"}},
        "utc evening = 24th in Seoul": {"meta": {"date": "2026-11-24T14:00:00Z"}},
        "start of the 25th": {"meta": {"date": "2026-11-24T15:00:00Z"}},
        "no date": {"meta": {}},
    }
    put_in_dlq(sqs, orders, [json.dumps({"label": k, **v}) for k, v in bodies.items()] + ["<xml/>"])

    # When the 24th (Seoul) is redriven by the body's meta.date
    result = run_cli(
        ["--json", "redrive", "orders-dlq", "--date", "2026-11-24", "--time-field", "meta.date"],
        {**engine_env, "TIMEZONE": "Asia/Seoul"},
    )

    # Then only the 24th moved; the rest (including unreadable ones) stay, visible, and are counted
    assert result.code == 0, result.err
    report = result.json
    assert report["moved"] == 2 and report["skipped"] == 4
    assert report["skipped_detail"]["out_of_window"] == 2
    assert report["skipped_detail"]["unreadable_time"] == 2
    moved = {json.loads(m["Body"])["label"] for m in drain(sqs, orders.source_url)}
    assert moved == {"start of the 24th", "utc evening = 24th in Seoul"}
    assert (
        sqs.get_queue_attributes(
            QueueUrl=orders.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "4"
    )


def test_redrive_by_sent_time_window(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b", "c"])
    now = datetime.now(UTC)
    past = run_cli(
        [
            "--json",
            "redrive",
            "orders-dlq",
            "--since",
            (now - timedelta(days=3)).isoformat(),
            "--until",
            (now - timedelta(days=2)).isoformat(),
        ],
        engine_env,
    )
    assert past.json["moved"] == 0 and past.json["skipped_detail"]["out_of_window"] == 3
    recent = run_cli(
        ["--json", "redrive", "orders-dlq", "--since", (now - timedelta(hours=1)).isoformat()],
        engine_env,
    )
    assert recent.json["moved"] == 3
    assert count(sqs, orders.dlq_url) == 0


def test_limit_moves_exactly_n(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(30)])
    result = run_cli(["--json", "redrive", "orders-dlq", "--limit", "7"], engine_env)
    assert result.code == 0 and result.json["moved"] == 7
    assert count(sqs, orders.source_url) == 7 and count(sqs, orders.dlq_url) == 23


def test_large_bodies_are_batched_within_the_payload_limit(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    # A queue created before 2025 takes 256 KiB at most: batches follow the destination's limit
    sqs.set_queue_attributes(
        QueueUrl=orders.source_url, Attributes={"MaximumMessageSize": str(256 * 1024)}
    )
    bodies = [str(i) * 100_000 for i in range(5)]  # 5 x ~98 KiB: at most 2 per batch
    for body in bodies:
        sqs.send_message(QueueUrl=orders.dlq_url, MessageBody=body)
    recorder = CallRecorder()
    result = run_cli(
        ["--json", "redrive", "orders-dlq", "--workers", "1"], engine_env, recorder.gateway
    )
    assert result.json["moved"] == 5, result.out
    batches = [p["Entries"] for n, p in recorder.calls if n == "SendMessageBatch"]
    assert all(sum(len(e["MessageBody"]) for e in entries) <= 256 * 1024 for entries in batches)
    assert sorted(m["Body"] for m in drain(sqs, orders.source_url)) == sorted(bodies)


# --- redrive: failures never lose a message ------------------------------------------------------


def fail_entries(recorder: CallRecorder, bodies_to_fail: set[str]) -> None:
    """Make moto's real server refuse chosen entries (an invalid DelaySeconds is answered per entry
    in Failed), by editing the request parameters through botocore's public event hook."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        for entry in params.get("Entries", []):
            if entry.get("MessageBody") in bodies_to_fail:
                entry["DelaySeconds"] = 901

    recorder.client.meta.events.register("provide-client-params.sqs.SendMessageBatch", hook)


def test_entries_sqs_refuses_stay_in_the_dlq_and_are_reported(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    bodies = [f"m{i}" for i in range(20)]
    put_in_dlq(sqs, orders, bodies)
    refused = {"m3", "m7", "m11"}
    recorder = CallRecorder()
    fail_entries(recorder, refused)

    result = run_cli(["--json", "redrive", "orders-dlq"], engine_env, recorder.gateway)

    assert result.code == 1
    report = result.json
    assert report["moved"] == 17 and report["failed"] == 3
    assert report["failure_reasons"] == {"InvalidParameterValue": 3}
    assert len(report["failures"]) == 3 and report["failures"][0]["reason"]
    assert sorted(m["Body"] for m in drain(sqs, orders.dlq_url)) == sorted(refused)
    assert sorted(m["Body"] for m in drain(sqs, orders.source_url)) == sorted(set(bodies) - refused)


def test_an_orphaned_dlq_needs_to_and_then_moves_everything(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a DLQ whose source queue was deleted (SQS no longer lists it as a DLQ)
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(12)])
    sqs.delete_queue(QueueUrl=orders.source_url)

    # Then without a destination it is refused with a hint, and with a gone one too
    bare = run_cli(["redrive", "orders-dlq"], engine_env)
    assert bare.code == 2 and "name a destination with --to QUEUE" in bare.err
    gone = run_cli(["redrive", "orders-dlq", "--to", "orders-v2"], engine_env)
    assert gone.code == 2 and "--to: no queue named 'orders-v2'" in gone.err
    assert count(sqs, orders.dlq_url) == 12

    # And with an existing destination everything moves there
    new_url = sqs.create_queue(QueueName="orders-v2")["QueueUrl"]
    moved = run_cli(["--json", "redrive", "orders-dlq", "--to", "orders-v2"], engine_env)
    assert moved.code == 0 and moved.json["moved"] == 12
    assert count(sqs, new_url) == 12 and count(sqs, orders.dlq_url) == 0


def test_a_working_queue_is_never_taken_for_an_orphaned_dlq(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    sqs.send_message(QueueUrl=orders.source_url, MessageBody="live traffic")
    other = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    result = run_cli(["redrive", "orders", "--to", "elsewhere"], engine_env)
    assert result.code == 2 and "its own DLQ is orders-dlq" in result.err
    assert count(sqs, orders.source_url) == 1 and count(sqs, other) == 0


def test_poison_messages_need_a_human_unless_forced(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["fine"])
    poison = {"dlq-redrive-count": {"DataType": "Number", "StringValue": "3"}}
    put_in_dlq(sqs, orders, ["poison"], attributes=poison)

    first = run_cli(["--json", "redrive", "orders-dlq"], engine_env)
    assert first.code == 0 and first.json["moved"] == 1 and first.json["needs_human"] == 1
    assert [m["Body"] for m in drain(sqs, orders.source_url)] == ["fine"]

    forced = run_cli(["--json", "redrive", "orders-dlq", "--force"], engine_env)
    assert forced.json["moved"] == 1
    (back,) = drain(sqs, orders.source_url)
    assert back["MessageAttributes"]["dlq-redrive-count"]["StringValue"] == "4"


def test_each_redrive_increments_the_counter_until_a_human_is_needed(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["keeps failing"])
    for expected in (1, 2, 3):
        assert run_cli(["--json", "redrive", "orders-dlq"], engine_env).json["moved"] == 1
        # the consumer fails again: SQS dead-letters it after maxReceiveCount with its attributes
        for _ in range(3):
            sqs.receive_message(QueueUrl=orders.source_url, VisibilityTimeout=0)
        (message,) = drain(sqs, orders.dlq_url)
        assert message["MessageAttributes"]["dlq-redrive-count"]["StringValue"] == str(expected)
        sqs.send_message(
            QueueUrl=orders.dlq_url,
            MessageBody=message["Body"],
            MessageAttributes={k: attrs_of(message)[k] for k in message["MessageAttributes"]},
        )
    stuck = run_cli(["--json", "redrive", "orders-dlq"], engine_env)
    assert stuck.json["moved"] == 0 and stuck.json["needs_human"] == 1


def test_ten_attributes_are_kept_and_the_counter_is_skipped_with_a_warning(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    ten = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
    sqs.send_message(QueueUrl=orders.dlq_url, MessageBody="full", MessageAttributes=ten)
    result = run_cli(["--json", "redrive", "orders-dlq"], engine_env)
    assert result.json["moved"] == 1 and result.json["warnings"]["sent_without_counter"] == 1
    (back,) = drain(sqs, orders.source_url)
    assert attrs_of(back) == ten


def test_a_body_at_the_size_limit_is_moved_without_the_counter_with_a_warning(
    sqs: SQSClient, engine_env: dict
) -> None:
    # Given a message whose body alone is its destination's whole 256 KiB message size
    orders = create_pair(sqs, "orders")
    sqs.set_queue_attributes(
        QueueUrl=orders.source_url, Attributes={"MaximumMessageSize": str(256 * 1024)}
    )
    body = "é" * (128 * 1024)  # 262,144 bytes in UTF-8
    sqs.send_message(QueueUrl=orders.dlq_url, MessageBody=body)
    # When it is redriven
    result = run_cli(["redrive", "orders-dlq"], engine_env)
    # Then it moves byte for byte, without the counter (real SQS would refuse it with one), and
    # the report says so
    assert result.code == 0, result.err
    assert "1 sent without the dlq-redrive-count attribute" in result.out
    (back,) = drain(sqs, orders.source_url)
    assert back["Body"] == body
    assert "dlq-redrive-count" not in back.get("MessageAttributes", {})


# --- FIFO -------------------------------------------------------------------------------------


def test_fifo_keeps_groups_order_and_gets_a_dedup_id(sqs: SQSClient, engine_env: dict) -> None:
    payments = create_pair(sqs, "payments.fifo")
    put_in_dlq(sqs, payments, [f"a{i}" for i in range(6)], group_id="customer-a")
    put_in_dlq(sqs, payments, [f"b{i}" for i in range(4)], group_id="customer-b")
    recorder = CallRecorder()

    # One worker: moto's FIFO receives race each other under concurrent receivers (it can hand
    # two workers messages of one group, which real SQS never does); order across several
    # workers is proven on the fake that follows SQS's group semantics
    # (tests/hostile/test_engine_attacks.py, groups on two workers with partial failures).
    result = run_cli(
        ["--json", "redrive", "payments-dlq.fifo", "--workers", "1"], engine_env, recorder.gateway
    )

    assert result.code == 0, result.err
    assert result.json["moved"] == 10
    entries = [e for n, p in recorder.calls if n == "SendMessageBatch" for e in p["Entries"]]
    assert all(len(e["MessageDeduplicationId"]) == 64 for e in entries)
    assert len({e["MessageDeduplicationId"] for e in entries}) == 10
    back = drain(sqs, payments.source_url)
    groups: dict[str, list[str]] = {}
    for message in back:
        groups.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
    assert groups == {
        "customer-a": [f"a{i}" for i in range(6)],
        "customer-b": [f"b{i}" for i in range(4)],
    }


def test_fifo_into_standard_and_back_is_refused(sqs: SQSClient, engine_env: dict) -> None:
    payments = create_pair(sqs, "payments.fifo")
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, payments, ["p"], group_id="g")
    put_in_dlq(sqs, orders, ["o"])
    one = run_cli(["redrive", "payments-dlq.fifo", "--to", "orders"], engine_env)
    two = run_cli(["redrive", "orders-dlq", "--to", "payments.fifo"], engine_env)
    assert one.code == 2 and "cannot move FIFO DLQ 'payments-dlq.fifo' into standard" in one.err
    assert two.code == 2 and "cannot move standard DLQ 'orders-dlq' into FIFO" in two.err
    assert count(sqs, payments.dlq_url) == 1 and count(sqs, orders.dlq_url) == 1


# --- destinations -----------------------------------------------------------------------------


def test_several_sources_need_to(sqs: SQSClient, engine_env: dict) -> None:
    shared = create_pair(sqs, "orders-eu", dlq_name="shared-dlq")
    second = create_pair(sqs, "orders-us", dlq_name="shared-dlq")
    put_in_dlq(sqs, shared, ["from eu"])
    put_in_dlq(sqs, second, ["from us"])

    refused = run_cli(["redrive", "shared-dlq"], engine_env)
    assert refused.code == 2
    assert "2 source queues (orders-eu, orders-us)" in refused.err and "--to QUEUE" in refused.err
    assert count(sqs, shared.dlq_url) == 2
    assert (
        sqs.get_queue_attributes(
            QueueUrl=shared.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "2"
    )  # released, not hidden

    chosen = run_cli(["--json", "redrive", "shared-dlq", "--to", "orders-us"], engine_env)
    assert chosen.code == 0 and chosen.json["by_destination"] == {"orders-us": 2}
    assert count(sqs, second.source_url) == 2


# --- bad input: a clear line, exit 2, nothing touched ------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["redrive", "nope-dlq"], {}, "unknown DLQ 'nope-dlq'; watched DLQs: orders-dlq"),
        (["peek", "nope-dlq"], {}, "unknown DLQ 'nope-dlq'; watched DLQs: orders-dlq"),
        (["redrive", "orders"], {}, "'orders' is not the dead-letter queue of any queue"),
        (["redrive", "orders-dlq", "--date", "2026-02-30"], {}, "invalid date '2026-02-30'"),
        (["redrive", "orders-dlq", "--date", "24/11/2026"], {}, "invalid date '24/11/2026'"),
        (
            ["redrive", "orders-dlq", "--yesterday"],
            {"TIMEZONE": "Mars/Base"},
            "TIMEZONE 'Mars/Base'",
        ),
        (
            ["redrive", "orders-dlq", "--since", "2026-11-25", "--until", "2026-11-24"],
            {},
            "--since 2026-11-25 is not before --until 2026-11-24",
        ),
        (["redrive", "orders-dlq", "--limit", "0"], {}, "--limit: must be at least 1, got 0"),
        (["redrive", "orders-dlq", "--limit", "many"], {}, "'many' is not a whole number"),
        (
            ["redrive", "orders-dlq", "--yesterday", "--date", "2026-11-24"],
            {},
            "--yesterday and --date cannot be combined",
        ),
        (
            ["redrive", "orders-dlq", "--native", "--yesterday"],
            {},
            "cannot be combined with --yesterday",
        ),
        (["redrive", "orders-dlq", "--to", "orders-dlq"], {}, "--to names the DLQ itself"),
        (
            ["redrive", "orders-dlq", "--time-field", "at"],
            {},
            "--time-field needs a time selection",
        ),
        (["frobnicate"], {}, "invalid choice: 'frobnicate'"),
        (["list"], {"MAX_REDRIVES": "-1"}, "MAX_REDRIVES must be at least 1"),
        (["redrive", "payments-dlq"], {"DLQ_QUEUES": "orders-dlq"}, "unknown DLQ 'payments-dlq'"),
    ],
)
def test_bad_input_gets_one_clear_line_exit_2_and_touches_nothing(
    sqs: SQSClient, engine_env: dict, argv: list[str], env: dict, message: str
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    recorder = CallRecorder()

    result = run_cli(argv, {**engine_env, **env}, recorder.gateway)

    assert result.code == 2
    assert message in result.err
    assert result.err.count("\n") == 1 and result.err.startswith("dlq-redrive: error: ")
    assert not recorder.touched_messages(), recorder.names()
    assert count(sqs, orders.dlq_url) == 2 and count(sqs, orders.source_url) == 0


def test_a_deadline_stops_cleanly_and_the_next_run_continues(
    sqs: SQSClient, engine_env: dict
) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(40)])
    first = run_cli(
        ["--json", "redrive", "orders-dlq", "--rate", "20", "--workers", "1", "--deadline", "0.6"],
        engine_env,
    )
    assert first.code == 3, first.out
    report = first.json
    assert report["stopped"] == "deadline" and report["complete"] is False
    assert 0 < report["moved"] < 40 and report["remaining"] == 40 - report["moved"]
    second = run_cli(["--json", "redrive", "orders-dlq"], engine_env)
    assert second.code == 0 and report["moved"] + second.json["moved"] == 40
    assert count(sqs, orders.source_url) == 40 and count(sqs, orders.dlq_url) == 0


def test_human_summary_names_counts_and_destinations(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, ["a", "b"])
    result = run_cli(["redrive", "orders-dlq", "--dry-run"], engine_env)
    assert result.code == 0
    assert "DRY RUN orders-dlq (all messages)" in result.out
    assert "would move" in result.out and "→ orders: 2" in result.out


def test_json_is_accepted_before_or_after_the_command(sqs: SQSClient, engine_env: dict) -> None:
    create_pair(sqs, "orders")
    before = run_cli(["--json", "list"], engine_env)
    after = run_cli(["list", "--json"], engine_env)
    assert before.code == after.code == 0
    assert (
        before.json
        == after.json
        == {
            "dlqs": [
                {
                    "name": "orders-dlq",
                    "kind": "sqs",  # issue 13: what feeds it, and the feeders of other kinds
                    "visible": 0,
                    "in_flight": 0,
                    "fifo": False,
                    "sources": ["orders"],
                    "feeders": [],
                    "next_expiry": None,  # empty: nothing expires (issue 12)
                }
            ],
            "unread": [],  # issue 13: the feeder kinds discovery could not read
        }
    )


def cli_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: its own process, its own environment."""
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.getcwd(), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_aws_configuration_is_one_clear_line(tmp_path: Any) -> None:
    nowhere = str(tmp_path / "none")
    result = cli_process(
        ["list"], {"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere}
    )
    assert result.returncode == 2
    assert result.stderr.startswith("dlq-redrive: error: AWS is not configured")
    assert "AWS_REGION" in result.stderr and result.stderr.count("\n") == 1


def test_missing_credentials_are_one_clear_line_whichever_call_meets_them(tmp_path: Any) -> None:
    # Given a region but no credentials anywhere (no files, no keys, no instance metadata)
    nowhere = str(tmp_path / "none")
    env = {"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    # When the first SQS call is a listing (list) or a look-up by name (peek)
    for argv in (["list"], ["peek", "orders-dlq"]):
        result = cli_process(argv, env)
        # Then the gateway's AwsError is still told as AWS not being set up (a usage error)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith("dlq-redrive: error: AWS is not configured"), argv
        assert "AWS_PROFILE" in result.stderr and result.stderr.count("\n") == 1


def test_an_unreachable_endpoint_is_one_clear_line(engine_env: dict) -> None:
    env = {**engine_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens on port 9
    env["AWS_MAX_ATTEMPTS"] = "1"
    result = cli_process(["list"], env)
    assert result.returncode == 1
    assert result.stderr.startswith("dlq-redrive: cannot reach SQS")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr is when a person runs the CLI."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_live_progress_line(sqs: SQSClient, engine_env: dict) -> None:
    orders = create_pair(sqs, "orders")
    put_in_dlq(sqs, orders, [f"m{i}" for i in range(20)])
    out, err = io.StringIO(), Terminal()
    code = main(["redrive", "orders-dlq"], env=engine_env, out=out, err=err)
    assert code == 0
    progress = err.getvalue()
    assert "\r  scanned " in progress and " moved " in progress and "msg/s" in progress
    assert progress.endswith("\r")  # the line is cleared before the summary is printed
    assert "moved" in out.getvalue() and "→ orders: 20" in out.getvalue()
