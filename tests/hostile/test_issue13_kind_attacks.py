"""An adversarial review of issue 13's promise, "each message back to exactly the target that
failed it, never to more", as someone who can send messages into a DLQ or name AWS resources:
forged names, lying envelopes, messages that look like two kinds at once, DLQs shared by several
feeders, payloads shaped as AWS documents them, and the error groups AWS's own error texts make.
Pure: the routing, shaping and grouping rules every surface uses (the integration tests run the
same rules on moto and the local Lambda server)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest

from bot.cli_run import print_summary
from bot.deliveries import payload
from bot.error_groups import error_label, in_error_group, label_digest
from bot.feeder_discovery import on_failure_feeders
from bot.feeder_routing import Delivery, NoDelivery, Shape, route
from bot.feeders import Feeder, Via
from bot.selection import Selection
from bot.slack import blocks
from bot.sqs_model import ReceivedMessage
from bot.state import RunRecord, RunStatus
from tests.unit.fake_sqs import arn_of
from tests.unit.kind_feeders import DLQ, RULE, TOPIC, events_feeder, lambda_feeder, sns_feeder
from tests.unit.kind_messages import (
    arn,
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)
from tests.unit.test_engine_kinds import World

OTHER_RULE = arn("events", "rule/payments-created")
BILLING = arn("sqs", "billing")
SHIP = arn("lambda", "function:ship")
NOTIFY = arn("lambda", "function:notify")


def _delivered(result: Delivery | NoDelivery | None) -> Delivery:
    assert isinstance(result, Delivery), result
    return result


def _refused(result: Delivery | NoDelivery | None, *codes: str) -> NoDelivery:
    assert isinstance(result, NoDelivery), result
    assert result.code in codes, result
    return result


def _on_failure_feeder(function_arn: str, *qualifiers: str) -> Feeder:
    """What discovery makes of a function whose invoke configs of ``qualifiers`` name the DLQ
    as their on-failure destination (ListFunctionEventInvokeConfigs, as the API documents it:
    each config's FunctionArn carries its qualifier, ``$LATEST`` for the function's own)."""
    configuration = {"FunctionName": function_arn.rsplit(":", 1)[-1], "FunctionArn": function_arn}
    configs = [
        {
            "FunctionArn": f"{function_arn}:{qualifier}",
            "DestinationConfig": {"OnSuccess": {}, "OnFailure": {"Destination": DLQ}},
        }
        for qualifier in qualifiers
    ]
    (feeder,) = on_failure_feeders(configuration, configs)
    return feeder


# --- forged EventBridge names: only the rule's own target, exactly as discovered ---------------

_REAL_TARGET = BILLING


@pytest.mark.parametrize(
    ("rule", "target_arn"),
    [
        (OTHER_RULE, _REAL_TARGET),  # another rule's target
        (RULE, _REAL_TARGET.upper()),  # case changed
        (RULE.replace("us-east-1", "eu-west-1"), _REAL_TARGET),  # another region
        (RULE, _REAL_TARGET.replace("123456789012", "999999999999")),  # another account
        (RULE, _REAL_TARGET + ":1"),  # an ARN with a qualifier
        (RULE, _REAL_TARGET.replace("billing", "bіlling")),  # Cyrillic i
        (RULE, _REAL_TARGET + "\u200b"),  # zero-width space
        (RULE, _REAL_TARGET.replace(":", "\uff1a")),  # fullwidth colons
        (RULE, SHIP),  # a function the worker may invoke, but not this rule's target
    ],
)
def test_a_forged_eventbridge_target_is_refused(rule: str, target_arn: str) -> None:
    feeders = [events_feeder(_REAL_TARGET, "billing"), lambda_feeder(SHIP)]
    message = eventbridge_dlq_message(rule_arn=rule, target_arn=target_arn)
    _refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")


def test_padding_around_a_real_target_still_reaches_only_that_target() -> None:
    # Spaces around the names AWS wrote: the names still say this rule's target, and only it
    feeders = [events_feeder(_REAL_TARGET, "billing"), lambda_feeder(SHIP)]
    message = eventbridge_dlq_message(rule_arn=f" {RULE}\t", target_arn=f"{_REAL_TARGET}  ")
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn) == (Via.QUEUE, _REAL_TARGET)


def test_two_targets_of_one_rule_on_one_arn_one_of_them_transformed_are_not_guessed() -> None:
    # Given a rule with two targets on the same function: one sends the event as it is, the
    # other an InputTransformer's text (EventBridge dead-letters the event in both cases)
    plain = events_feeder(SHIP, "ship-plain")
    transformed = events_feeder(
        SHIP, "ship-summary", refusal="its InputTransformer reshapes events"
    )
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=SHIP)
    # Then whichever order discovery found them in, the message is not sent as the plain
    # target's: nothing says which of the two failed it
    for feeders in ([plain, transformed], [transformed, plain]):
        _refused(route(message, feeders, has_sqs_sources=False), "Ambiguous")


def test_two_plain_targets_of_one_rule_on_one_arn_take_one_copy() -> None:
    # Two targets delivering the same event the same way to one function: one copy, to it
    feeders = [events_feeder(SHIP, "ship-a"), events_feeder(SHIP, "ship-b")]
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=SHIP)
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.shape) == (Via.FUNCTION, SHIP, Shape.BODY)


# --- on-failure records: the function, and the qualifier, whose config names this DLQ --------


def test_discovery_keeps_which_qualifiers_name_the_dlq_as_their_on_failure_destination() -> None:
    feeder = _on_failure_feeder(SHIP, "prod", "$LATEST")
    assert feeder.target_arn == SHIP
    assert set(feeder.qualifiers) == {"prod", "$LATEST"}


@pytest.mark.parametrize("qualifier", ["1", "dev", "$LATEST", "", "prod:x", "PROD"])
def test_a_record_naming_a_qualifier_whose_config_is_not_this_dlqs_is_refused(
    qualifier: str,
) -> None:
    # Given only ship's alias "prod" has this DLQ as its on-failure destination
    feeders = [_on_failure_feeder(SHIP, "prod")]
    # When a record names another version or alias of ship (an old version, a test alias)
    message = lambda_on_failure_record({"order": "o-1"}, function_arn=f"{SHIP}:{qualifier}")
    # Then nothing is invoked: that qualifier never dead-letters here
    result = _refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")
    assert qualifier in result.reason


def test_a_record_of_the_qualifier_whose_config_names_the_dlq_goes_to_it() -> None:
    feeders = [_on_failure_feeder(SHIP, "prod")]
    message = lambda_on_failure_record({"order": "o-1"}, function_arn=f"{SHIP}:prod")
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.arn, delivery.shape) == (f"{SHIP}:prod", Shape.REQUEST_PAYLOAD)
    assert payload(message, delivery) == b'{"order":"o-1"}'


def test_an_unqualified_record_is_the_functions_latest() -> None:
    feeders = [_on_failure_feeder(SHIP, "prod")]
    message = lambda_on_failure_record({"order": "o-1"}, function_arn=SHIP)
    _refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")
    latest = [_on_failure_feeder(SHIP, "$LATEST")]
    assert _delivered(route(message, latest, has_sqs_sources=False)).arn == SHIP


# --- a message that looks like two kinds at once -----------------------------------------------


def test_an_async_dlq_event_that_reads_like_an_on_failure_record_goes_to_its_own_function() -> None:
    # Given one DLQ that is notify's DeadLetterConfig and ship's on-failure destination, and
    # notify handles ship's failure records (its events ARE records naming ship)
    feeders = [_on_failure_feeder(SHIP, "$LATEST"), lambda_feeder(NOTIFY)]
    record = lambda_on_failure_record({"order": "o-1"}, function_arn=SHIP + ":$LATEST")
    # When notify fails on one: Lambda writes notify's event with RequestID and ErrorCode
    message = lambda_async_dlq_message(body=record.body)
    # Then it goes back to notify, as stored, not to ship with the record's requestPayload
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.arn, delivery.shape) == (NOTIFY, Shape.BODY)
    assert payload(message, delivery) == record.body.encode()


def test_eventbridge_attributes_on_an_on_failure_record_reach_the_rules_target_only() -> None:
    # A rule's target on ship whose event is a record naming notify: the rule's target failed
    feeders = [events_feeder(SHIP, "ship"), _on_failure_feeder(NOTIFY, "$LATEST")]
    record = lambda_on_failure_record({"x": 1}, function_arn=NOTIFY + ":$LATEST")
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=SHIP, body=record.body)
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.arn, delivery.shape) == (SHIP, Shape.BODY)
    # Forged to name a target of another rule: refused, never read as the record instead
    forged = eventbridge_dlq_message(rule_arn=OTHER_RULE, target_arn=SHIP, body=record.body)
    _refused(route(forged, feeders, has_sqs_sources=False), "UnknownTarget")


# --- lying SNS envelopes -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation", None])
def test_an_envelope_that_is_no_notification_is_not_a_subscriptions_message(
    kind: str | None,
) -> None:
    envelope = json.loads(sns_envelope(topic_arn=TOPIC).body)
    if kind is None:
        del envelope["Type"]
    else:
        envelope["Type"] = kind
    message = sns_envelope(json.dumps(envelope), topic_arn=TOPIC, raw=True)
    feeders = [sns_feeder("lambda", SHIP)]
    _refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")


def test_an_envelope_of_another_topic_never_reaches_the_function_subscription() -> None:
    feeders = [sns_feeder("lambda", SHIP)]
    message = sns_envelope(topic_arn=arn("sns", "payments"))
    _refused(route(message, feeders, has_sqs_sources=False), "UnknownTarget")


def test_an_envelope_inside_a_raw_subscriptions_dlq_goes_to_its_queue_as_stored() -> None:
    # A raw subscription dead-letters the bare message, whatever it reads like: an envelope of
    # another topic is still that subscription's message, and goes only to its queue
    feeders = [sns_feeder("sqs", BILLING, raw=True)]
    message = sns_envelope(
        json.dumps(json.loads(sns_envelope(topic_arn=arn("sns", "x")).body)),
        topic_arn=TOPIC,
        raw=True,
    )
    delivery = _delivered(route(message, feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn, delivery.shape) == (Via.QUEUE, BILLING, Shape.BODY)


# --- the SNS event a subscribed function gets --------------------------------------------------


def test_a_function_subscription_gets_the_event_lambdas_sns_trigger_sends() -> None:
    # Lambda Developer Guide, "Using Lambda with Amazon SNS", example event: Records[0] has
    # EventVersion, EventSubscriptionArn, EventSource "aws:sns" and Sns with Type, MessageId,
    # TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertUrl,
    # UnsubscribeUrl ("Url", where the envelope says "URL") and MessageAttributes {Type, Value}
    feeder = sns_feeder("lambda", SHIP)
    message = sns_envelope(
        '{"order":"o-1"}', topic_arn=TOPIC, subject="hello", attributes={"tenant": "t-1"}
    )
    delivery = _delivered(route(message, [feeder], has_sqs_sources=False))
    event = json.loads(payload(message, delivery))
    (record,) = event["Records"]
    assert set(record) == {"EventVersion", "EventSubscriptionArn", "EventSource", "Sns"}
    assert (record["EventSource"], record["EventSubscriptionArn"]) == ("aws:sns", feeder.name)
    assert set(record["Sns"]) == {
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    }
    envelope = json.loads(message.body)
    assert record["Sns"]["SigningCertUrl"] == envelope["SigningCertURL"]
    assert record["Sns"]["MessageAttributes"] == {"tenant": {"Type": "String", "Value": "t-1"}}
    # Subject is null when the publish had none (as in the event SNS sends then)
    plain = sns_envelope('{"order":"o-1"}', topic_arn=TOPIC)
    assert json.loads(payload(plain, delivery))["Records"][0]["Sns"]["Subject"] is None


def test_an_edit_cannot_turn_a_subscriptions_envelope_into_another_topics() -> None:
    feeder = sns_feeder("lambda", SHIP)
    message = sns_envelope(topic_arn=TOPIC)
    delivery = _delivered(route(message, [feeder], has_sqs_sources=False))
    edited = json.loads(message.body) | {"TopicArn": arn("sns", "payments")}
    with pytest.raises(Exception, match="topic") as raised:
        payload(message, delivery, body=json.dumps(edited))
    assert getattr(raised.value, "code", None) == "UnknownTarget"


# --- error groups from what AWS wrote ----------------------------------------------------------


def _timeout(request_id: str, at: str, took: str) -> str:
    # What Lambda's runtime reports when a function times out: the time, the request id and
    # how long it ran ("<time> <request id> Task timed out after 3.00 seconds")
    return json.dumps({"errorMessage": f"{at} {request_id} Task timed out after {took} seconds"})


def test_one_timeout_from_many_invocations_is_one_error_group() -> None:
    messages = [
        lambda_async_dlq_message(error_code=200, error_message=_timeout(rid, at, took))
        for rid, at, took in [
            ("5d55f7d8-6a2b-4c5e-9f0a-0b1c2d3e4f5a", "2026-12-01T10:00:00.617Z", "3.00"),
            ("8d79c4b9-1111-4c5e-9f0a-0b1c2d3e4f5a", "2026-12-01T11:42:13.001Z", "3.01"),
            ("0a1b2c3d-2222-4c5e-9f0a-0b1c2d3e4f5a", "2026-11-30T23:59:59.999Z", "3.02"),
        ]
    ]
    labels = {error_label(m, None) for m in messages}
    assert len(labels) == 1, labels
    ((label, by_attribute),) = labels
    assert by_attribute and "Task timed out" in label
    # and --error, by the label or its digest, selects all three
    for selector in (label, label_digest(label, by_attribute)):
        assert all(in_error_group(m, selector, None) for m in messages)


def test_different_errors_stay_different_groups() -> None:
    texts = [
        '{"errorMessage":"order o-1 not found","errorType":"KeyError"}',
        '{"errorMessage":"order o-1 not found","errorType":"LookupError"}',
        '{"errorMessage":"quota 3 exceeded","errorType":"QuotaError"}',
        '{"errorMessage":"quota 4 exceeded","errorType":"QuotaError"}',
        "Runtime exited with error: signal: killed",
        "Runtime exited with error: exit status 1",
    ]
    labels = [error_label(lambda_async_dlq_message(error_message=t), None)[0] for t in texts]
    assert len(set(labels)) == len(texts), labels


def test_eventbridge_request_ids_do_not_split_one_error() -> None:
    def message(request_id: str) -> str:
        return (
            "Lambda.TooManyRequestsException: Rate Exceeded. (Service: AWSLambda; Status Code: "
            f"429; Error Code: TooManyRequestsException; Request ID: {request_id}; Proxy: null)"
        )

    found = {
        error_label(
            eventbridge_dlq_message(
                rule_arn=RULE, target_arn=SHIP, error_code="SDK_CLIENT_ERROR", error_message=m
            ),
            None,
        )
        for m in (message("5d55f7d8-6a2b-4c5e-9f0a-0b1c2d3e4f5a"), message("4442587FB7D0A2F9"))
    }
    assert len(found) == 1, found


def test_errors_that_differ_past_the_labels_length_stay_different_groups() -> None:
    # EventBridge's texts for an SQS target name the queue first and the cause last: a long
    # queue name pushes the cause past what a label shows
    queue = arn("sqs", "orders-service-production-" + "x" * 60)

    def message(status: str, code: str, request_id: str) -> str:
        return (
            f"Unable to send the event to {queue} on behalf of rule {RULE} after the retry "
            f"policy ran out. (Service: AmazonSQS; Status Code: {status}; Error Code: {code}; "
            f"Request ID: {request_id}; Proxy: null)"
        )

    def label(status: str, code: str, request_id: str) -> tuple[str, bool]:
        return error_label(
            eventbridge_dlq_message(
                rule_arn=RULE,
                target_arn=queue,
                error_code="SDK_CLIENT_ERROR",
                error_message=message(status, code, request_id),
            ),
            None,
        )

    denied = label("403", "AccessDenied", "5d55f7d8-6a2b-4c5e-9f0a-0b1c2d3e4f5a")
    disabled = label("400", "KMS.DisabledException", "5d55f7d8-6a2b-4c5e-9f0a-0b1c2d3e4f5a")
    assert len(message("403", "AccessDenied", "r")) > 300  # past the label's 200 characters
    assert denied != disabled
    assert len(denied[0]) <= 200 and len(disabled[0]) <= 200
    # and the same error of another request is still the same group
    assert label("403", "AccessDenied", "8d79c4b9-1111-4c5e-9f0a-0b1c2d3e4f5a") == denied


# --- untrusted text a message carries, on the terminal and in Slack ----------------------------

_HOSTILE = (
    "<!channel> <@U123> <https://evil.example|click> `x` \x1b[2J\x1b]0;pwned\x07 \x9b31m "
    "\u202e\r\nforged line"
)
_ACTING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069]")


def test_forged_names_and_errors_of_100_kb_are_inert_and_bounded_on_every_summary() -> None:
    # Given a DLQ of one rule's target and messages an attacker wrote into it: a forged target
    # of 100 KB, forged names full of markup and escapes, and errors AWS "wrote" likewise
    world = World(events_feeder(arn_of("orders-billing"), dlq=arn_of("kind-dlq")))
    real = arn_of("orders-billing")
    huge = _HOSTILE + "y" * 100_000
    stored = [
        eventbridge_dlq_message(
            rule_arn=rule, target_arn=target, error_code="TIMEOUT", error_message=error
        )
        for rule, target, error in [
            (RULE, huge, "ok"),
            (_HOSTILE, real, _HOSTILE),
            (RULE, _HOSTILE, huge),
            (RULE, real, huge),  # the real target: delivered
        ]
    ]
    for message in stored:
        world.put(message)
    # When it is redriven, and summed up on the terminal and on Slack's cards
    report = world.run(selection=Selection())
    assert (report.moved, report.failed) == (1, 3)
    assert world.targets.calls == []  # no function, no topic: only the rule's queue got one
    assert len(world.sqs.bodies(world.billing)) == 1
    out = io.StringIO()
    print_summary(report, out, feeders=world.feeders)
    terminal = out.getvalue()
    note = blocks.dry_run_note(report)
    started = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    run = RunRecord("r1", "kind-dlq", "U1", "U2", RunStatus.DONE, started, started, moved=1)
    _head, details = blocks.outcome_lines(run, report)
    # Then no line of the terminal is driven or forged, and the whole stays short
    for line in terminal.splitlines():
        assert not _ACTING.search(line), line
        assert "forged line" not in line or "\\r\\n" in line
    assert len(terminal) < 20_000
    # And nothing is live in Slack's mrkdwn, each text within a section's limit
    for text in (note, *details):
        assert not re.search(r"<[!@#]|<https?:", text), text
        assert not _ACTING.search(text.replace("\n", " ")), text
        assert len(text) <= 3_000
    # And the error groups the report would count are as inert, and short
    for message in stored:
        label, _ = error_label(message, None)
        # (raw text, which each surface escapes: one line, and short)
        assert len(label) <= 200 and "\n" not in label and "\r" not in label


def test_a_topic_publish_carries_only_the_counter_whatever_the_message_carries() -> None:
    # Given a rule's topic target, and a DLQ message with EventBridge's six attributes plus
    # what an attacker added: Binary and String.Array attributes (SNS's Publish takes
    # DataType, StringValue and BinaryValue only), a forged counter, up to SQS's ten
    topic = arn("sns", "fanout")
    world = World(events_feeder(topic, "fanout", dlq=arn_of("kind-dlq")))
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=topic)
    message.message_attributes.update(
        {
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            "list": {"DataType": "String.Array", "StringValue": '["a"]'},
            "dlq-redrive-count": {"DataType": "Number", "StringValue": "1"},
            "note": {"DataType": "String", "StringValue": _HOSTILE},
        }
    )
    world.put(message)
    report = world.run(selection=Selection())
    # Then one publish, with the counter alone (EventBridge's account of the failure and the
    # rest are no part of the event EventBridge would have published)
    (published,) = world.targets.messages(topic)
    assert published.attributes == {"dlq-redrive-count": {"DataType": "String", "StringValue": "2"}}
    assert published.message == message.body and report.moved == 1


def test_an_objects_address_in_a_functions_error_does_not_split_its_group() -> None:
    # Python's and Java's runtimes name objects by their address, another in each invocation
    texts = [
        '{"errorMessage":"Object of type <Order object at 0x7f3a2c1b4d90> is not JSON '
        'serializable","errorType":"TypeError"}',
        '{"errorMessage":"Object of type <Order object at 0x7fe0119a0b50> is not JSON '
        'serializable","errorType":"TypeError"}',
    ]
    labels = {error_label(lambda_async_dlq_message(error_message=t), None) for t in texts}
    assert len(labels) == 1, labels
    # while a byte a codec names is part of what went wrong
    bytes_ = [
        "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte",
    ]
    labels = {error_label(lambda_async_dlq_message(error_message=t), None) for t in bytes_}
    assert len(labels) == 2, labels


def test_an_error_past_what_aws_writes_is_grouped_by_what_aws_would_have_written() -> None:
    # Lambda cuts ErrorMessage to 1 KB; an attribute of 256 KB was written by someone else, and
    # masking all of it for each of thousands of sampled messages would stall the report: its
    # group is that of its first 2,000 characters
    head = "Task timed out after 3.01 seconds " * 40
    assert 1_000 < len(head) < 2_000
    huge = lambda_async_dlq_message(error_message=head + "1.1 " * 65_000)
    short = lambda_async_dlq_message(error_message=head + "1.1 " * 200)  # 2,160 characters
    assert error_label(huge, None) == error_label(short, None)
    assert error_label(huge, None)[0].startswith("Task timed out after <n> seconds")


def test_error_selects_only_its_group_among_errors_alike_past_the_label() -> None:
    # Given two errors alike in their first 200 characters, each of two requests
    prefix = "Unable to deliver the event to its target " + "x" * 200

    def message(cause: str, request_id: str) -> ReceivedMessage:
        return eventbridge_dlq_message(
            rule_arn=RULE,
            target_arn=SHIP,
            error_code="SDK_CLIENT_ERROR",
            error_message=f"{prefix} Error Code: {cause}; Request ID: {request_id}",
        )

    ids = ("5d55f7d8-6a2b-4c5e-9f0a-0b1c2d3e4f5a", "8d79c4b9-1111-4c5e-9f0a-0b1c2d3e4f5a")
    denied = [message("AccessDenied", i) for i in ids]
    throttled = [message("Throttling", i) for i in ids]
    label, by_attribute = error_label(denied[0], None)
    # Then --error, by the label the report shows or by its digest, selects exactly one
    for selector in (label, label_digest(label, by_attribute)):
        assert [in_error_group(m, selector, None) for m in denied + throttled] == [
            True,
            True,
            False,
            False,
        ]


# --- a raw subscription's message whose publisher named its attributes as Lambda does --------


def _with_lambda_like_attributes() -> ReceivedMessage:
    # An error-notification topic: its publisher sets RequestID and ErrorCode on each message,
    # and raw delivery turns them into SQS message attributes (SNS Developer Guide, "Amazon SNS
    # raw message delivery": message attributes are sent as SQS message attributes)
    return sns_envelope(
        '{"alert":"payment failed"}',
        topic_arn=TOPIC,
        raw=True,
        attributes={"RequestID": "req-42", "ErrorCode": "500"},
    )


def test_a_raw_subscriptions_message_with_lambda_like_attributes_goes_back_to_its_queue() -> None:
    feeders = [sns_feeder("sqs", BILLING, raw=True)]
    delivery = _delivered(route(_with_lambda_like_attributes(), feeders, has_sqs_sources=False))
    assert (delivery.via, delivery.arn) == (Via.QUEUE, BILLING)


def test_lambda_like_attributes_beside_a_raw_subscription_and_a_function_are_not_guessed() -> None:
    # Given a DLQ shared by a raw subscription and a function's async DLQ: the attributes do
    # not tell Lambda's from the publisher's
    feeders = [sns_feeder("sqs", BILLING, raw=True), lambda_feeder(SHIP)]
    _refused(route(_with_lambda_like_attributes(), feeders, has_sqs_sources=False), "Ambiguous")
