"""The catalog with feeders: a queue an SNS subscription, an EventBridge target or a Lambda
function dead-letters into is a DLQ (discovered, accepted by name), labelled by its kinds, its
sources named precisely; the feeder scan is read once per catalog and what it could not read is
kept. Against the in-memory SQS and a feeder directory that counts its reads."""

from __future__ import annotations

import pytest

from bot.catalog import Dlq, DlqCatalog
from bot.config import EngineSettings
from bot.errors import NotADeadLetterQueueError
from bot.feeders import Feeder, FeederScan, Kind
from tests.unit.fake_sqs import FakeSqs, arn_of
from tests.unit.kind_feeders import lambda_feeder, sns_feeder

TOPIC = "arn:aws:sns:us-east-1:123:orders"
SUBSCRIPTION_ID = "0f5ad0e6"
SUBSCRIPTION = f"{TOPIC}:{SUBSCRIPTION_ID}"
FUNCTION = "arn:aws:lambda:us-east-1:123:function:orders-handler"


class CountingDirectory:
    """A ``FeederDirectory`` with fixed feeders that counts how often it was read."""

    def __init__(self, *feeders: Feeder, unread: tuple[tuple[Kind, str], ...] = ()) -> None:
        self.scan = FeederScan(tuple(feeders), unread)
        self.reads = 0

    def feeders(self) -> FeederScan:
        self.reads += 1
        return self.scan


def sns_into(dlq: str, endpoint: str = "orders-billing") -> Feeder:
    return sns_feeder(
        "sqs", arn_of(endpoint), topic=TOPIC, subscription_id=SUBSCRIPTION_ID, dlq=arn_of(dlq)
    )


def lambda_into(dlq: str) -> Feeder:
    return lambda_feeder(FUNCTION, dlq=arn_of(dlq))


def settings(queues: str = "*") -> EngineSettings:
    return EngineSettings.from_env({"DLQ_QUEUES": queues})


@pytest.fixture
def sqs() -> FakeSqs:
    fake = FakeSqs()
    plain_dlq = fake.create("payments-dlq")
    fake.create("payments", dead_letter_to=plain_dlq)
    mixed_dlq = fake.create("orders-dlq")
    fake.create("orders", dead_letter_to=mixed_dlq)
    fake.create("orders-billing")
    fake.create("subscription-dlq")
    fake.create("handler-dlq")
    fake.create("unrelated")
    return fake


def test_discovery_lists_queues_only_feeders_dead_letter_into(sqs: FakeSqs) -> None:
    # Given an SNS subscription and a Lambda function that each dead-letter into a queue no
    # queue names in a RedrivePolicy, and an SNS subscription into a DLQ that also has a source
    directory = CountingDirectory(
        sns_into("subscription-dlq"), lambda_into("handler-dlq"), sns_into("orders-dlq")
    )
    catalog = DlqCatalog(sqs, settings(), directory)
    # When the watched DLQs are discovered
    found = {dlq.name: dlq for dlq in catalog.watched()}
    # Then each queue something dead-letters into is there, with its kinds and sources
    assert sorted(found) == ["handler-dlq", "orders-dlq", "payments-dlq", "subscription-dlq"]
    assert found["subscription-dlq"].kind_label() == "sns"
    assert found["handler-dlq"].kind_label() == "lambda"
    assert found["orders-dlq"].kind_label() == "sqs+sns"
    assert found["orders-dlq"].kinds() == (Kind.SQS, Kind.SNS)
    assert found["payments-dlq"].kind_label() == "sqs"
    assert found["orders-dlq"].describe_sources() == [
        "orders",
        f"sns subscription {SUBSCRIPTION} → sqs orders-billing",
    ]
    assert found["handler-dlq"].describe_sources() == ["lambda orders-handler (async DLQ)"]
    assert catalog.watched_names() == sorted(found)


def test_a_queue_only_a_feeder_dead_letters_into_is_accepted_by_name(sqs: FakeSqs) -> None:
    catalog = DlqCatalog(sqs, settings(), CountingDirectory(lambda_into("handler-dlq")))
    dlq = catalog.get("handler-dlq")
    assert dlq.sources == () and dlq.feeders == (lambda_into("handler-dlq"),)
    # A queue nothing dead-letters into is still refused, the feeders named in the words
    with pytest.raises(NotADeadLetterQueueError, match="any queue, subscription, rule target"):
        catalog.get("unrelated")


def test_without_a_feeder_directory_only_sqs_sources_count(sqs: FakeSqs) -> None:
    catalog = DlqCatalog(sqs, settings())
    assert [dlq.name for dlq in catalog.watched()] == ["orders-dlq", "payments-dlq"]
    with pytest.raises(NotADeadLetterQueueError):
        catalog.get("handler-dlq")
    assert catalog.unread == ()


def test_the_feeder_scan_is_read_once_and_what_it_could_not_read_is_kept(sqs: FakeSqs) -> None:
    # Given a directory that could not read EventBridge
    directory = CountingDirectory(
        lambda_into("handler-dlq"), unread=((Kind.EVENTS, "AccessDenied: events:ListRules"),)
    )
    catalog = DlqCatalog(sqs, settings("handler-dlq,orders-dlq"), directory)
    # When every DLQ is looked up and listed, several times
    catalog.watched()
    catalog.get("handler-dlq")
    catalog.watched_names()
    # Then the feeders were read once, and the unread kind is kept with its reason
    assert directory.reads == 1
    assert catalog.unread == ((Kind.EVENTS, "AccessDenied: events:ListRules"),)


def test_a_feeder_naming_a_queue_list_queues_did_not_show_is_looked_up_by_arn() -> None:
    # Given a queue ListQueues does not list (another account's, say) that a function names
    sqs = FakeSqs()
    sqs.create("elsewhere-dlq")
    hidden = FakeSqs.list_queue_urls
    sqs.list_queue_urls = lambda: [u for u in hidden(sqs) if "elsewhere" not in u]  # type: ignore[method-assign]
    # and a function into a queue that is gone
    catalog = DlqCatalog(
        sqs,
        settings(),
        CountingDirectory(lambda_into("elsewhere-dlq"), lambda_into("deleted-dlq")),
    )
    # Then discovery finds it by its ARN, and skips the one that is gone
    assert [dlq.name for dlq in catalog.watched()] == ["elsewhere-dlq"]


def test_dlq_labels_when_nothing_is_known_to_feed_it() -> None:
    sqs = FakeSqs()
    url = sqs.create("orphan-dlq")
    assert Dlq(sqs.info(url), ()).kind_label() == "sqs"
    assert Dlq(sqs.info(url), ()).describe_sources() == []
