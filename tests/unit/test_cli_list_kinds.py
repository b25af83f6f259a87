"""``dlq-redrive list`` of every DLQ kind, rendered from Dlq values (no server): the KIND column,
each source named precisely, the table kept to 100 columns with long sources under their row,
every name escaped for the terminal, and one line per feeder kind discovery could not read."""

from __future__ import annotations

from bot.catalog import Dlq
from bot.cli_list import WIDTH, list_lines
from bot.feeders import Feeder, Kind
from bot.inspection import summarize
from bot.kind_words import unread_lines
from bot.sqs_model import QueueInfo
from tests.unit.kind_feeders import events_feeder, lambda_feeder, sns_feeder
from tests.unit.kind_messages import arn

ACCOUNT = "arn:aws:sqs:us-east-1:123456789012"
TOPIC = arn("sns", "orders-topic")
SUBSCRIPTION_ID = "0d6b7c9e-1111-2222-3333-444455556666"
SUBSCRIPTION = f"{TOPIC}:{SUBSCRIPTION_ID}"


def queue(name: str, visible: int = 0) -> QueueInfo:
    return QueueInfo(
        name=name,
        url=f"http://sqs/{name}",
        arn=f"{ACCOUNT}:{name}",
        fifo=name.endswith(".fifo"),
        visible=visible,
        in_flight=0,
        delayed=0,
        dead_letter_target_arn=None,
    )


def sns(dlq: str, endpoint: str = f"{ACCOUNT}:orders-billing", protocol: str = "sqs") -> Feeder:
    return sns_feeder(
        protocol,
        endpoint,
        topic=TOPIC,
        subscription_id=SUBSCRIPTION_ID,
        dlq=f"{ACCOUNT}:{dlq}",
    )


def events(dlq: str, rule: str = "orders-rule", target_id: str = "billing") -> Feeder:
    return events_feeder(
        arn("lambda", "function:billing"), target_id, rule=rule, dlq=f"{ACCOUNT}:{dlq}"
    )


def function(dlq: str, name: str = "orders-handler", *, on_failure: bool = False) -> Feeder:
    return lambda_feeder(
        arn("lambda", f"function:{name}"), on_failure=on_failure, dlq=f"{ACCOUNT}:{dlq}"
    )


def render(*dlqs: Dlq, width: int = WIDTH) -> list[str]:
    return list_lines(summarize(list(dlqs)), ["-"] * len(dlqs), width)


def row_of(lines: list[str], name: str) -> tuple[str, list[str]]:
    """The row of DLQ ``name`` and the lines under it (up to the next row)."""
    index = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
    under = []
    for line in lines[index + 1 :]:
        if not line.startswith(" "):
            break
        under.append(line)
    return lines[index], under


def unwrapped(lines: list[str]) -> str:
    """The lines under a row glued back without their spaces (a line is wrapped at a space, or
    inside an ARN longer than the width): compare with ``squeezed`` text."""
    return "".join(line.strip() for line in lines).replace(" ", "")


def squeezed(text: str) -> str:
    return text.replace(" ", "")


def test_each_kind_has_its_kind_and_precise_sources_next_to_plain_sqs_dlqs() -> None:
    # Given a plain SQS DLQ and one DLQ of each other kind, and one fed by SQS and SNS
    plain = Dlq(queue("payments-dlq", 3), (queue("payments"),))
    by_sns = Dlq(queue("orders-sub-dlq", 5), (), (sns("orders-sub-dlq"),))
    by_rule = Dlq(queue("rule-dlq"), (), (events("rule-dlq"),))
    by_lambda = Dlq(
        queue("fn-dlq"),
        (),
        (function("fn-dlq"), function("fn-dlq", "refunds", on_failure=True)),
    )
    mixed = Dlq(queue("mixed-dlq"), (queue("mixed"),), (sns("mixed-dlq"),))

    # When the list is rendered
    lines = render(plain, by_sns, by_rule, by_lambda, mixed)

    # Then the header has a KIND column and no line is wider than 100 columns
    assert lines[0].split() == [
        "DLQ", "KIND", "VISIBLE", "IN", "FLIGHT", "FIFO", "NEXT", "EXPIRY", "SOURCES",
    ]  # fmt: skip
    assert max(len(line) for line in lines) <= WIDTH
    # And each row says its kind
    assert row_of(lines, "payments-dlq")[0].split()[:2] == ["payments-dlq", "sqs"]
    assert row_of(lines, "orders-sub-dlq")[0].split()[:2] == ["orders-sub-dlq", "sns"]
    assert row_of(lines, "rule-dlq")[0].split()[:2] == ["rule-dlq", "events"]
    assert row_of(lines, "fn-dlq")[0].split()[:2] == ["fn-dlq", "lambda"]
    assert row_of(lines, "mixed-dlq")[0].split()[:2] == ["mixed-dlq", "sqs+sns"]
    # And a plain SQS DLQ's source stays on its row, as before
    assert row_of(lines, "payments-dlq")[0].endswith("payments")
    # And the subscription is named by its ARN and its endpoint (under the row: too long)
    row, under = row_of(lines, "orders-sub-dlq")
    assert "(1 below)" in row
    assert squeezed(f"sns subscription {SUBSCRIPTION} → sqs orders-billing") in unwrapped(under)
    # And the rule target by bus/rule and target id, and where it delivers
    row, under = row_of(lines, "rule-dlq")
    assert squeezed("events rule default/orders-rule target billing → lambda billing") in (
        squeezed(row) + unwrapped(under)
    )
    # And the functions by name, async DLQ or on-failure destination
    row, under = row_of(lines, "fn-dlq")
    shown = "\n".join([row, *under])
    assert "lambda orders-handler (async DLQ)" in shown
    assert "lambda refunds (on-failure destination)" in shown
    # And a mixed DLQ names its source queue and its subscription
    row, under = row_of(lines, "mixed-dlq")
    assert "sqsqueuemixed" in unwrapped(under)
    assert SUBSCRIPTION in unwrapped(under)


def test_a_narrow_width_wraps_every_source_under_its_row_whole() -> None:
    # Given a DLQ fed by a subscription whose ARN is longer than the width
    dlq = Dlq(queue("orders-sub-dlq"), (), (sns("orders-sub-dlq"),))

    # When rendered on 60 columns
    lines = render(dlq, width=60)

    # Then no source line is wider (the row's own cells are what they are), and the wrapped
    # lines hold the whole description
    row, under = row_of(lines, "orders-sub-dlq")
    assert max(len(line) for line in under) <= 60
    assert "(1 below)" in row
    assert squeezed(f"sns subscription {SUBSCRIPTION} → sqs orders-billing") in unwrapped(under)


def test_hostile_names_are_escaped_for_the_terminal() -> None:
    # Given feeders named with an escape sequence, a CR, U+202E and Slack markup
    hostile = "\x1b[2J\x1b]0;pwned\x07<!channel>\r\u202e"
    dlq = Dlq(
        queue("orders-dlq"),
        (),
        (
            sns("orders-dlq", endpoint=f"https://example.com/{hostile}", protocol="https"),
            events("orders-dlq", rule=f"r{hostile}", target_id=f"t{hostile}"),
            function("orders-dlq", name=f"f{hostile}"),
        ),
    )

    # When rendered
    lines = render(dlq)

    # Then no control character reaches the terminal: each is shown as its escape
    text = "\n".join(lines)
    assert all(ch.isprintable() for ch in text.replace("\n", ""))
    assert "\\x1b[2J" in text and "\\r" in text and "\\u202e" in text
    assert "<!channel>" in unwrapped(row_of(lines, "orders-dlq")[1])  # text, on a terminal


def test_each_kind_discovery_could_not_read_gets_its_line() -> None:
    # Given discovery could not read SNS or Lambda
    unread = ((Kind.LAMBDA, "AccessDenied: no lambda:ListFunctions"), (Kind.SNS, "AccessDenied"))

    # When worded
    lines = unread_lines(unread)

    # Then one line each, in kind order, saying what was not read and why
    assert lines == [
        "sns subscriptions not read: AccessDenied (a DLQ only they feed is not listed)",
        "lambda functions not read: AccessDenied: no lambda:ListFunctions "
        "(a DLQ only they feed is not listed)",
    ]
