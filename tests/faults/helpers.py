"""Scenes and checks shared by the fault-injection and hostile-input tests (moto, small queues)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.catalog import DlqCatalog
from bot.config import EngineSettings
from bot.engine import RedriveEngine
from bot.pacing import Deadline
from bot.redrive_model import RedriveReport, RedriveRequest
from bot.sqs_gateway import SqsGateway

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def dlq_snapshot(sqs: SQSClient, url: str) -> dict[str, str]:
    """{message id: body} of every message in a queue, left visible again afterwards."""
    seen: dict[str, str] = {}
    handles: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not got:
            break
        for message in got:
            seen[message["MessageId"]] = message["Body"]
            handles.append(message["ReceiptHandle"])
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(handles[start : start + 10])
            ],
        )
    return seen


def redrive(
    client: SQSClient | SqsGateway | None,
    dlq_name: str,
    *,
    deadline: Deadline | None = None,
    **request: Any,
) -> RedriveReport:
    """Run the engine on ``dlq_name`` with an SQS client of the test's choosing for every call,
    a gateway of its choosing, or (``None``) the production gateway's clients (the one for
    sends does not retry)."""
    gateway = client if isinstance(client, SqsGateway) else SqsGateway(client)
    settings = EngineSettings.from_env({"TIMEZONE": "UTC"})
    dlq = DlqCatalog(gateway, settings).get(dlq_name)
    engine = RedriveEngine(gateway, max_redrives=settings.max_redrives, timezone=settings.timezone)
    return engine.run(dlq, RedriveRequest(**request), deadline=deadline)


@dataclass(frozen=True)
class Outcome:
    """Where every message ended up after a run (both queues drained to find out)."""

    in_destination: Counter[str]  # body -> copies
    in_dlq: dict[str, str]  # message id -> body

    @property
    def duplicates(self) -> int:
        return sum(copies - 1 for copies in self.in_destination.values())


def outcome(sqs: SQSClient, dlq_url: str, destination_url: str) -> Outcome:
    from infra.local.scene import drain

    moved = Counter(m["Body"] for m in drain(sqs, destination_url))
    left = {m["MessageId"]: m["Body"] for m in drain(sqs, dlq_url)}
    return Outcome(moved, left)


def assert_conserved(before: dict[str, str], after: Outcome, *, max_duplicates: int = 0) -> None:
    """Every message is in the destination or still in the DLQ under its own id; none lost,
    none in both, and at most ``max_duplicates`` extra copies in the destination."""
    bodies = set(before.values())
    moved = set(after.in_destination)
    left = set(after.in_dlq.values())
    assert moved | left == bodies, f"lost: {sorted(bodies - moved - left)[:5]}"
    assert not moved & left, f"in both queues: {sorted(moved & left)[:5]}"
    assert not moved - bodies and not left - bodies, "messages that were never sent appeared"
    for message_id, body in after.in_dlq.items():
        assert before.get(message_id) == body, "a message left in the DLQ changed"
    assert after.duplicates <= max_duplicates
