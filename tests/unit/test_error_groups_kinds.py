"""The errors EventBridge and Lambda write into the messages they dead-letter name the error
groups (report, --error, Slack's buttons), when ERROR_ATTRIBUTE names none."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.error_groups import error_label, in_error_group, label_digest
from bot.sqs_model import ReceivedMessage
from tests.unit.kind_messages import (
    arn,
    eventbridge_dlq_message,
    lambda_async_dlq_message,
    lambda_on_failure_record,
    sns_envelope,
)

RULE = arn("events", "rule/orders-created")
HANDLER = arn("lambda", "function:orders-handler")


def test_eventbridge_error_code_and_message_name_the_group() -> None:
    message = eventbridge_dlq_message(
        rule_arn=RULE,
        target_arn=HANDLER,
        error_code="SDK_CLIENT_ERROR",
        error_message="Lambda   returned\nfunction error",
    )
    assert error_label(message, None) == ("SDK_CLIENT_ERROR: Lambda returned function error", True)


def test_eventbridge_error_code_alone() -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_code="NO_RESOURCE")
    attributes = dict(message.message_attributes)
    del attributes["ERROR_MESSAGE"]
    assert error_label(replace(message, message_attributes=attributes), None) == (
        "NO_RESOURCE",
        True,
    )


def test_the_configured_error_attribute_still_wins() -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER)
    attributes = {
        **message.message_attributes,
        "error": {"DataType": "String", "StringValue": "Mine"},
    }
    assert error_label(replace(message, message_attributes=attributes), "error") == ("Mine", True)
    # and when the configured attribute is absent, EventBridge's own words are used
    assert error_label(message, "error")[0].startswith("SDK_CLIENT_ERROR")


def test_lambda_async_dlq_error_message_names_the_group_without_its_request_id() -> None:
    a = lambda_async_dlq_message(
        error_message="RequestId: 0b7f4f0e-5f2b-4d6c-9a59-1c2e3f4a5b6c Error: Runtime exited"
    )
    b = lambda_async_dlq_message(
        error_message="RequestId: 11111111-2222-3333-4444-555555555555 Error: Runtime exited"
    )
    assert error_label(a, None) == ("RequestId: <id> Error: Runtime exited", True)
    assert error_label(a, None) == error_label(b, None)


def test_lambda_error_message_that_is_a_function_error_document() -> None:
    message = lambda_async_dlq_message(
        error_message=json.dumps({"errorMessage": "order o-1 missing", "errorType": "KeyError"})
    )
    assert error_label(message, None) == ("KeyError: order o-1 missing", True)


def test_lambda_error_code_alone() -> None:
    message = lambda_async_dlq_message(error_code=429)
    attributes = dict(message.message_attributes)
    del attributes["ErrorMessage"]
    assert error_label(replace(message, message_attributes=attributes), None) == (
        "ErrorCode 429",
        True,
    )


def test_an_on_failure_record_is_grouped_by_its_response_error() -> None:
    message = lambda_on_failure_record(
        function_arn=HANDLER, error_type="ValueError", error_message="bad order"
    )
    assert error_label(message, None) == ("ValueError: bad order", True)


def test_an_on_failure_record_without_an_error_is_grouped_by_its_condition() -> None:
    record = json.loads(lambda_on_failure_record(function_arn=HANDLER).body)
    record["requestContext"]["condition"] = "EventAgeExceeded"
    record["responsePayload"] = None
    message = ReceivedMessage("m", "rh", json.dumps(record))
    assert error_label(message, None) == ("EventAgeExceeded", True)


def test_an_sns_envelope_keeps_its_body_fingerprint() -> None:
    label, by_attribute = error_label(sns_envelope(topic_arn=arn("sns", "orders")), None)
    assert label.startswith("json {")
    assert not by_attribute


def test_a_body_that_only_mentions_record_keys_keeps_its_fingerprint() -> None:
    message = ReceivedMessage("m", "rh", '{"requestContext": 1, "requestPayload": 2}')
    assert error_label(message, None) == ("json {requestContext:num, requestPayload:num}", False)


def test_a_very_long_error_message_makes_a_bounded_label() -> None:
    message = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_message="x" * 5_000)
    label, _ = error_label(message, None)
    assert len(label) <= 300


def test_error_selects_these_groups_by_label_and_digest() -> None:
    a = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_code="THROTTLING")
    b = eventbridge_dlq_message(rule_arn=RULE, target_arn=HANDLER, error_code="TIMEOUT")
    label, by_attribute = error_label(a, None)
    assert in_error_group(a, label, None)
    assert not in_error_group(b, label, None)
    assert in_error_group(a, label_digest(label, by_attribute), None)
