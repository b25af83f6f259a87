"""Forged Edit & resend submissions: a modal's private_metadata comes back from the client, so
anyone can send a view_submission with any metadata, any view id and any body (Slack signs the
request, not what the app put in the view). Each forgery is refused on the ack path, on the
field, and nothing is asked, posted, sent or deleted."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.slack.protocol import JobSigner
from infra.local.scene import create_pair, put_in_dlq
from tests.integration.slack.edit_world import EditWorld, dlq_messages, field_error
from tests.integration.slack.slack_harness import (
    APPROVER,
    JOB_KEY,
    REQUESTER,
    SlackHarness,
    harness,
    slack_env,
)

__all__ = ["harness", "slack_env"]  # fixtures

ORDER = json.dumps({"order": 7, "status": "failed"})
EDITED = json.dumps({"order": 7, "status": "retry"})


def _opened(harness: SlackHarness) -> tuple[EditWorld, dict[str, Any]]:
    pair = create_pair(harness.sqs, "orders")
    put_in_dlq(harness.sqs, pair, [ORDER])
    world = EditWorld(harness, pair)
    (message,) = dlq_messages(harness.sqs, pair.dlq_url)
    return world, world.open_form(message.message_id, user=REQUESTER)


def _form(view: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(view["private_metadata"])["body"])


def _resealed(form: dict[str, Any], *, key: str = JOB_KEY, age: timedelta = timedelta()) -> str:
    """``form`` sealed as the worker seals it, with ``key``, ``age`` ago."""
    return JobSigner(key.encode()).seal_form(form, datetime.now(UTC) - age, 3_600)


def _tampered(view: dict[str, Any]) -> str:
    # The sealed text edited in place: a bigger size allowance, the signature kept
    envelope = json.loads(view["private_metadata"])
    envelope["body"]["max_bytes"] = 10_000_000
    return json.dumps(envelope)


FORGERIES: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "tampered": (_tampered, "not one this app opened"),
    "another key": (
        lambda view: _resealed(_form(view), key="another-key-of-at-least-32-bytes!!"),
        "not one this app opened",
    ),
    "expired": (
        lambda view: _resealed(_form(view), age=timedelta(hours=2)),
        "older than 60 minutes",
    ),
    "another view's": (
        lambda view: _resealed({**_form(view), "view_id": "V99999999"}),
        "not one this app opened",
    ),
    "none": (lambda view: "", "not one this app opened"),
    "not json": (lambda view: "{'job': 'form'", "not one this app opened"),
}


def _nothing_happened(harness: SlackHarness, world: EditWorld) -> None:
    harness.settle()
    assert harness.calls("chat.postMessage") == []  # no approval card
    assert [m.body for m in dlq_messages(harness.sqs, world.pair.dlq_url)] == [ORDER]
    assert dlq_messages(harness.sqs, world.pair.source_url) == []
    # the worker was handed nothing after filling the modal
    assert len(harness.lambdas.calls_to("worker")) == 1


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_form_is_refused_on_the_ack_path(harness: SlackHarness, forgery: str) -> None:
    # Given a filled modal
    world, view = _opened(harness)
    make, words = FORGERIES[forgery]

    # When it comes back with forged metadata
    forged = {**view, "private_metadata": make(view)}
    answer = world.submit(forged, EDITED, user=REQUESTER)

    # Then it is refused on the field, and nothing is asked or sent
    assert words in field_error(answer)
    _nothing_happened(harness, world)


def test_another_person_cannot_submit_someone_s_form(harness: SlackHarness) -> None:
    # Given Alice's filled modal
    world, view = _opened(harness)

    # When Bob (who may read bodies too) submits it as his
    answer = world.submit(view, EDITED, user=APPROVER)

    # Then it is refused: an edit is asked for by the person who read the body
    assert "opened by someone else" in field_error(answer)
    _nothing_happened(harness, world)


def test_a_form_sealed_for_one_message_cannot_be_turned_into_another(
    harness: SlackHarness,
) -> None:
    # Given Alice's modal for one message, and another message in the DLQ
    world, view = _opened(harness)
    put_in_dlq(harness.sqs, world.pair, ['{"order": 8}'])
    other = next(
        m.message_id
        for m in dlq_messages(harness.sqs, world.pair.dlq_url)
        if m.message_id != _form(view)["message_id"]
    )

    # When the form's message id is swapped for the other's (the signature kept)
    envelope = json.loads(view["private_metadata"])
    envelope["body"]["message_id"] = other
    answer = world.submit(
        {**view, "private_metadata": json.dumps(envelope)}, EDITED, user=REQUESTER
    )

    # Then it is refused, and neither message was touched
    assert "not one this app opened" in field_error(answer)
    harness.settle()
    assert harness.calls("chat.postMessage") == []
    assert len(dlq_messages(harness.sqs, world.pair.dlq_url)) == 2
