"""Issue 13's DLQ kinds drilled by an on-call engineer on a big scene, every figure the CLI shows
set beside an exact ledger of what was seeded.

    .venv/bin/python -m infra.local.incident_drill_kinds --out /tmp/drill13   # ~6 min, 2 cores

Exit status 0 when every figure agreed with the ledger, else 1. Each check (name, shown,
expected, ok) is in ``DIR/checks.json``; each CLI output in ``DIR/NN-name.txt`` (command, exit
status, seconds); ``DIR/ledger.json`` the seeded counts; ``DIR/localstack.json`` what LocalStack
did itself. Not part of ``make test`` (too long); its findings are tests in
``tests/integration/test_drill13_findings.py``.

Where the messages come from (LocalStack 2026.3 with SERVICES=sqs,sns,events, no Docker):

- **SNS dead-letters for real.** Topic ``order-events`` has three subscriptions: queue
  ``order-emails`` (RedrivePolicy -> ``order-emails-dlq``), queue ``order-analytics`` (no DLQ,
  the subscriber that must get nothing back) and function ``order-notifier`` (FilterPolicy
  ``notify=yes``, RedrivePolicy -> ``order-notifier-dlq``). ``order-emails`` is deleted before
  the publishes and LocalStack's Lambda is off, so LocalStack's SNS itself puts the envelopes
  into both DLQs; ``order-emails`` is created again before the redrive (the fix).
- **EventBridge does not**: LocalStack's provider logs ``TargetDeliveryFailure`` and drops the
  event (a probe rule shows it, ``localstack.json``), so ``billing-events-dlq`` (rule
  ``invoice-due``, target ``billing`` -> queue ``billing-inbox``; target ``audit`` -> queue
  ``audit-inbox`` has no DLQ) is seeded with messages shaped as AWS documents them
  (``tests/unit/kind_messages.py``): THROTTLING and NO_PERMISSIONS.
- **Lambda** needs Docker in LocalStack: functions live on the project's local Lambda server
  (``infra/local/lambda_server.py``): ``thumbnailer`` (DeadLetterConfig -> ``thumbnailer-dlq``),
  ``invoice-pdf`` (on-failure destination ``invoice-pdf-failures``), ``order-notifier``, and
  ``resizer`` (no DLQ, must get nothing). Their DLQs are seeded as documented.
- **Plain SQS**: ``payments`` -> ``payments-dlq`` and ``refunds`` -> ``refunds-dlq``, dead-lettered
  by LocalStack's SQS (maxReceiveCount 1).

The engineer's story: ``list`` (KIND, counts, sources) and ``peek``; dry runs while the
subscription's queue is still deleted and ``order-notifier`` not yet deployed again (both must
show their messages as failed, with AWS's code, not as "would move": the second did not before
this drill, ``tests/integration/test_drill13_findings.py``); a redrive before the fix (refused,
nothing lost, nothing left hidden); the fix; dry runs with ``--error`` / ``--where`` / ``--date``
per kind; redrives with ``--deadline`` then again, ``--limit``, ``--where``, ``--force`` for the
NO_PERMISSIONS events once the rule's permission is fixed; after each, what every target received
(each seeded message exactly once, the other subscriber, the rule's other target and another
function nothing). An invoke whose answer the local Lambda server lost (it happens under load,
a few in thousands) is unconfirmed and kept: the engineer runs the same command again, and the
drill checks both runs add up.

SentTimestamp cannot be backdated on SQS: the days D-2, D-1, D are in the bodies (``occurredAt``
of the SNS messages' payload and the SQS bodies, the events' ``time``, the thumbnails'
``uploadedAt``). An SNS envelope's own ``Timestamp`` is set by SNS at publish (today), and its
payload is a JSON string inside ``Message``, which ``--time-field`` cannot reach: SNS DLQs are
selected by ``--where`` on the envelope (``Subject``) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bench.seed import depth
from infra.local.incident_drill import Steps
from infra.local.kinds_scene import KindsBuilder, works
from infra.local.lambda_server import ACCOUNT, REGION, LambdaServer, function_arn
from infra.local.scene import drain, queue_arn
from tests.unit.kind_messages import (
    as_send_entry,
    eventbridge_dlq_message,
    eventbridge_event,
    lambda_async_dlq_message,
    lambda_on_failure_record,
)

SEED = 13
# LocalStack takes a 12-digit access key id as the account: the local Lambda server's, so that
# every ARN of the scene is in one account, as in AWS.
ACCESS_KEY_AS_ACCOUNT = {"AWS_ACCESS_KEY_ID": ACCOUNT}

TOPIC = "order-events"
EMAILS, EMAILS_DLQ, ANALYTICS = "order-emails", "order-emails-dlq", "order-analytics"
NOTIFIER, NOTIFIER_DLQ = "order-notifier", "order-notifier-dlq"
RULE, BILLING_TARGET, AUDIT_TARGET = "invoice-due", "billing", "audit"
BILLING, BILLING_DLQ, AUDIT = "billing-inbox", "billing-events-dlq", "audit-inbox"
THUMBNAILER, THUMBNAILER_DLQ, RESIZER = "thumbnailer", "thumbnailer-dlq", "resizer"
INVOICE_PDF, INVOICE_PDF_FAILURES = "invoice-pdf", "invoice-pdf-failures"
PAYMENTS, PAYMENTS_DLQ, REFUNDS, REFUNDS_DLQ = "payments", "payments-dlq", "refunds", "refunds-dlq"

N_ORDERS = 10_000  # published to the topic: every one dead-letters into order-emails-dlq
NOTIFY_SHARE = 0.2  # of which these match the notifier's filter: its DLQ
N_EVENTS = 3_000
NO_PERMISSIONS_SHARE = 0.2
N_THUMBS = 5_000
N_RECORDS = 500
N_PAYMENTS, N_REFUNDS = 4_000, 1_500
DAY_WEIGHTS = (0.25, 0.35, 0.40)  # D-2, D-1, D

THROTTLING_MESSAGE = "Request rate exceeded for the target queue billing-inbox"
NO_PERMISSIONS_MESSAGE = "EventBridge is not allowed to send to billing-inbox"
THUMB_ERRORS = (
    ({"errorMessage": "cannot identify image file", "errorType": "UnidentifiedImageError"}, 0.7),
    ({"errorMessage": "image too large: 9000x9000", "errorType": "DecompressionBombError"}, 0.3),
)


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def _batches(items: list[Any], size: int = 10) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _parallel(work: Callable[[list[Any]], Any], items: list[Any], workers: int = 8) -> None:
    with ThreadPoolExecutor(workers) as pool:
        for result in pool.map(work, list(_batches(items))):
            del result


class Ledger:
    """What was seeded, per DLQ: one dict per message with the fields the checks select by."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.days = [today - timedelta(days=2), today - timedelta(days=1), today]
        self.rng = random.Random(SEED)
        self.messages: dict[str, list[dict[str, Any]]] = {}

    def day(self) -> date:
        return self.rng.choices(self.days, DAY_WEIGHTS)[0]

    def stamp(self, day: date) -> str:
        second = self.rng.randrange(86_400)
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=second)
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def seeded(self) -> dict[str, int]:
        """How many messages were seeded into each DLQ."""
        return {dlq: len(msgs) for dlq, msgs in self.messages.items()}

    def count(self, dlq: str, **where: Any) -> int:
        return sum(all(m.get(k) == v for k, v in where.items()) for m in self.messages[dlq])


# ---------------------------------------------------------------------------------------- seeding


def build(sqs: Any, sns: Any, events: Any, lambdas: LambdaServer, ledger: Ledger) -> dict[str, Any]:
    """Create the scene and let LocalStack (SNS, SQS) dead-letter what it can; seed the rest."""
    scene = KindsBuilder(sqs, lambdas, sns=sns, events=events)
    scene.queues(EMAILS, EMAILS_DLQ, ANALYTICS, NOTIFIER_DLQ, BILLING, BILLING_DLQ, AUDIT)
    scene.queues(THUMBNAILER_DLQ, INVOICE_PDF_FAILURES, PAYMENTS_DLQ, REFUNDS_DLQ)
    urls, arns = scene.urls, scene.arns
    for source, dlq in ((PAYMENTS, PAYMENTS_DLQ), (REFUNDS, REFUNDS_DLQ)):
        redrive = json.dumps({"deadLetterTargetArn": arns[dlq], "maxReceiveCount": "1"})
        urls[source] = sqs.create_queue(
            QueueName=source, Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"}
        )["QueueUrl"]
        arns[source] = queue_arn(sqs, urls[source])

    topic = scene.create_topic(TOPIC)
    subscriptions = {
        EMAILS: scene.subscribe_to(topic, "sqs", arns[EMAILS], EMAILS_DLQ),
        ANALYTICS: scene.subscribe_to(topic, "sqs", arns[ANALYTICS], None),
        NOTIFIER: scene.subscribe_to(topic, "lambda", function_arn(NOTIFIER), NOTIFIER_DLQ),
    }
    sns.set_subscription_attributes(
        SubscriptionArn=subscriptions[NOTIFIER],
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"notify": ["yes"]}),
    )
    rule_arn = scene.put_rule(
        RULE,
        "com.example.billing",
        [
            scene.target(BILLING_TARGET, arns[BILLING], BILLING_DLQ),
            scene.target(AUDIT_TARGET, arns[AUDIT]),
        ],
    )
    # order-notifier is not deployed yet (its redeploy is the fix, in ``steps``).
    scene.function(THUMBNAILER, dead_letter=THUMBNAILER_DLQ)
    scene.function(INVOICE_PDF, on_failure=INVOICE_PDF_FAILURES)
    scene.function(RESIZER)

    # The mail service's queue is gone (deleted by a bad deploy): every delivery dead-letters.
    sqs.delete_queue(QueueUrl=urls[EMAILS])
    timings: dict[str, float] = {}
    seeds: tuple[tuple[str, Callable[[], None]], ...] = (
        ("SNS publishes (LocalStack dead-letters)", lambda: _publish_orders(sns, topic, ledger)),
        (
            "EventBridge DLQ",
            lambda: _seed_events(sqs, urls[BILLING_DLQ], rule_arn, arns[BILLING], ledger),
        ),
        ("Lambda DLQs", lambda: _seed_lambda(sqs, urls, ledger)),
        ("SQS DLQs (LocalStack dead-letters)", lambda: _seed_sqs(sqs, urls, ledger)),
    )
    for part, seed in seeds:
        began = time.monotonic()
        seed()
        timings[part] = round(time.monotonic() - began, 1)
        print(f"seeded {part} in {timings[part]} s", flush=True)
    return {
        "urls": urls,
        "arns": arns,
        "topic": topic,
        "rule": rule_arn,
        "subs": subscriptions,
        "timings": timings,
    }


def _publish_orders(sns: Any, topic: str, ledger: Ledger) -> None:
    orders = []
    for n in range(N_ORDERS):
        day = ledger.day()
        notify = ledger.rng.random() < NOTIFY_SHARE
        subject = "Order shipped" if ledger.rng.random() < 0.7 else "Order cancelled"
        tenant = ledger.rng.choice(("acme", "globex", "initech"))
        payload = {"orderId": f"ord-{n}", "tenant": tenant, "occurredAt": ledger.stamp(day)}
        orders.append(
            {
                "id": f"ord-{n}",
                "day": day.isoformat(),
                "subject": subject,
                "notify": notify,
                "tenant": tenant,
                "payload": json.dumps(payload),
            }
        )
    ledger.messages[EMAILS_DLQ] = orders
    ledger.messages[NOTIFIER_DLQ] = [o for o in orders if o["notify"]]

    def publish(batch: list[dict[str, Any]]) -> None:
        entries = []
        for i, order in enumerate(batch):
            attributes = {"tenant": {"DataType": "String", "StringValue": order["tenant"]}}
            if order["notify"]:
                attributes["notify"] = {"DataType": "String", "StringValue": "yes"}
            entries.append(
                {
                    "Id": f"e{i}",
                    "Message": order["payload"],
                    "Subject": order["subject"],
                    "MessageAttributes": attributes,
                }
            )
        answer = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SNS refused publishes: {answer['Failed']}")

    _parallel(publish, orders)


def _seed_events(sqs: Any, url: str, rule_arn: str, target_arn: str, ledger: Ledger) -> None:
    records, entries = [], []
    for n in range(N_EVENTS):
        day = ledger.day()
        code = "NO_PERMISSIONS" if ledger.rng.random() < NO_PERMISSIONS_SHARE else "THROTTLING"
        tenant = ledger.rng.choice(("acme", "globex"))
        detail = {"invoiceId": f"inv-{n}", "tenant": tenant, "amount": ledger.rng.randrange(1, 999)}
        event = {
            **eventbridge_event(detail),
            "source": "com.example.billing",
            "detail-type": "Invoice Due",
            "time": ledger.stamp(day),
        }
        message = eventbridge_dlq_message(
            event,
            rule_arn=rule_arn,
            target_arn=target_arn,
            error_code=code,
            error_message=THROTTLING_MESSAGE if code == "THROTTLING" else NO_PERMISSIONS_MESSAGE,
            retry_attempts=185 if code == "THROTTLING" else 0,
        )
        records.append({"id": f"inv-{n}", "day": day.isoformat(), "code": code, "tenant": tenant})
        entries.append(as_send_entry(message))
    ledger.messages[BILLING_DLQ] = records
    _send_all(sqs, url, entries)


def _seed_lambda(sqs: Any, urls: dict[str, str], ledger: Ledger) -> None:
    thumbs, entries = [], []
    for n in range(N_THUMBS):
        day = ledger.day()
        error = ledger.rng.choices([e for e, _ in THUMB_ERRORS], [w for _, w in THUMB_ERRORS])[0]
        bucket = ledger.rng.choice(("photos", "photos-eu"))
        payload = {"bucket": bucket, "key": f"img-{n}.heic", "uploadedAt": ledger.stamp(day)}
        thumbs.append(
            {
                "id": f"img-{n}.heic",
                "day": day.isoformat(),
                "bucket": bucket,
                "error": f"{error['errorType']}: {error['errorMessage']}",
            }
        )
        entries.append(
            as_send_entry(lambda_async_dlq_message(payload, error_message=json.dumps(error)))
        )
    ledger.messages[THUMBNAILER_DLQ] = thumbs
    _send_all(sqs, urls[THUMBNAILER_DLQ], entries)

    records, entries = [], []
    for n in range(N_RECORDS):
        payload = {"invoiceId": f"pdf-{n}", "template": "standard"}
        records.append({"id": f"pdf-{n}"})
        entries.append(
            as_send_entry(
                lambda_on_failure_record(
                    payload,
                    function_arn=function_arn(INVOICE_PDF) + ":$LATEST",
                    error_type="FontNotFound",
                    error_message="font 'Inter' is not installed",
                )
            )
        )
    ledger.messages[INVOICE_PDF_FAILURES] = records
    _send_all(sqs, urls[INVOICE_PDF_FAILURES], entries)


def _seed_sqs(sqs: Any, urls: dict[str, str], ledger: Ledger) -> None:
    """Sent to the source and received twice (maxReceiveCount 1): LocalStack's SQS moves each
    into the DLQ with its DeadLetterQueueSourceArn."""
    for source, dlq, count in (
        (PAYMENTS, PAYMENTS_DLQ, N_PAYMENTS),
        (REFUNDS, REFUNDS_DLQ, N_REFUNDS),
    ):
        records, entries = [], []
        for n in range(count):
            day = ledger.day()
            body = {"id": f"{source}-{n}", "occurredAt": ledger.stamp(day), "amount": n % 500}
            records.append({"id": body["id"], "day": day.isoformat()})
            entries.append({"MessageBody": json.dumps(body)})
        ledger.messages[dlq] = records
        _send_all(sqs, urls[source], entries)
        deadline = time.monotonic() + 180

        def receive(
            _: int,
            source: str = source,
            dlq: str = dlq,
            count: int = count,
            until: float = deadline,
        ) -> None:
            while time.monotonic() < until:
                got = sqs.receive_message(
                    QueueUrl=urls[source], MaxNumberOfMessages=10, VisibilityTimeout=0
                ).get("Messages")
                if not got and depth(sqs, urls[dlq]) >= count:
                    return

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(receive, range(4)))


def _send_all(sqs: Any, url: str, entries: list[dict[str, Any]]) -> None:
    def send(batch: list[dict[str, Any]]) -> None:
        answer = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), **e} for i, e in enumerate(batch)]
        )
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused sends: {answer['Failed']}")

    _parallel(send, entries)


def wait_depth(sqs: Any, url: str, expected: int, timeout: float = 180.0) -> int:
    """The queue's depth once it reaches ``expected`` (SNS delivers asynchronously), or when it
    stops growing."""
    deadline = time.monotonic() + timeout
    last, still = -1, 0
    while time.monotonic() < deadline:
        now = depth(sqs, url)
        if now >= expected:
            return now
        still = still + 1 if now == last else 0
        if still >= 10:
            return now
        last = now
        time.sleep(1)
    return depth(sqs, url)


def probe_eventbridge_dead_letter(sqs: Any, events: Any) -> dict[str, Any]:
    """Does LocalStack's EventBridge dead-letter an event its target cannot take? (It does
    not: 2026.3 logs TargetDeliveryFailure and drops it.)"""
    url = sqs.create_queue(QueueName="probe-events-dlq")["QueueUrl"]
    events.put_rule(Name="probe-missing", EventPattern=json.dumps({"source": ["probe"]}))
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:probe-missing-queue"
    events.put_targets(
        Rule="probe-missing",
        Targets=[
            {
                "Id": "missing",
                "Arn": missing,
                "DeadLetterConfig": {"Arn": queue_arn(sqs, url)},
                "RetryPolicy": {"MaximumRetryAttempts": 0},
            }
        ],
    )
    events.put_events(Entries=[{"Source": "probe", "DetailType": "p", "Detail": "{}"}])
    time.sleep(4)
    got = depth(sqs, url)
    events.remove_targets(Rule="probe-missing", Ids=["missing"])
    events.delete_rule(Name="probe-missing")
    sqs.delete_queue(QueueUrl=url)
    return {"eventbridge_target_missing_dead_lettered": got}


# ------------------------------------------------------------------------------------------ drill


class Drill(Steps):
    """Runs the CLI as an engineer would, keeps each output (issue 10's drill's ``Steps.cli``),
    and checks each figure."""

    def __init__(self, out: Path, env: dict[str, str]) -> None:
        super().__init__(out, env)
        self.checks: list[dict[str, Any]] = []
        self.figures: list[str] = []

    def check(self, name: str, shown: Any, expected: Any, ok: bool | None = None) -> bool:
        agrees = shown == expected if ok is None else ok
        self.checks.append({"name": name, "shown": shown, "expected": expected, "ok": agrees})
        print(f"  {'OK  ' if agrees else 'FAIL'} {name}: shown {shown!r}, expected {expected!r}")
        return agrees

    def figure(self, line: str) -> None:
        print(f"  figure: {line}", flush=True)
        self.figures.append(line)


def _plain(value: Any) -> Any:
    """Sets (of the checks) as sorted lists in checks.json."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(type(value).__name__)


def _json(stdout: str) -> Any:
    return json.loads(stdout.strip().splitlines()[-1])


def _rows(text: str) -> dict[str, int]:
    """The summary's ``label  N`` rows (the text an engineer reads), label -> N."""
    rows: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.rstrip().rsplit(None, 1)
        if len(parts) == 2 and parts[1].replace(",", "").isdigit():
            rows.setdefault(parts[0].strip(), int(parts[1].replace(",", "")))
    return rows


def _visible(sqs: Any, url: str) -> int:
    """ApproximateNumberOfMessages: what a receive can get now (in flight apart)."""
    return int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    return drain(sqs, url, empty_receives=3, wait_seconds=1)


def main() -> int:
    from infra.local.localstack import localstack

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/incident-drill-kinds"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(datetime.now(UTC).date())
    started = time.monotonic()
    lambdas = LambdaServer({})
    with localstack(services="sqs,sns,events") as ls, lambdas:
        os.environ.update({**ls.env, **ACCESS_KEY_AS_ACCOUNT})
        sqs, sns, events = _client("sqs"), _client("sns"), _client("events")
        localstack_facts = probe_eventbridge_dead_letter(sqs, events)
        scene = build(sqs, sns, events, lambdas, ledger)
        urls = scene["urls"]
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            **ls.env,
            **ACCESS_KEY_AS_ACCOUNT,
            "AWS_ENDPOINT_URL_LAMBDA": lambdas.endpoint_url,
            "DLQ_QUEUES": "*",
            "TIMEZONE": "UTC",
            "MAX_REDRIVES": "3",
            "COLUMNS": "200",
        }
        drill = Drill(out, env)
        # SNS delivers asynchronously: wait until LocalStack has dead-lettered every publish.
        for dlq in (EMAILS_DLQ, NOTIFIER_DLQ):
            drill.check(
                f"LocalStack's SNS dead-lettered every failed delivery into {dlq}",
                wait_depth(sqs, urls[dlq], len(ledger.messages[dlq])),
                len(ledger.messages[dlq]),
            )
        seeded_s = time.monotonic() - started
        drill.figure(f"scene built and seeded in {seeded_s:.0f} s")
        analytics_at_publish = len(_received(sqs, urls[ANALYTICS]))
        drill.check(
            "order-analytics got every publish (SNS fan-out)", analytics_at_publish, N_ORDERS
        )
        sample = sqs.receive_message(
            QueueUrl=urls[EMAILS_DLQ],
            MaxNumberOfMessages=1,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )["Messages"][0]
        localstack_facts["sns_dlq_message"] = {
            "attributes": sample.get("Attributes"),
            "message_attributes": sample.get("MessageAttributes"),
            "envelope_keys": sorted(json.loads(sample["Body"])),
        }
        (out / "localstack.json").write_text(json.dumps(localstack_facts, indent=1))
        (out / "ledger.json").write_text(json.dumps(ledger.seeded(), indent=1))
        steps(drill, sqs, lambdas, ledger, scene)
        drill.figure(f"whole drill {time.monotonic() - started:.0f} s")
    (out / "checks.json").write_text(json.dumps(drill.checks, indent=1, default=_plain))
    failed = [c for c in drill.checks if not c["ok"]]
    print(f"\n{len(drill.checks) - len(failed)} of {len(drill.checks)} checks agree")
    for check in failed:
        print(f"  FAILED {check['name']}: shown {check['shown']!r}, expected {check['expected']!r}")
    for line in drill.figures:
        print(f"  {line}")
    return 1 if failed else 0


def steps(
    drill: Drill, sqs: Any, lambdas: LambdaServer, ledger: Ledger, scene: dict[str, Any]
) -> None:
    urls, count = scene["urls"], ledger.count
    d1 = (ledger.today - timedelta(days=1)).isoformat()
    # Same counts the ledger has, per DLQ.
    seeded = ledger.seeded()

    # 1. list: KIND, counts, sources
    code, text, _ = drill.cli("list", "list", "--no-expiry")
    drill.check("list exit status", code, 0)
    code, listed_text, _ = drill.cli("list-json", "--json", "list", "--no-expiry")
    listed = {row["name"]: row for row in _json(listed_text)["dlqs"]}
    kinds = {
        EMAILS_DLQ: "sns",
        NOTIFIER_DLQ: "sns",
        BILLING_DLQ: "events",
        THUMBNAILER_DLQ: "lambda",
        INVOICE_PDF_FAILURES: "lambda",
        PAYMENTS_DLQ: "sqs",
        REFUNDS_DLQ: "sqs",
    }
    drill.check("list: the DLQs listed", sorted(listed), sorted(kinds))
    for dlq, kind in kinds.items():
        row = listed.get(dlq, {})
        drill.check(f"list {dlq} KIND", row.get("kind"), kind)
        drill.check(f"list {dlq} VISIBLE", row.get("visible"), seeded[dlq])
        line = next((ln for ln in text.splitlines() if ln.startswith(dlq + " ")), "")
        cells = line.split()
        drill.check(f"list (text) {dlq} KIND and VISIBLE", cells[1:3], [kind, str(seeded[dlq])])
    feeders = {dlq: [f["name"] for f in row.get("feeders", [])] for dlq, row in listed.items()}
    subs = scene["subs"]
    drill.check(
        f"list {EMAILS_DLQ} names its subscription", feeders.get(EMAILS_DLQ), [subs[EMAILS]]
    )
    drill.check(
        f"list {NOTIFIER_DLQ} names its subscription", feeders.get(NOTIFIER_DLQ), [subs[NOTIFIER]]
    )
    drill.check(
        f"list {BILLING_DLQ} names bus/rule/target",
        feeders.get(BILLING_DLQ),
        [f"default/{RULE}/{BILLING_TARGET}"],
    )
    drill.check(
        f"list {THUMBNAILER_DLQ} names its function", feeders.get(THUMBNAILER_DLQ), [THUMBNAILER]
    )
    drill.check(
        f"list {INVOICE_PDF_FAILURES} names its function",
        feeders.get(INVOICE_PDF_FAILURES),
        [INVOICE_PDF],
    )
    drill.check(
        "list: the sources of the plain DLQs",
        [listed.get(d, {}).get("sources") for d in (PAYMENTS_DLQ, REFUNDS_DLQ)],
        [[PAYMENTS], [REFUNDS]],
    )

    # peek: what feeds the DLQ (its messages do not say), and the messages stay visible
    code, text, _ = drill.cli("peek-sns-lambda", "peek", NOTIFIER_DLQ, "-n", "3")
    drill.check("peek exit status", code, 0)
    drill.check("peek names the subscription that feeds the DLQ", subs[NOTIFIER] in text, True)
    drill.check(
        "peek: every message visible again at once",
        _visible(sqs, urls[NOTIFIER_DLQ]),
        seeded[NOTIFIER_DLQ],
    )

    # 2. dry runs, per kind, with the selections an engineer would try
    def dry(name: str, dlq: str, *selection: str) -> dict[str, Any]:
        code, stdout, _ = drill.cli(name, "--json", "redrive", dlq, "--dry-run", *selection)
        drill.check(f"{name} exit status", code, 0)
        shown: dict[str, Any] = _json(stdout)
        return shown

    def destinations(shown: dict[str, Any]) -> int:
        return int(sum(shown.get("by_destination", {}).values()))

    def refused_dry(name: str, what: str, dlq: str, reason: str) -> None:
        """A dry run while ``dlq``'s target is missing: every message would fail with AWS's
        ``reason``, none would move."""
        code, stdout, _ = drill.cli(name, "--json", "redrive", dlq, "--dry-run")
        shown = _json(stdout)
        drill.check(f"{what}: exit status", code, 1)
        drill.check(f"{what}: would move", destinations(shown), 0)
        drill.check(
            f"{what}: failed by reason", shown.get("failure_reasons"), {reason: seeded[dlq]}
        )

    cancelled = count(EMAILS_DLQ, subject="Order cancelled")
    # Before the fix: the subscription's queue is still gone. The dry run says so.
    refused_dry(
        "dry-sns-queue-endpoint-missing",
        "dry sns(queue), endpoint missing",
        EMAILS_DLQ,
        "QueueDoesNotExist",
    )
    # An engineer who redrives anyway: refused, nothing lost, nothing left hidden.
    code, stdout, _ = drill.cli(
        "redrive-sns-queue-endpoint-missing", "--json", "redrive", EMAILS_DLQ
    )
    shown = _json(stdout)
    drill.check("redrive, endpoint missing: exit status", code, 1)
    drill.check("redrive, endpoint missing: moved", shown.get("moved"), 0)
    drill.check("redrive, endpoint missing: failed", shown.get("failed"), seeded[EMAILS_DLQ])
    drill.check(
        "redrive, endpoint missing: DLQ untouched", depth(sqs, urls[EMAILS_DLQ]), seeded[EMAILS_DLQ]
    )
    drill.check(
        "redrive, endpoint missing: every message visible again at once",
        _visible(sqs, urls[EMAILS_DLQ]),
        seeded[EMAILS_DLQ],
    )
    # The endpoint is fixed: the mail service's queue is back.
    urls[EMAILS] = sqs.create_queue(QueueName=EMAILS)["QueueUrl"]
    shown = dry("dry-sns-queue", EMAILS_DLQ)
    drill.check("dry sns(queue) matched", shown.get("matched"), seeded[EMAILS_DLQ])
    drill.check("dry sns(queue) would move", destinations(shown), seeded[EMAILS_DLQ])
    drill.check("dry sns(queue) destinations", len(shown.get("by_destination", {})), 1)
    shown = dry("dry-sns-queue-where", EMAILS_DLQ, "--where", "Subject=Order cancelled")
    drill.check("dry sns(queue) --where Subject matched", shown.get("matched"), cancelled)
    drill.check("dry sns(queue) --where Subject would move", destinations(shown), cancelled)
    drill.check(
        "dry sns(queue) --where Subject not selected",
        shown.get("scanned", 0) - shown.get("matched", 0),
        seeded[EMAILS_DLQ] - cancelled,
    )
    # Before order-notifier is deployed again: the dry run says its copies would be refused.
    refused_dry(
        "dry-sns-lambda-function-missing",
        "dry sns(lambda), function missing",
        NOTIFIER_DLQ,
        "ResourceNotFoundException",
    )
    lambdas.register(NOTIFIER, works)
    shown = dry("dry-sns-lambda", NOTIFIER_DLQ)
    drill.check("dry sns(lambda) matched", shown.get("matched"), seeded[NOTIFIER_DLQ])
    drill.check("dry sns(lambda) would move", destinations(shown), seeded[NOTIFIER_DLQ])

    throttled, denied = (
        count(BILLING_DLQ, code="THROTTLING"),
        count(BILLING_DLQ, code="NO_PERMISSIONS"),
    )
    shown = dry("dry-events", BILLING_DLQ)
    # "matched" counts what the selection takes and could move; needs-a-human apart (as poison).
    drill.check("dry events scanned", shown.get("scanned"), seeded[BILLING_DLQ])
    drill.check("dry events matched (movable)", shown.get("matched"), throttled)
    drill.check("dry events would move (THROTTLING)", destinations(shown), throttled)
    drill.check("dry events needs a human (NO_PERMISSIONS)", shown.get("needs_human"), denied)
    drill.check(
        "dry events needs-human reasons add up",
        sum(shown.get("needs_human_reasons", {}).values()),
        denied,
    )
    code, text, _ = drill.cli("dry-events-text", "redrive", BILLING_DLQ, "--dry-run")
    rows = _rows(text)
    drill.check("dry events (text) scanned", rows.get("scanned"), seeded[BILLING_DLQ])
    drill.check("dry events (text) matched", rows.get("matched"), throttled)
    drill.check(
        "dry events (text) needs a human (target)", rows.get("needs a human (target)"), denied
    )
    drill.check("dry events (text) skipped", rows.get("skipped (kept in DLQ)"), denied)
    drill.check("dry events (text) would move", rows.get("would move"), throttled)
    shown = dry("dry-events-error", BILLING_DLQ, "--error", f"THROTTLING: {THROTTLING_MESSAGE}")
    drill.check("dry events --error THROTTLING matched", shown.get("matched"), throttled)
    drill.check("dry events --error THROTTLING would move", destinations(shown), throttled)
    shown = dry(
        "dry-events-error-denied",
        BILLING_DLQ,
        "--error",
        f"NO_PERMISSIONS: {NO_PERMISSIONS_MESSAGE}",
    )
    drill.check("dry events --error NO_PERMISSIONS matched (movable)", shown.get("matched"), 0)
    drill.check(
        "dry events --error NO_PERMISSIONS not selected",
        shown.get("skipped_detail", {}).get("out_of_window"),
        throttled,
    )
    drill.check("dry events --error NO_PERMISSIONS would move", destinations(shown), 0)
    drill.check("dry events --error NO_PERMISSIONS needs a human", shown.get("needs_human"), denied)
    shown = dry("dry-events-day", BILLING_DLQ, "--date", d1, "--time-field", "time")
    drill.check(
        "dry events --date D-1 matched (movable)",
        shown.get("matched"),
        count(BILLING_DLQ, day=d1, code="THROTTLING"),
    )
    drill.check(
        "dry events --date D-1 needs a human",
        shown.get("needs_human"),
        count(BILLING_DLQ, day=d1, code="NO_PERMISSIONS"),
    )
    drill.check(
        "dry events --date D-1 would move",
        destinations(shown),
        count(BILLING_DLQ, day=d1, code="THROTTLING"),
    )
    shown = dry("dry-events-where", BILLING_DLQ, "--where", "detail.tenant=globex")
    drill.check(
        "dry events --where detail.tenant would move",
        destinations(shown),
        count(BILLING_DLQ, tenant="globex", code="THROTTLING"),
    )

    bomb = THUMB_ERRORS[1][0]
    bomb_label = f"{bomb['errorType']}: {bomb['errorMessage']}"
    shown = dry("dry-lambda-error", THUMBNAILER_DLQ, "--error", bomb_label)
    drill.check(
        "dry lambda --error matched", shown.get("matched"), count(THUMBNAILER_DLQ, error=bomb_label)
    )
    shown = dry("dry-lambda-where", THUMBNAILER_DLQ, "--where", "bucket=photos-eu")
    drill.check(
        "dry lambda --where bucket matched",
        shown.get("matched"),
        count(THUMBNAILER_DLQ, bucket="photos-eu"),
    )
    shown = dry("dry-lambda-day", THUMBNAILER_DLQ, "--date", d1, "--time-field", "uploadedAt")
    drill.check(
        "dry lambda --date D-1 matched", shown.get("matched"), count(THUMBNAILER_DLQ, day=d1)
    )
    shown = dry("dry-sqs-day", PAYMENTS_DLQ, "--date", d1, "--time-field", "occurredAt")
    drill.check("dry sqs --date D-1 matched", shown.get("matched"), count(PAYMENTS_DLQ, day=d1))
    drill.check("dry sqs --date D-1 would move", destinations(shown), count(PAYMENTS_DLQ, day=d1))
    drill.check("after the dry runs: nothing invoked", len(lambdas.invocations), 0)

    # 3. the redrives, each back to exactly the target that failed it
    redrives(drill, sqs, lambdas, ledger, scene)


def redrives(
    drill: Drill, sqs: Any, lambdas: LambdaServer, ledger: Ledger, scene: dict[str, Any]
) -> None:
    urls, subs, count = scene["urls"], scene["subs"], ledger.count
    seeded = ledger.seeded()
    d1 = (ledger.today - timedelta(days=1)).isoformat()

    def redrive(name: str, dlq: str, *selection: str) -> tuple[int, dict[str, Any], float]:
        code, stdout, took = drill.cli(name, "--json", "redrive", dlq, *selection)
        shown: dict[str, Any] = _json(stdout)
        return code, shown, took

    def throughput(what: str, shown: dict[str, Any], moved: int, took: float) -> None:
        drill.figure(
            f"{what}: {moved:,} in {took:.1f} s wall ({moved / took:.0f} msg/s incl. CLI start); "
            f"the CLI says {shown.get('msgs_per_s')} msg/s over {shown.get('duration_s')} s"
        )
        duration = shown.get("duration_s") or 0
        true_rate = round(moved / duration, 1) if duration else 0.0
        drill.check(
            f"{what}: msgs_per_s shown = moved / duration",
            shown.get("msgs_per_s"),
            true_rate,
            ok=abs((shown.get("msgs_per_s") or 0) - true_rate) <= 0.2,
        )

    def exactly_once(target: str, got: str, dlq: str, ids: Counter[str], item: str) -> None:
        """``target`` got each of ``dlq``'s seeded messages (``ids``: how often each id arrived)
        exactly once, and nothing else."""
        drill.check(f"{target} {got}", sum(ids.values()), seeded[dlq])
        drill.check(f"{target}: duplicates", sum(n - 1 for n in ids.values()), 0)
        drill.check(
            f"{target}: every seeded {item} exactly once",
            set(ids) == {m["id"] for m in ledger.messages[dlq]},
            True,
        )

    def invoked(name: str, before: int) -> list[Any]:
        lambdas.wait_idle(timeout=120)
        return lambdas.calls_to(name)[before:]

    def to_function(what: str, dlq: str, function: str, *selection: str) -> int:
        """A redrive to a function; an invoke whose answer was lost is unconfirmed, kept in the
        DLQ, and the engineer runs the same command again. Returns the messages moved in all."""
        before = len(invoked(function, 0))
        slug = what.replace("(", "-").replace(")", "").replace(" ", "-")
        code, shown, took = redrive(f"redrive-{slug}", dlq, *selection)
        moved = shown.get("moved") or 0
        unconfirmed = shown.get("unconfirmed") or 0
        calls = invoked(function, before)
        throughput(f"{what} -> {function} (local Lambda server)", shown, moved, took)
        drill.check(f"redrive {what}: moved = invocations", moved, len(calls))
        drill.check(
            f"redrive {what}: moved + unconfirmed = matched",
            moved + unconfirmed,
            shown.get("matched"),
        )
        drill.check(
            f"redrive {what}: exit status (1 if unconfirmed)", code, 1 if unconfirmed else 0
        )
        if unconfirmed:
            drill.figure(
                f"{what}: {unconfirmed} of {shown.get('matched')} unconfirmed "
                f"({shown.get('unconfirmed_reason')}); kept in the DLQ; run again"
            )
            drill.check(
                f"{what}: the unconfirmed are visible in the DLQ",
                _visible(sqs, urls[dlq]) >= unconfirmed,
                True,
            )
            code, again, _ = redrive(f"redrive-{slug}-again", dlq, *selection)
            drill.check(f"redrive {what} again: exit status", code, 0)
            drill.check(
                f"redrive {what} again: moved the unconfirmed", again.get("moved"), unconfirmed
            )
            moved += again.get("moved") or 0
        return int(moved)

    # 3a. SNS subscription (queue endpoint) -> order-emails only: first within a time budget
    # (an engineer's --deadline), then the same command again for the rest
    code, shown, took = redrive("redrive-sns-queue-deadline", EMAILS_DLQ, "--deadline", "6")
    drill.check("redrive sns(queue) --deadline 6 exit status (stopped, run again)", code, 3)
    first = shown.get("moved") or 0
    drill.check(
        "redrive sns(queue) --deadline: moved + left in the DLQ = seeded",
        first + depth(sqs, urls[EMAILS_DLQ]),
        seeded[EMAILS_DLQ],
    )
    drill.check("order-emails holds what the stopped run moved", depth(sqs, urls[EMAILS]), first)
    code, shown, took = redrive("redrive-sns-queue", EMAILS_DLQ)
    drill.check("redrive sns(queue) exit status", code, 0)
    drill.check(
        "redrive sns(queue) moved (the rest)", shown.get("moved"), seeded[EMAILS_DLQ] - first
    )
    throughput("sns subscription -> its queue", shown, shown.get("moved") or 0, took)
    got = _received(sqs, urls[EMAILS])
    envelopes = [json.loads(m["Body"]) for m in got]
    ids = Counter(json.loads(e["Message"])["orderId"] for e in envelopes)
    by_id = {m["id"]: m for m in ledger.messages[EMAILS_DLQ]}

    def envelope_as_published(envelope: dict[str, Any]) -> bool:
        order = by_id[json.loads(envelope["Message"])["orderId"]]
        return bool(
            envelope.get("Subject") == order["subject"] and envelope["Message"] == order["payload"]
        )

    drill.check(
        "order-emails: envelope Subject and payload as published",
        sum(not envelope_as_published(e) for e in envelopes),
        0,
    )
    exactly_once("order-emails", "received", EMAILS_DLQ, ids, "order")
    drill.check("order-analytics (the other subscriber) received", depth(sqs, urls[ANALYTICS]), 0)
    drill.check(f"{EMAILS_DLQ} depth after", depth(sqs, urls[EMAILS_DLQ]), 0)
    drill.check(
        "order-notifier invoked by the queue subscription's redrive", len(invoked(NOTIFIER, 0)), 0
    )

    # 3b. SNS subscription (function endpoint) -> order-notifier only, as SNS's Lambda event
    moved = to_function("sns(lambda)", NOTIFIER_DLQ, NOTIFIER)
    drill.check("redrive sns(lambda) moved in all", moved, seeded[NOTIFIER_DLQ])
    calls = invoked(NOTIFIER, 0)
    records = [c.payload["Records"][0] for c in calls]
    ids = Counter(json.loads(r["Sns"]["Message"])["orderId"] for r in records)
    exactly_once("order-notifier", "invocations", NOTIFIER_DLQ, ids, "order")
    drill.check(
        "order-notifier events as SNS gives them (EventSource, subscription ARN)",
        {(r.get("EventSource"), r.get("EventSubscriptionArn")) for r in records},
        {("aws:sns", subs[NOTIFIER])},
    )
    drill.check(
        "order-notifier: every invoke asynchronous", {c.invocation_type for c in calls}, {"Event"}
    )
    notified = {m["id"]: m for m in ledger.messages[NOTIFIER_DLQ]}

    def as_published(sns_event: dict[str, Any]) -> bool:
        order = notified[json.loads(sns_event["Message"])["orderId"]]
        tenant = {"Type": "String", "Value": order["tenant"]}
        return bool(
            sns_event.get("Subject") == order["subject"]
            and sns_event["Message"] == order["payload"]
            and sns_event.get("MessageAttributes", {}).get("tenant") == tenant
        )

    drill.check(
        "order-notifier events: Subject, payload and attributes as published",
        sum(not as_published(r["Sns"]) for r in records),
        0,
    )
    drill.check("order-analytics received", depth(sqs, urls[ANALYTICS]), 0)
    drill.check("order-emails received from the function's redrive", depth(sqs, urls[EMAILS]), 0)

    # 3c. EventBridge target -> billing-inbox only; NO_PERMISSIONS stays for a human
    throttled, denied = (
        count(BILLING_DLQ, code="THROTTLING"),
        count(BILLING_DLQ, code="NO_PERMISSIONS"),
    )
    code, shown, took = redrive("redrive-events", BILLING_DLQ)
    drill.check("redrive events exit status (needs-human kept, nothing went wrong)", code, 0)
    drill.check("redrive events moved", shown.get("moved"), throttled)
    drill.check("redrive events needs a human", shown.get("needs_human"), denied)
    throughput("events target -> its queue", shown, shown.get("moved") or 0, took)
    got = _received(sqs, urls[BILLING])
    ids = Counter(json.loads(m["Body"])["detail"]["invoiceId"] for m in got)
    drill.check("billing-inbox received", len(got), throttled)
    drill.check("billing-inbox: duplicates", sum(n - 1 for n in ids.values()), 0)
    drill.check(
        "billing-inbox: exactly the THROTTLING events",
        set(ids) == {m["id"] for m in ledger.messages[BILLING_DLQ] if m["code"] == "THROTTLING"},
        True,
    )
    drill.check(
        "billing-inbox: EventBridge's DLQ attributes not carried to the target",
        sorted(
            {k for m in got for k in m.get("MessageAttributes", {})}
            & {"RULE_ARN", "TARGET_ARN", "ERROR_CODE"}
        ),
        [],
    )
    drill.check("audit-inbox (the rule's other target) received", depth(sqs, urls[AUDIT]), 0)
    drill.check(
        f"{BILLING_DLQ} depth after (NO_PERMISSIONS kept)", depth(sqs, urls[BILLING_DLQ]), denied
    )
    # The rule's permission is fixed; as the summary says: redrive them with --force.
    code, shown, took = redrive("redrive-events-force", BILLING_DLQ, "--force")
    drill.check("redrive events --force exit status", code, 0)
    drill.check("redrive events --force moved", shown.get("moved"), denied)
    got = _received(sqs, urls[BILLING])
    drill.check(
        "billing-inbox: exactly the NO_PERMISSIONS events after --force",
        sorted(json.loads(m["Body"])["detail"]["invoiceId"] for m in got),
        sorted(m["id"] for m in ledger.messages[BILLING_DLQ] if m["code"] == "NO_PERMISSIONS"),
    )
    drill.check("audit-inbox received after --force", depth(sqs, urls[AUDIT]), 0)

    # 3d. Lambda async DLQ -> thumbnailer only, one bucket first, then the rest
    eu = count(THUMBNAILER_DLQ, bucket="photos-eu")
    moved = to_function(
        "lambda --where", THUMBNAILER_DLQ, THUMBNAILER, "--where", "bucket=photos-eu"
    )
    drill.check("redrive lambda --where moved", moved, eu)
    calls = invoked(THUMBNAILER, 0)
    drill.check(
        "thumbnailer: only photos-eu so far", {c.payload["bucket"] for c in calls}, {"photos-eu"}
    )
    code, shown, took = redrive("redrive-lambda-limit", THUMBNAILER_DLQ, "--limit", "777")
    limited = (shown.get("moved") or 0) + (shown.get("unconfirmed") or 0)
    drill.check("redrive lambda --limit 777: moved + unconfirmed", limited, 777)
    drill.check(
        "thumbnailer invocations after --limit 777",
        len(invoked(THUMBNAILER, 0)),
        eu + (shown.get("moved") or 0),
    )
    moved = to_function("lambda rest", THUMBNAILER_DLQ, THUMBNAILER)
    drill.check(
        "redrive lambda (rest) moved in all",
        moved,
        seeded[THUMBNAILER_DLQ] - eu - (shown.get("moved") or 0),
    )
    calls = invoked(THUMBNAILER, 0)
    keys = Counter(c.payload["key"] for c in calls)
    exactly_once("thumbnailer", "invocations in all", THUMBNAILER_DLQ, keys, "payload")
    drill.check("resizer (another function) invoked", len(lambdas.calls_to(RESIZER)), 0)
    drill.check(f"{THUMBNAILER_DLQ} depth after", depth(sqs, urls[THUMBNAILER_DLQ]), 0)

    # 3e. on-failure destination records -> invoice-pdf, their requestPayload; the text summary
    code, text, took = drill.cli("redrive-on-failure-text", "redrive", INVOICE_PDF_FAILURES)
    rows = _rows(text)
    shown_moved, kept = rows.get("moved", 0), rows.get("unconfirmed (kept in DLQ)", 0)
    drill.check("redrive on-failure exit status (1 if unconfirmed)", code, 1 if kept else 0)
    drill.check(
        "redrive on-failure (text) moved + unconfirmed",
        shown_moved + kept,
        seeded[INVOICE_PDF_FAILURES],
    )
    drill.check(
        "redrive on-failure (text) scanned", rows.get("scanned"), seeded[INVOICE_PDF_FAILURES]
    )
    duration = next((ln for ln in text.splitlines() if ln.startswith("duration")), "")
    seconds, rate = duration.split()[1].rstrip("s"), duration.split("(")[-1].split()[0]
    # The duration is shown to 0.01 s: the rate shown must lie within what that rounding allows.
    fastest, slowest = (
        shown_moved / (float(seconds) - 0.005),
        shown_moved / (float(seconds) + 0.005),
    )
    drill.check(
        "redrive on-failure (text) msg/s = moved / duration (within the duration's rounding)",
        int(rate),
        f"{slowest:.1f}..{fastest:.1f}",
        ok=slowest - 0.5 <= int(rate) <= fastest + 0.5,
    )
    destination = next((ln for ln in text.splitlines() if ln.strip().startswith("→")), "")
    drill.check(
        "redrive on-failure (text) destination line",
        destination.strip(),
        f"→ lambda {INVOICE_PDF} (async invoke; the on-failure record's requestPayload): "
        f"{shown_moved:,}",
    )
    drill.check("invoice-pdf invoked = moved (text)", len(invoked(INVOICE_PDF, 0)), shown_moved)
    if rows.get("unconfirmed (kept in DLQ)"):
        to_function("on-failure again", INVOICE_PDF_FAILURES, INVOICE_PDF)
    calls = invoked(INVOICE_PDF, 0)
    drill.check("invoice-pdf invocations", len(calls), seeded[INVOICE_PDF_FAILURES])
    drill.check(
        "invoice-pdf got the requestPayloads, each once",
        sorted(c.payload.get("invoiceId") for c in calls),
        sorted(m["id"] for m in ledger.messages[INVOICE_PDF_FAILURES]),
    )

    # 3f. plain SQS DLQ: yesterday's only, back to its source
    yesterday = count(PAYMENTS_DLQ, day=d1)
    code, shown, took = redrive(
        "redrive-sqs-day", PAYMENTS_DLQ, "--date", d1, "--time-field", "occurredAt"
    )
    drill.check("redrive sqs --date D-1 exit status", code, 0)
    drill.check("redrive sqs --date D-1 moved", shown.get("moved"), yesterday)
    throughput("sqs DLQ -> its source", shown, shown.get("moved") or 0, took)
    got = _received(sqs, urls[PAYMENTS])
    drill.check(
        "payments received exactly yesterday's",
        sorted(json.loads(m["Body"])["id"] for m in got),
        sorted(m["id"] for m in ledger.messages[PAYMENTS_DLQ] if m["day"] == d1),
    )
    drill.check(
        f"{PAYMENTS_DLQ} depth after",
        depth(sqs, urls[PAYMENTS_DLQ]),
        seeded[PAYMENTS_DLQ] - yesterday,
    )
    drill.check(f"{REFUNDS_DLQ} untouched", depth(sqs, urls[REFUNDS_DLQ]), seeded[REFUNDS_DLQ])

    # 4. the list an engineer reads afterwards
    code, stdout, _ = drill.cli("list-after", "--json", "list", "--no-expiry")
    after = {row["name"]: row.get("visible") for row in _json(stdout)["dlqs"]}
    drill.check(
        "list after: what is left",
        after,
        {
            BILLING_DLQ: 0,
            INVOICE_PDF_FAILURES: 0,
            EMAILS_DLQ: 0,
            NOTIFIER_DLQ: 0,
            PAYMENTS_DLQ: seeded[PAYMENTS_DLQ] - yesterday,
            REFUNDS_DLQ: seeded[REFUNDS_DLQ],
            THUMBNAILER_DLQ: 0,
        },
    )
    drill.check("local Lambda server: invocations that raised", len(lambdas.errors()), 0)


if __name__ == "__main__":
    raise SystemExit(main())
