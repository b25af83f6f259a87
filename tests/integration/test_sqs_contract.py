"""One contract for SQS, run against ``SqsGateway`` on moto and against ``FakeSqs``: what the
engine and the catalog rely on (receipt handles, visibility, batches and their failures, FIFO
groups and deduplication, queue look-ups) behaves the same in both, so the fake cannot drift."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from bot.errors import QueueNotFoundError
from bot.sqs_gateway import SqsGateway
from bot.sqs_model import QueueDirectory
from tests.unit.fake_sqs import FakeSqs


@dataclass
class Scene:
    """A gateway and a way to create queues behind it."""

    gateway: QueueDirectory
    kind: str
    fake: FakeSqs | None = None

    def create(
        self, name: str, *, max_message_bytes: int = 262_144, dead_letter_to: str | None = None
    ) -> str:
        if self.fake is not None:
            return self.fake.create(
                name, max_message_bytes=max_message_bytes, dead_letter_to=dead_letter_to
            )
        attributes: dict[Any, str] = {"MaximumMessageSize": str(max_message_bytes)}
        if name.endswith(".fifo"):
            attributes["FifoQueue"] = "true"
        if dead_letter_to is not None:
            target = self.gateway.queue_info(dead_letter_to).arn
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": 5}
            )
        client = boto3.client("sqs")
        return client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


@pytest.fixture(params=["sqs", "fake"])
def scene(request: pytest.FixtureRequest) -> Scene:
    if request.param == "fake":
        fake = FakeSqs()
        return Scene(fake, "fake", fake)
    request.getfixturevalue("aws")  # a clean moto server
    return Scene(SqsGateway(boto3.client("sqs")), "sqs")


def entry(entry_id: str, body: str, **extra: Any) -> dict[str, Any]:
    return {"Id": entry_id, "MessageBody": body, **extra}


def receive(scene: Scene, url: str, n: int = 10, visibility: int = 60) -> list[Any]:
    return scene.gateway.receive(url, max_messages=n, visibility_timeout=visibility, wait_seconds=0)


def test_a_sent_message_comes_back_with_its_attributes(scene: Scene) -> None:
    # Given a queue and a message with a string and a number attribute
    url = scene.create("orders")
    attributes = {
        "tenant": {"DataType": "String", "StringValue": "acme"},
        "tries": {"DataType": "Number", "StringValue": "3"},
    }
    ok, failed = scene.gateway.send_batch(url, [entry("a", "hello", MessageAttributes=attributes)])
    # When it is received
    [message] = receive(scene, url)
    # Then it is the message sent, attributes and all, with its enqueue time
    assert (ok, failed) == (["a"], [])
    assert message.body == "hello"
    assert message.message_attributes["tenant"]["StringValue"] == "acme"
    assert message.message_attributes["tries"]["StringValue"] == "3"
    assert message.sent_timestamp_ms is not None


def test_a_received_message_is_hidden_until_made_visible_again(scene: Scene) -> None:
    # Given a received message
    url = scene.create("orders")
    scene.gateway.send_batch(url, [entry("a", "hello")])
    [first] = receive(scene, url)
    # Then a second receive gets nothing, and the counts say it is in flight
    assert receive(scene, url) == []
    info = scene.gateway.queue_info(url)
    assert (info.visible, info.in_flight) == (0, 1)
    # When its visibility is set to 0
    assert scene.gateway.change_visibility_batch(url, [first.receipt_handle], 0) == []
    # Then it is received again, with a new receipt handle
    [again] = receive(scene, url)
    assert again.message_id == first.message_id
    assert again.receipt_handle != first.receipt_handle


def test_a_delete_with_the_latest_handle_deletes(scene: Scene) -> None:
    url = scene.create("orders")
    scene.gateway.send_batch(url, [entry("a", "hello"), entry("b", "world")])
    received = receive(scene, url)
    assert scene.gateway.delete_batch(url, [m.receipt_handle for m in received]) == []
    info = scene.gateway.queue_info(url)
    assert (info.visible, info.in_flight) == (0, 0)


def test_a_handle_sqs_never_issued_fails_its_entry(scene: Scene) -> None:
    url = scene.create("orders")
    [failure] = scene.gateway.delete_batch(url, ["garbage"])
    assert (failure.entry_id, failure.code) == ("0", "ReceiptHandleIsInvalid")
    [failure] = scene.gateway.change_visibility_batch(url, ["garbage"], 0)
    assert failure.code == "ReceiptHandleIsInvalid"


def test_a_message_over_the_queues_maximum_is_refused_and_not_stored(scene: Scene) -> None:
    url = scene.create("small", max_message_bytes=1024)
    ok, [failure] = scene.gateway.send_batch(url, [entry("a", "x" * 2000)])
    assert ok == []
    assert failure.code == "InvalidParameterValue"
    assert scene.gateway.queue_info(url).visible == 0


def test_a_fifo_message_without_a_group_is_refused(scene: Scene) -> None:
    url = scene.create("orders.fifo")
    ok, [failure] = scene.gateway.send_batch(url, [entry("a", "x", MessageDeduplicationId="d1")])
    assert (ok, failure.code) == ([], "MissingParameter")


def test_fifo_holds_a_group_back_while_one_of_its_messages_is_in_flight(scene: Scene) -> None:
    # Given two messages of group g1 and one of g2, in that order
    url = scene.create("orders.fifo")
    scene.gateway.send_batch(
        url,
        [
            entry(str(i), body, MessageGroupId=group, MessageDeduplicationId=str(i))
            for i, (body, group) in enumerate([("g1a", "g1"), ("g1b", "g1"), ("g2a", "g2")])
        ],
    )
    # When the first is received and kept in flight
    assert [m.body for m in receive(scene, url, n=1)] == ["g1a"]
    # Then g1's next waits for it: only g2's comes
    assert [m.body for m in receive(scene, url)] == ["g2a"]


def test_fifo_drops_a_repeated_deduplication_id_but_answers_success(scene: Scene) -> None:
    url = scene.create("orders.fifo")
    first = entry("a", "one", MessageGroupId="g", MessageDeduplicationId="same")
    again = entry("b", "two", MessageGroupId="g", MessageDeduplicationId="same")
    assert scene.gateway.send_batch(url, [first]) == (["a"], [])
    assert scene.gateway.send_batch(url, [again]) == (["b"], [])
    assert [m.body for m in receive(scene, url)] == ["one"]


def test_queues_are_found_by_name_url_and_arn_with_their_dead_letter_sources(
    scene: Scene,
) -> None:
    # Given a DLQ with two sources, and an unrelated queue
    dlq = scene.create("orders-dlq")
    sources = {
        scene.create("orders", dead_letter_to=dlq),
        scene.create("refunds", dead_letter_to=dlq),
    }
    other = scene.create("other")
    # Then each look-up finds them
    info = scene.gateway.queue_info(dlq)
    assert scene.gateway.queue_url("orders-dlq") == dlq
    assert scene.gateway.url_for_arn(info.arn) == dlq
    assert set(scene.gateway.dead_letter_sources(dlq)) == sources
    assert set(scene.gateway.list_queue_urls()) == {dlq, other, *sources}
    assert {scene.gateway.queue_info(u).dead_letter_target_arn for u in sources} == {info.arn}
    assert scene.gateway.queue_info(other).dead_letter_target_arn is None


def test_a_queue_that_does_not_exist_is_said_so(scene: Scene) -> None:
    url = scene.create("orders")
    with pytest.raises(QueueNotFoundError):
        scene.gateway.queue_url("no-such-queue")
    missing = url.replace("orders", "gone")
    with pytest.raises(QueueNotFoundError):
        scene.gateway.queue_info(missing)
    with pytest.raises(QueueNotFoundError):
        scene.gateway.url_for_arn(scene.gateway.queue_info(url).arn.replace("orders", "gone"))
