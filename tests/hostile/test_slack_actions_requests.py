"""Hostile use of the issue 12 buttons through the real handlers (signed requests, the worker on
the local Lambda endpoint, SQS and S3 on moto): forged and oversized values, jobs tampered with
on their way to the worker, and actions the deployment cannot do (no archive bucket). Each is
refused with a clear answer, and nothing is archived, moved or deleted."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest

from bot.error_groups import label_digest
from bot.slack.ids import ActionId
from bot.slack.protocol import JobSigner, MessageButtonJob, ReportButtonJob, job_signing_key
from infra.local.moto_server import LocalAws
from infra.local.scene import count
from infra.local.slack_events import LOCAL_TEAM
from tests.integration.slack.slack_harness import (
    CHANNEL,
    JOB_KEY,
    OUTSIDER,
    REQUESTER,
    SlackHarness,
    harness,
    make_harness,
    seed_orders,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures

SIGNER = JobSigner(job_signing_key(JOB_KEY))
BUCKET = "dlq-archive"


def _nothing_archived() -> None:
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket["Name"])


@pytest.mark.parametrize(
    ("action", "value", "answer"),
    [
        (ActionId.PEEK_DISCARD, '{"queue": "orders-dlq"}', "not valid"),
        (ActionId.PEEK_DISCARD, "not json", "not valid"),
        (ActionId.PEEK_DISCARD, '{"queue": "orders-dlq", "message_id": "a b"}', "message id"),
        (
            ActionId.PEEK_DISCARD,
            json.dumps({"queue": "orders-dlq", "message_id": "m" * 1_990}),
            "not valid",  # longer than any button value
        ),
        (ActionId.REPORT_ERROR_DISCARD, '{"queue": "orders-dlq", "error": "Boom"}', "error group"),
        (
            ActionId.REPORT_EXPIRING_EXPORT,
            '{"queue": "orders-dlq", "until": "2026-12-01"}',
            "invalid time",
        ),
        (
            ActionId.REPORT_ERROR_REDRIVE,
            json.dumps({"queue": "orders-dlq", "error": label_digest("x"), "limit": 1}),
            "not valid",
        ),
    ],
)
def test_a_forged_button_value_is_answered_and_changes_nothing(
    harness: SlackHarness, action: ActionId, value: str, answer: str
) -> None:
    # Given a DLQ with messages
    pair = seed_orders(harness.sqs, 2)

    # When a click arrives with a value the app never renders
    response = harness.click(action, value, user=REQUESTER, message_ts="1.1")
    harness.settle()

    # Then it is acked, the clicker is told what is wrong, and nothing is counted or moved
    assert response["statusCode"] == 200
    assert answer in harness.responses()[-1]
    assert "nothing was changed" in harness.responses()[-1]
    assert harness.calls("chat.postMessage") == []
    assert count(harness.sqs, pair.dlq_url) == 2


def test_the_buttons_are_refused_outside_the_allowed_channels(
    aws: LocalAws, slack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**slack_env, "ALLOWED_CHANNELS": CHANNEL}
    with contextmanager(make_harness)(aws, env, monkeypatch) as world:
        pair = seed_orders(world.sqs, 1)
        value = json.dumps({"queue": "orders-dlq", "message_id": "m-1"})
        world.click(ActionId.PEEK_DISCARD, value, user=REQUESTER, message_ts="1", channel="C_X")
        world.settle()
        assert "not enabled in this channel" in world.responses()[-1]
        assert world.calls("chat.postMessage") == []
        assert count(world.sqs, pair.dlq_url) == 1


def _invoke_worker(harness: SlackHarness, event: object) -> None:
    client = boto3.client("lambda", endpoint_url=harness.lambdas.endpoint_url)
    client.invoke(FunctionName="worker", InvocationType="Event", Payload=json.dumps(event))


def test_button_jobs_tampered_with_on_the_way_to_the_worker_run_nothing(
    harness: SlackHarness,
) -> None:
    # Given a DLQ, and Mallory's own sealed jobs of the new buttons
    pair = seed_orders(harness.sqs, 2)
    now = datetime.now(UTC)
    common = {
        "user": OUTSIDER,
        "channel": CHANNEL,
        "team": LOCAL_TEAM,
        "response_url": harness.response_url(),
        "received_at": now.isoformat(),
    }
    discard = SIGNER.seal(
        MessageButtonJob(
            action="discard", queue="orders-dlq", message_id="m", delivery="d1", **common
        ),
        now,
    )
    export = SIGNER.seal(
        ReportButtonJob(
            action="expiring_export",
            queue="orders-dlq",
            date=None,
            time_field=None,
            delivery="d2",
            until=now.isoformat(),
            **common,
        ),
        now,
    )
    # When each is edited after sealing (another user, another action), or is made up
    discard["body"]["user"] = REQUESTER
    export["body"]["action"] = "error_discard"
    made_up = {
        "job": "message_button",
        "body": asdict(
            MessageButtonJob(
                action="discard", queue="orders-dlq", message_id="m", delivery="d3", **common
            )
        ),
    }
    for event in (discard, export, made_up):
        _invoke_worker(harness, event)
    harness.settle()

    # Then the worker refuses each, and nothing is asked, archived or moved
    results = [i.result for i in harness.lambdas.invocations]
    assert results == [
        {"ok": False, "refused": "tampered"},
        {"ok": False, "refused": "tampered"},
        {"ok": False, "refused": "unsigned"},
    ]
    assert harness.calls("chat.postMessage") == [] and harness.responses() == []
    assert count(harness.sqs, pair.dlq_url) == 2


def test_a_sealed_job_with_an_action_no_button_has_is_refused_as_malformed(
    harness: SlackHarness,
) -> None:
    now = datetime.now(UTC)
    job = MessageButtonJob(
        action=cast(Any, "delete_all"),  # what no endpoint seals
        queue="orders-dlq",
        message_id="m",
        user=REQUESTER,
        channel=CHANNEL,
        team=LOCAL_TEAM,
        response_url=harness.response_url(),
        received_at=now.isoformat(),
        delivery="d1",
    )
    _invoke_worker(harness, SIGNER.seal(job, now))
    harness.settle()
    assert [i.result for i in harness.lambdas.invocations] == [
        {"ok": False, "refused": "malformed"}
    ]


@pytest.mark.parametrize(
    ("action", "value", "user", "answer"),
    [
        (
            ActionId.PEEK_DISCARD,
            {"queue": "orders-dlq", "message_id": "m-1"},
            REQUESTER,
            "no archive bucket is configured (ARCHIVE_BUCKET), so nothing was discarded",
        ),
        (
            ActionId.REPORT_ERROR_DISCARD,
            {"queue": "orders-dlq", "error": label_digest("x")},
            REQUESTER,
            "no archive bucket is configured (ARCHIVE_BUCKET), so nothing was discarded",
        ),
        (
            ActionId.REPORT_EXPIRING_EXPORT,
            {"queue": "orders-dlq", "until": "2030-01-01T00:00:00+00:00"},
            "U_BOB",
            "no archive bucket is configured (ARCHIVE_BUCKET), so nothing was exported",
        ),
    ],
)
def test_without_an_archive_bucket_discard_and_export_are_refused_before_anything_is_read(
    harness: SlackHarness, action: ActionId, value: dict[str, str], user: str, answer: str
) -> None:
    # Given a deployment without ARCHIVE_BUCKET (the harness's default), and a DLQ
    pair = seed_orders(harness.sqs, 2)
    before = _receive_counts(harness, pair.dlq_url)

    # When Discard or Export is clicked
    harness.click(action, json.dumps(value), user=user, message_ts="1.1")
    harness.settle()

    # Then the clicker is told why, and nothing was received, archived or deleted
    assert answer in harness.responses()[-1]
    assert harness.calls("chat.postMessage") == []
    assert _receive_counts(harness, pair.dlq_url) == [str(int(c) + 1) for c in before]
    _nothing_archived()


def _receive_counts(harness: SlackHarness, url: str) -> list[str]:
    got = harness.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )
    messages = got.get("Messages", [])
    harness.sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages)
        ],
    )
    return sorted(m["Attributes"]["ApproximateReceiveCount"] for m in messages)
